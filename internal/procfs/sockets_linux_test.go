package procfs

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// openSockets opens n unbound UDP sockets and returns their inodes; they
// are closed at cleanup.
func openSockets(tb testing.TB, n int) []uint64 {
	tb.Helper()
	inodes := make([]uint64, 0, n)
	for range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			tb.Skipf("socket %d of %d: %v (nofile limit?)", len(inodes)+1, n, err)
		}
		tb.Cleanup(func() { unix.Close(fd) })
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			tb.Fatal(err)
		}
		inodes = append(inodes, uint64(st.Ino))
	}
	return inodes
}

func TestSocketInodes(t *testing.T) {
	mine := openSockets(t, 100)

	// A socket held only by a child is attributed to the child.
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	f := os.NewFile(uintptr(fd), "child-socket")
	var st unix.Stat_t
	unix.Fstat(fd, &st)
	cmd := exec.Command("sleep", "30")
	cmd.ExtraFiles = []*os.File{f}
	if err := cmd.Start(); err != nil {
		t.Skip("cannot start sleep:", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	f.Close()

	var m map[uint64]int32
	var stats ScanStats
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m, stats, err = SocketInodesStats("/"); err != nil {
			t.Fatal(err)
		}
		if m[uint64(st.Ino)] == int32(cmd.Process.Pid) {
			break
		}
	}
	for _, ino := range mine {
		if m[ino] != int32(os.Getpid()) {
			t.Fatalf("inode %d -> pid %d, want %d", ino, m[ino], os.Getpid())
		}
	}
	if got := m[uint64(st.Ino)]; got != int32(cmd.Process.Pid) {
		t.Errorf("child socket -> pid %d, want %d", got, cmd.Process.Pid)
	}
	if stats.Processes < 2 || stats.FDs < len(mine) {
		t.Errorf("stats = %+v", stats)
	}
	t.Logf("%d sockets, stats %+v", len(m), stats)
}

func TestSocketInodesMissingRoot(t *testing.T) {
	if _, err := SocketInodes(hostfs.Root(t.TempDir())); err == nil {
		t.Error("want an error for a root without /proc")
	}
}

func TestParseSocketLink(t *testing.T) {
	for in, want := range map[string]uint64{"socket:[123]": 123, "socket:[18446744073709551615]": 1<<64 - 1} {
		if got, ok := parseSocketLink([]byte(in)); !ok || got != want {
			t.Errorf("%q = %d %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "socket:[]", "socket:[12", "socket:[x]", "pipe:[12]", "/dev/null", "anon_inode:[eventfd]", "socket:[-1]"} {
		if _, ok := parseSocketLink([]byte(in)); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// BenchmarkSocketInodes10k times one pass with 10,000 sockets open in
// this process (the ListeningPorts target is ≤ 80 ms including pid
// attribution). Run: go test -run '^$' -bench SocketInodes ./internal/procfs
func BenchmarkSocketInodes10k(b *testing.B) {
	openSockets(b, 10_000)
	b.ResetTimer()
	for b.Loop() {
		m, err := SocketInodes("/")
		if err != nil || len(m) < 10_000 {
			b.Fatalf("%d sockets, %v", len(m), err)
		}
	}
}
