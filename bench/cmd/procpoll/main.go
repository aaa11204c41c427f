// Command procpoll is the "/proc poller" peer of the bench suite: every
// interval it lists /proc, reads the command line of each process it has
// not seen in the previous pass, and prints those that start with a
// prefix, one per line. It stands for the cheapest tool an operator could
// write without kernel support, so its capture shows what polling misses.
//
//	procpoll -interval 100ms -prefix "/bin/true azis-bench" -duration 5m
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxCmdline bounds one /proc/<pid>/cmdline read.
const maxCmdline = 4096

func main() {
	interval := flag.Duration("interval", 100*time.Millisecond, "time between passes (≥ 1ms)")
	prefix := flag.String("prefix", "", "print command lines that start with this")
	dur := flag.Duration("duration", 10*time.Minute, "stop after this long (≤ 2h)")
	root := flag.String("proc", "/proc", "proc filesystem")
	flag.Parse()
	if *interval < time.Millisecond || *dur <= 0 || *dur > 2*time.Hour {
		fmt.Fprintln(os.Stderr, "procpoll: need -interval ≥ 1ms and 0 < -duration ≤ 2h")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *dur)
	defer cancel()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	if err := poll(ctx, *root, *interval, *prefix, out); err != nil {
		fmt.Fprintln(os.Stderr, "procpoll:", err)
		out.Flush()
		os.Exit(1)
	}
}

// poll runs passes until ctx ends. seen holds only the pids of the last
// pass, so it is bounded by the number of live processes.
func poll(ctx context.Context, root string, interval time.Duration, prefix string, out *bufio.Writer) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	seen := map[int]struct{}{}
	buf := make([]byte, maxCmdline)
	for {
		next, err := pass(root, prefix, seen, buf, out)
		if err != nil {
			return err
		}
		seen = next
		if err := out.Flush(); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func pass(root, prefix string, seen map[int]struct{}, buf []byte, out *bufio.Writer) (map[int]struct{}, error) {
	d, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	next := make(map[int]struct{}, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		next[pid] = struct{}{}
		if _, ok := seen[pid]; ok {
			continue
		}
		cl, ok := readCmdline(filepath.Join(root, name, "cmdline"), buf)
		if ok && strings.HasPrefix(cl, prefix) {
			fmt.Fprintln(out, cl)
		}
	}
	return next, nil
}

// readCmdline reads at most len(buf) bytes; a process that exits
// meanwhile is simply missed, which is what a poller does.
func readCmdline(path string, buf []byte) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	n, _ := f.Read(buf)
	if n == 0 {
		return "", false
	}
	return commandLine(buf[:n]), true
}
