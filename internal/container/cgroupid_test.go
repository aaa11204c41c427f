package container

import (
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

func lines(t testing.TB, s string) []procfs.CgroupLine {
	t.Helper()
	l, err := procfs.ParseCgroup(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestParseID(t *testing.T) {
	a, b := strings.Repeat("a", 64), strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name, cgroup string
		id, runtime  string
	}{
		{name: "docker cgroupfs, v1 hybrid", cgroup: "9:name=systemd:/docker/" + a + "\n8:pids:/docker/" + a + "\n0::/docker/" + a + "\n", id: a, runtime: RuntimeDocker},
		{name: "v2 root falls back to name=systemd", cgroup: "9:name=systemd:/docker/" + a + "\n0::/\n", id: a, runtime: RuntimeDocker},
		{name: "falls back to pids", cgroup: "8:pids:/docker/" + a + "\n4:memory:/\n0::/\n", id: a, runtime: RuntimeDocker},
		{name: "any controller last", cgroup: "4:memory:/docker/" + a + "\n0::/user.slice\n", id: a, runtime: RuntimeDocker},
		{name: "v2 line preferred over v1", cgroup: "9:name=systemd:/docker/" + b + "\n0::/docker/" + a + "\n", id: a, runtime: RuntimeDocker},
		{name: "docker systemd driver", cgroup: "0::/system.slice/docker-" + a + ".scope\n", id: a, runtime: RuntimeDocker},
		{name: "systemd inside the container", cgroup: "0::/system.slice/docker-" + a + ".scope/init.scope\n", id: a, runtime: RuntimeDocker},
		{name: "cri-containerd in kubepods", cgroup: "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1_2.slice/cri-containerd-" + a + ".scope\n", id: a, runtime: RuntimeContainerd},
		{name: "kubepods cgroupfs", cgroup: "0::/kubepods/besteffort/pod0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b/" + a + "\n", id: a, runtime: RuntimeUnknown},
		{name: "crio scope", cgroup: "0::/kubepods.slice/crio-" + a + ".scope\n", id: a, runtime: RuntimeCRIO},
		{name: "crio cgroupfs", cgroup: "0::/kubepods/crio-" + a + "\n", id: a, runtime: RuntimeCRIO},
		{name: "podman", cgroup: "0::/machine.slice/libpod-" + a + ".scope/container\n", id: a, runtime: RuntimePodman},
		{name: "docker in docker: innermost", cgroup: "0::/docker/" + a + "/docker/" + b + "\n", id: b, runtime: RuntimeDocker},
		{name: "crio conmon is not the container", cgroup: "0::/machine.slice/crio-conmon-" + a + ".scope\n"},
		{name: "libpod conmon is not the container", cgroup: "0::/machine.slice/libpod-conmon-" + a + ".scope\n"},
		{name: "host process", cgroup: "9:name=systemd:/\n4:memory:/process_api/6affae0b3af966715a79e433f0b49429\n0::/\n"},
		{name: "user session", cgroup: "0::/user.slice/user-1000.slice/session-3.scope\n"},
		{name: "uppercase hex", cgroup: "0::/docker/" + strings.ToUpper(a) + "\n"},
		{name: "63 digits", cgroup: "0::/docker/" + a[1:] + "\n"},
		{name: "no lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, rt, ok := ParseID(lines(t, tt.cgroup))
			if id != tt.id || rt != tt.runtime || ok != (tt.id != "") {
				t.Errorf("ParseID = %q %q %v, want %q %q", id, rt, ok, tt.id, tt.runtime)
			}
		})
	}
}
