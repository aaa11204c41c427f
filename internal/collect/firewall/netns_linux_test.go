package firewall

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// netns is a thread in a private network namespace the test created:
// every function given to do runs there, and so do the commands it
// starts and the sockets it opens. The host's rules are never touched.
type netns struct {
	work chan func()
}

// newNetns skips the test when a namespace cannot be made (not root, no
// CAP_SYS_ADMIN). The thread exits with the test: a goroutine that ends
// locked takes its thread (and the namespace) with it.
func newNetns(t testing.TB) *netns {
	t.Helper()
	ns := &netns{work: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the namespace
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range ns.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Skipf("cannot create a network namespace (need root): %v", err)
	}
	t.Cleanup(func() { close(ns.work) })
	return ns
}

// do runs f on the namespace's thread and waits for it.
func (ns *netns) do(f func()) {
	done := make(chan struct{})
	ns.work <- func() { defer close(done); f() }
	<-done
}

// run runs a command inside the namespace, failing the test on error.
func (ns *netns) run(t testing.TB, stdin string, name string, args ...string) {
	t.Helper()
	var out []byte
	var err error
	ns.do(func() {
		cmd := exec.Command(name, args...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// needTools skips the test unless every tool is installed.
func needTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install iptables nftables): %v", tool, err)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
}

// join returns another thread in the same namespace, for a part that
// blocks (Watch) while the test changes rules through ns.
func (ns *netns) join(t testing.TB) *netns {
	t.Helper()
	var fd int
	var err error
	ns.do(func() { fd, err = unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0) })
	if err != nil {
		t.Fatalf("open netns: %v", err)
	}
	defer unix.Close(fd)
	other := &netns{work: make(chan func())}
	ready := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked, as in newNetns
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			ready <- err
			return
		}
		ready <- nil
		for f := range other.work {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Fatalf("setns: %v", err)
	}
	t.Cleanup(func() { close(other.work) })
	return other
}

// applyRules runs tool once per line of an iptables rules file.
func (ns *netns) applyRules(t testing.TB, tool, file string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		args, err := splitArgs(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		ns.run(t, "", tool, args...)
	}
}
