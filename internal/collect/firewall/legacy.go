package firewall

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

const (
	// maxSaveOutput bounds iptables-legacy-save output (about 50,000 rules).
	maxSaveOutput = 16 << 20
	// saveTimeout bounds one run of iptables-legacy-save.
	saveTimeout = 10 * time.Second
)

// legacySource is one address family of the x_tables (iptables-legacy)
// backend. Its rules are invisible to the nftables netlink API.
type legacySource struct {
	family string
	names  string // file under /proc/<thread>/net listing the loaded tables
	binary string
}

var legacySources = []legacySource{
	{"ip", "ip_tables_names", "iptables-legacy-save"},
	{"ip6", "ip6_tables_names", "ip6tables-legacy-save"},
}

// errLegacyUnreadable means legacy tables exist but no tool can read them.
var errLegacyUnreadable = errors.New("iptables-legacy rules not reported")

// ownProc is the module's own /proc, not the host root's: the net
// directory of a thread follows the thread's network namespace (the
// host's, with host networking), so this needs no /proc bind and stays
// right in a test's private namespace.
const ownProc hostfs.Root = "/"

// legacyTables lists the x_tables tables the kernel has instantiated for
// src, or none. The per-thread path matters: /proc/self/net is the
// namespace of the main thread, a test's private netns is a thread's.
func legacyTables(root hostfs.Root, src legacySource) ([]string, error) {
	b, err := root.ReadFile(4096, "proc", "thread-self", "net", src.names)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // x_tables not built or not loaded
	}
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(b)), nil
}

// readLegacy reads the rules of both families when their legacy tables
// exist. Only reading those names is free: asking the kernel for a table
// that is not listed would instantiate it, which a monitor must not do.
// The listed tables are read natively (readXtables); iptables-legacy-save,
// when installed, is the fallback if the kernel refuses that (e.g. a
// layout this reader does not know). The scratch image has no such tool.
func (c *Collector) readLegacy(ctx context.Context) ([]event.FirewallRule, error) {
	var items []event.FirewallRule
	var errs []error
	for _, src := range legacySources {
		names, err := legacyTables(ownProc, src)
		if err != nil {
			errs = append(errs, fmt.Errorf("list %s legacy tables: %w", src.family, err))
			continue
		}
		if len(names) == 0 {
			continue
		}
		native, nativeErr := c.readXt(src.family, names)
		if nativeErr == nil {
			items = append(items, native...)
			continue
		}
		saved, err := c.readSave(ctx, src, names)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w; %w", nativeErr, err))
			continue
		}
		c.log.WithError(nativeErr).WithField("tool", src.binary).Debug("x_tables read natively failed; read with the tool")
		items = append(items, saved...)
	}
	return items, errors.Join(errs...)
}

// readSave reads one family's legacy rules with iptables-legacy-save.
func (c *Collector) readSave(ctx context.Context, src legacySource, names []string) ([]event.FirewallRule, error) {
	path, err := c.lookPath(src.binary)
	if err != nil {
		return nil, fmt.Errorf("%s legacy tables %s present but %s not found: %w", src.family, strings.Join(names, ","), src.binary, errLegacyUnreadable)
	}
	out, err := runSave(ctx, path)
	if err != nil {
		return nil, err
	}
	tables, bad, err := parseSave(bytes.NewReader(out))
	if err != nil {
		return nil, err
	}
	if len(bad) > 0 {
		c.log.WithField("tool", src.binary).WithField("lines", len(bad)).WithField("first", bad[0].Error()).Warn("skipped malformed iptables-save lines")
	}
	return iptablesItems(src.family, tables), nil
}

func runSave(ctx context.Context, path string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, saveTimeout)
	defer cancel()
	stdout := &limitedBuffer{n: maxSaveOutput}
	stderr := &limitedBuffer{n: 1024, quiet: true}
	cmd := exec.CommandContext(ctx, path)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("run %s: %w (%s)", path, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps at most n bytes. Beyond, it fails the write (which
// stops the command instead of buffering without bound) or, when quiet,
// drops the excess.
type limitedBuffer struct {
	bytes.Buffer
	n     int
	quiet bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.Len(); len(p) > room {
		if !l.quiet {
			return 0, fmt.Errorf("output exceeds %d bytes", l.n)
		}
		l.Buffer.Write(p[:max(room, 0)])
		return len(p), nil
	}
	return l.Buffer.Write(p)
}
