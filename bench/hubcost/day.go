// Package hubcost measures what a synthetic day of a typical edge device
// costs in IoT Hub messages and 4 KB billing blocks: once through the
// module's real pipeline (time-compressed, with an injected clock), and
// once through the retired C# agent's queueing and packing rules,
// reimplemented here as a baseline over the same events.
package hubcost

import (
	"fmt"
	"sort"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Timed is one event of the synthetic day, at an offset from its start.
type Timed struct {
	At time.Duration
	Ev event.Event
}

// Day is the workload: the default twin's snapshots every 13 h, a process
// started (and ended) every 30 s out of 20 recurring command lines (cron,
// health checks, container probes), an outbound connection every minute to
// one of 10 endpoints, and 6 logins. Deterministic, sorted by time.
func Day(start time.Time) []Timed {
	var out []Timed
	add := func(at time.Duration, name string, items ...any) {
		out = append(out, Timed{at, event.New(name, start.Add(at), items...)})
	}
	for _, at := range []time.Duration{0, 13 * time.Hour} {
		add(at, event.NameSystemInformation, sysInfo())
		add(at, event.NameLocalUsers, localUsers(25)...)
		add(at, event.NameListeningPorts, listening(8)...)
		add(at, event.NameConnectedHardware, hardware(15)...)
	}
	rnd := uint32(7)
	next := func(n uint32) uint32 { rnd = rnd*1664525 + 1013904223; return (rnd >> 8) % n }
	for at := 30 * time.Second; at < 24*time.Hour; at += 30 * time.Second {
		c := next(uint32(len(commands)))
		pid := int64(2000 + next(30000))
		add(at, event.NameProcessCreate, event.ProcessCreate{
			Executable: commands[c][0], ProcessID: pid, ParentProcessID: 1, UserID: "0", UserName: "root",
			CommandLine: commands[c][1],
		})
		add(at+400*time.Millisecond, event.NameProcessTerminate, event.ProcessTerminate{
			Executable: commands[c][0], ProcessID: pid, ExitStatus: 0,
		})
	}
	for at := 45 * time.Second; at < 24*time.Hour; at += time.Minute {
		e := next(10)
		add(at, event.NameConnectionCreate, event.ConnectionCreate{
			RemoteAddress: fmt.Sprintf("20.50.%d.%d", e, 10+e), RemotePort: "443", LocalAddress: "192.168.1.20",
			LocalPort: fmt.Sprint(40000 + next(20000)), Direction: "Out", Protocol: "tcp", ProcessID: 900 + int64(e),
			UserID: "0", Executable: "/usr/bin/edge-agent", CommandLine: "/usr/bin/edge-agent --config /etc/edge/config.toml",
		})
	}
	for i := range 6 {
		add(time.Duration(3+i*4)*time.Hour, event.NameLogin, event.Login{
			ProcessID: 5000 + int64(i), UserName: "operator", Operation: "Login", Executable: "/usr/sbin/sshd",
			RemoteAddress: "192.168.1.5", RemotePort: "51514", LocalPort: "22", Result: "Success",
		})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

var commands = func() [][2]string {
	var c [][2]string
	for _, s := range []string{"logrotate /etc/logrotate.conf", "run-parts --report /etc/cron.hourly", "apt-get -qq update",
		"systemctl is-active iotedge", "df -P /var/lib/docker", "ip -j addr", "journalctl --vacuum-size=200M",
		"chronyc tracking", "docker inspect edgeHub", "docker inspect edgeAgent", "curl -fsS http://127.0.0.1:9600/healthz",
		"sh -c /opt/vendor/health.sh", "cat /sys/class/thermal/thermal_zone0/temp", "free -m", "uptime", "sync",
		"find /tmp -mtime +7 -delete", "iotedge check --output json", "mosquitto_pub -t status -m ok", "sleep 30"} {
		c = append(c, [2]string{"/usr/bin/" + firstWord(s), s})
	}
	return c
}()

func firstWord(s string) string {
	for i := range len(s) {
		if s[i] == ' ' {
			return s[:i]
		}
	}
	return s
}

func sysInfo() event.SystemInformation {
	kb := func(v int64) *int64 { return &v }
	return event.SystemInformation{OSName: "Linux", OSVersion: "12 (kernel 6.1.0-18-arm64)", OSVendor: "Debian",
		OsArchitecture: "arm64", HostName: "edge-device-0042", BIOSVersion: "2024.01", BootDevice: "/dev/mmcblk0p2",
		TotalPhysicalMemoryInKB: kb(3884432), FreePhysicalMemoryInKB: kb(2213360),
		TotalVirtualMemoryInKB: kb(3884432), FreeVirtualMemoryInKB: kb(2213360),
		ExtraDetails: map[string]string{"OSPrettyName": "Debian GNU/Linux 12 (bookworm)", "KernelRelease": "6.1.0-18-arm64"}}
}

func localUsers(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = event.LocalUser{UserName: fmt.Sprintf("svc%02d", i), UserID: fmt.Sprint(100 + i), GroupNames: "nogroup",
			GroupIDs: "65534", ExtraDetails: map[string]string{"Home": "/nonexistent", "Shell": "/usr/sbin/nologin"}}
	}
	return items
}

func listening(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = event.ListeningPort{Protocol: "tcp", LocalAddress: "0.0.0.0", LocalPort: fmt.Sprint(8000 + i),
			ExtraDetails: map[string]string{"Pid": fmt.Sprint(700 + i), "Executable": "/usr/bin/dockerd", "UserName": "root"}}
	}
	return items
}

func hardware(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = event.ConnectedHardware{HardwareCategory: "USB", HardwareSubCategory: "Device",
			HardwareName: fmt.Sprintf("Vendor %d Serial Adapter", i), ExtraDetails: map[string]string{"Bus": "001", "Device": fmt.Sprint(i + 2)}}
	}
	return items
}
