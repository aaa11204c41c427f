package container

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// TestDockerEndToEnd starts an isolated dockerd (own data root, exec
// root and socket; no iptables, no bridge), runs a busybox container
// labelled as an IoT Edge module with no network, and attributes its
// process from the real /proc and the real config.v2.json
// (kernel-sources.md §7). It skips without root, dockerd, the docker CLI
// or busybox (apt: docker.io busybox-static), or when dockerd cannot
// start. Everything is removed at the end.
func TestDockerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dockerd; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to run dockerd")
	}
	bins := map[string]string{}
	for _, b := range []string{"dockerd", "docker", "busybox"} {
		p, err := exec.LookPath(b)
		if err != nil {
			t.Skipf("%s not installed (apt-get install docker.io busybox-static): %v", b, err)
		}
		bins[b] = p
	}
	tmp := t.TempDir()
	sock := filepath.Join(tmp, "d.sock")
	dataRoot := filepath.Join(tmp, "data")
	cleanupHostDirs(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var dlog bytes.Buffer
	daemon := exec.Command(bins["dockerd"], "--data-root", dataRoot, "--exec-root", filepath.Join(tmp, "exec"),
		"--pidfile", filepath.Join(tmp, "d.pid"), "-H", "unix://"+sock,
		"--iptables=false", "--ip6tables=false", "--bridge=none")
	daemon.Stdout, daemon.Stderr = &dlog, &dlog
	if err := daemon.Start(); err != nil {
		t.Skipf("dockerd: %v", err)
	}
	// Registered after TempDir's cleanup, so it runs first: dockerd must
	// unmount its overlays before the directory is removed.
	t.Cleanup(func() { stopDaemon(t, daemon) })

	docker := func(stdin []byte, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, bins["docker"], append([]string{"-H", "unix://" + sock}, args...)...)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for {
		if _, err := docker(nil, "version"); err == nil {
			break
		}
		if ctx.Err() != nil || daemon.ProcessState != nil {
			t.Skipf("dockerd did not come up:\n%s", dlog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	// No registry is reachable: import a one-binary busybox rootfs.
	rootfs := filepath.Join(tmp, "rootfs")
	os.MkdirAll(filepath.Join(rootfs, "bin"), 0o755)
	bb, err := os.ReadFile(bins["busybox"])
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(rootfs, "bin", "busybox"), bb, 0o755)
	os.Symlink("busybox", filepath.Join(rootfs, "bin", "sleep"))
	tarball, err := exec.Command("tar", "-C", rootfs, "-c", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	const image = "azureiotsecurity-test/busybox:1"
	if out, err := docker(tarball, "import", "-", image); err != nil {
		t.Fatalf("docker import: %v\n%s", err, out)
	}
	cid, err := docker(nil, "run", "-d", "--network", "none", "--name", "tempSensor",
		"--label", LabelOwner+"="+OwnerEdgeAgent, image, "/bin/sleep", "120")
	if err != nil {
		t.Fatalf("docker run: %v\n%s\n%s", err, cid, dlog.String())
	}
	t.Cleanup(func() { docker(nil, "rm", "-f", cid); docker(nil, "rmi", image) })
	out, err := docker(nil, "inspect", "-f", "{{.State.Pid}}", cid)
	pid, perr := strconv.Atoi(out)
	if err != nil || perr != nil || pid <= 0 {
		t.Fatalf("inspect pid: %v %v %q", err, perr, out)
	}

	reader, err := procfs.NewReader("/")
	if err != nil {
		t.Fatal(err)
	}
	p, err := reader.ReadProcess(int32(pid))
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver("/", Options{DockerRoots: []string{dataRoot}})
	info, ok := r.Lookup(p.Cgroup)
	want := Info{ID: cid, Name: "tempSensor", Image: image, Module: "tempSensor", Runtime: RuntimeDocker, IsIoTEdge: true}
	if !ok || info != want {
		t.Errorf("Lookup = %+v, %v; want %+v\ncgroup: %+v", info, ok, want, p.Cgroup)
	}
	if p.Exe != "/bin/busybox" || p.CommandLine != "/bin/sleep 120" {
		t.Errorf("container process = exe %q cmdline %q (paths are the container's)", p.Exe, p.CommandLine)
	}
	// This test process itself is on the host.
	self, err := reader.ReadProcess(int32(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if info, ok := r.Lookup(self.Cgroup); ok {
		t.Errorf("host process attributed to %+v", info)
	}
}

// stopDaemon stops dockerd by its pid and waits; containerd, started by
// dockerd, stops with it.
func stopDaemon(t *testing.T, d *exec.Cmd) {
	d.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { d.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Log("dockerd did not stop on SIGTERM: killing it")
		d.Process.Kill()
		<-done
	}
}

// cleanupHostDirs removes, at the end, the host directories dockerd
// creates outside its roots (the "docker" cgroup parents, /etc/docker,
// /run/containerd) that did not exist before the test; cgroup dirs are
// only removed when empty (rmdir).
func cleanupHostDirs(t *testing.T) {
	var created []string
	candidates := []string{"/etc/docker", "/run/containerd", "/run/docker"}
	cg, _ := filepath.Glob("/sys/fs/cgroup/*")
	for _, c := range cg {
		candidates = append(candidates, filepath.Join(c, "docker"))
	}
	for _, c := range candidates {
		if _, err := os.Lstat(c); os.IsNotExist(err) {
			created = append(created, c)
		}
	}
	t.Cleanup(func() {
		for _, c := range created {
			if strings.HasPrefix(c, "/sys/fs/cgroup/") {
				// The container's own cgroup goes away asynchronously
				// after its last task is reaped: retry while busy.
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					err := syscall.Rmdir(c)
					if err == nil || os.IsNotExist(err) {
						break
					}
					if time.Now().After(deadline) {
						t.Logf("leftover cgroup %s: %v", c, err)
						break
					}
				}
			} else {
				os.RemoveAll(c)
			}
		}
	})
}
