package hardware

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
)

// waitFor polls cond with a generous deadline; timing is never asserted.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sender is a second uevent socket that unicasts crafted messages to the
// watcher's port, as root may. Its messages come from its own port, not
// from the kernel's port 0.
type sender struct {
	fd   int
	port uint32
}

func newSender(t *testing.T) *sender {
	t.Helper()
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		t.Skipf("no NETLINK_KOBJECT_UEVENT socket: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		t.Fatal(err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return &sender{fd: fd, port: sa.(*unix.SockaddrNetlink).Pid}
}

func (s *sender) send(t *testing.T, to uint32, b []byte) {
	t.Helper()
	err := unix.Sendto(s.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Pid: to})
	if errors.Is(err, unix.EPERM) {
		t.Skipf("sending uevents needs CAP_NET_ADMIN: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// startWatch runs the watcher on a real socket until the test ends.
func startWatch(t *testing.T, trust uint32, trigger func(Change)) (*Collector, *ueventConn) {
	t.Helper()
	c := newCollector(t, collect.Deps{Root: "testdata/host"})
	conn, err := listenUevents(kernelGroup)
	if err != nil {
		t.Skipf("uevent socket unavailable: %v", err)
	}
	if trust != 0 {
		conn.trusted = func(port uint32, uid int64) bool { return kernelOnly(port, uid) || (port == trust && uid == 0) }
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.watch(ctx, conn, trigger) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("watch: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("watch did not stop")
		}
	})
	return c, conn
}

func count(c *Collector, result string) float64 {
	return testutil.ToFloat64(c.metrics.uevents.WithLabelValues(result))
}

func TestWatchInjectedUevent(t *testing.T) {
	s := newSender(t)
	got := make(chan Change, 10)
	c, conn := startWatch(t, s.port, func(ch Change) { got <- ch })

	s.send(t, conn.port, []byte("libudev\x00\xfe\xed\xca\xfe"))
	s.send(t, conn.port, msg("bind@/devices/u/1-1", "ACTION=bind", "DEVPATH=/devices/u/1-1", "SUBSYSTEM=usb", "DEVTYPE=usb_device"))
	s.send(t, conn.port, usbAdd)
	select {
	case ch := <-got:
		want := Change{Action: "add", Subsystem: "usb", DevPath: "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2", Seq: 4711}
		if ch != want {
			t.Errorf("trigger got %+v, want %+v", ch, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("trigger not called")
	}
	waitFor(t, "the other messages counted", func() bool {
		return count(c, ueventMalformed) == 1 && count(c, ueventIgnored) == 1 && count(c, ueventTrigger) == 1
	})
}

// TestWatchRejectsUserSpace: by default only the kernel is believed; any
// root process could otherwise fake a device.
func TestWatchRejectsUserSpace(t *testing.T) {
	s := newSender(t)
	c, conn := startWatch(t, 0, func(ch Change) { t.Errorf("trigger called for a forged uevent: %+v", ch) })
	s.send(t, conn.port, usbAdd)
	waitFor(t, "the forged uevent rejected", func() bool { return count(c, ueventRejected) == 1 })
}

// TestWatchBoundedQueue: a slow trigger never blocks the reader; changes
// beyond the queue are counted as dropped.
func TestWatchBoundedQueue(t *testing.T) {
	s := newSender(t)
	release := make(chan struct{})
	c, conn := startWatch(t, s.port, func(Change) { <-release })
	defer close(release)
	const n = 3 * maxPendingChanges
	for range n {
		s.send(t, conn.port, usbAdd)
	}
	waitFor(t, "every uevent counted", func() bool { return count(c, ueventTrigger)+count(c, ueventDropped) == n })
	if count(c, ueventDropped) == 0 {
		t.Error("nothing dropped behind a blocked trigger")
	}
}

// TestWatchKernelUevent has the kernel itself send a uevent: writing
// "add" to a device's uevent file makes it re-announce the device.
func TestWatchKernelUevent(t *testing.T) {
	if _, err := os.Stat("/run/udev/control"); err == nil {
		t.Skip("udevd is running and would act on a synthetic add; not disturbing it")
	}
	devs, _ := filepath.Glob("/sys/bus/pci/devices/*/uevent")
	if len(devs) == 0 {
		t.Skip("no PCI device to re-announce")
	}
	dir, err := filepath.EvalSymlinks(filepath.Dir(devs[0]))
	if err != nil {
		t.Fatal(err)
	}
	want := devPath(dir)
	got := make(chan Change, 10)
	startWatch(t, 0, func(ch Change) { got <- ch })
	if err := os.WriteFile(devs[0], []byte("add"), 0o200); err != nil {
		t.Skipf("cannot synthesise a uevent: %v", err)
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ch := <-got:
			if ch.DevPath == want && ch.Action == "add" && ch.Subsystem == "pci" {
				return
			}
		case <-deadline:
			t.Fatalf("no kernel uevent for %s", want)
		}
	}
}
