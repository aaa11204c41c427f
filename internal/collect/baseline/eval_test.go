package baseline

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// spec parses one check expressed as JSON.
func spec(t *testing.T, check string) *Check {
	t.Helper()
	cs, err := parseChecks([]byte(checksFile(check)))
	if err != nil {
		t.Fatal(err)
	}
	return &cs[0]
}

// engineCase runs one check on a small host and wants a result whose
// reason contains text.
type engineCase struct {
	name   string
	files  map[string]string
	setup  mutation
	check  string
	result string
	text   string
}

func runEngine(t *testing.T, tests []engineCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := string(collecttest.WriteHost(t, tt.files))
			if tt.setup != nil {
				tt.setup(t, root)
			}
			res, reason, na := evalOn(root, spec(t, tt.check))
			if res != tt.result || !strings.Contains(reason+na, tt.text) {
				t.Errorf("got %s %q, want %s with %q", res, reason+na, tt.result, tt.text)
			}
		})
	}
}

func TestEngineFiles(t *testing.T) {
	fifo := func(t testing.TB, root string) {
		if err := syscall.Mkfifo(filepath.Join(root, "etc/fifo"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	many := map[string]string{}
	for i := 0; i <= maxGlobMatches; i++ {
		many["etc/many/f"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+strings.Repeat("y", i/26)] = ""
	}
	runEngine(t, []engineCase{
		{name: "a FIFO is not read", files: map[string]string{"etc/x": ""}, setup: fifo,
			check: `{"fileContentMatches":{"path":"/etc/fifo","pattern":"x"}}`, result: "Err", text: "not a regular file"},
		{name: "links resolve inside the root", files: map[string]string{"etc/real": "secret=1\n"},
			setup: symlink("/../../../../etc/real", "etc/link"),
			check: `{"fileContentMatches":{"path":"/etc/link","pattern":"^secret=1$"}}`, result: "Pass"},
		{name: "glob over directories", files: map[string]string{"sys/class/net/a/flags": "0x1003\n", "sys/class/net/b/flags": "0x1103\n"},
			check:  `{"fileContentNotMatches":{"path":"/sys/class/net/*/flags","pattern":"^0x[0-9a-f]*[13579bdf][0-9a-f]{2}$"}}`,
			result: "Fail", text: "/sys/class/net/b/flags line 1"},
		{name: "too many matches", files: many, check: `{"fileAbsent":{"path":"/etc/many/*"}}`, result: "Err", text: "more than 256 files match"},
		{name: "no match", files: map[string]string{"etc/x": ""}, check: `{"fileExists":{"path":"/etc/*.conf"}}`, result: "Fail", text: "no file matches /etc/*.conf"},
		{name: "exclude", files: map[string]string{"etc/passwd": "root:x:0:0::/:/bin/sh\n"},
			check: `{"fileContentNotMatches":{"path":"/etc/passwd","pattern":"^[^:]*:[^:]*:0:","exclude":"^root:"}}`, result: "Pass"},
		{name: "mode of a glob skips directories", files: map[string]string{"var/log/a": "", "var/log/d/x": ""},
			setup: chmod("var/log/a", 0o640), check: `{"fileMode":{"path":"/var/log/*","maxMode":"0640"}}`, result: "Pass"},
		{name: "content file too large", files: map[string]string{"etc/big": strings.Repeat(strings.Repeat("a", 99)+"\n", maxContentBytes/100+1)},
			check: `{"fileContentMatches":{"path":"/etc/big","pattern":"^b$"}}`, result: "Err", text: "exceeds read limit"},
	})
}

func TestEngineSystem(t *testing.T) {
	sysctlConf := map[string]string{
		"proc/sys/net/ipv4/ip_forward":     "0\n",
		"usr/lib/sysctl.d/50-default.conf": "net.ipv4.ip_forward = 1\n",
		"etc/sysctl.d/50-default.conf":     "net.ipv4.ip_forward = 0\n", // hides the vendor file of the same name
		"etc/sysctl.d/60-x.conf":           "bogus line\n",
	}
	runEngine(t, []engineCase{
		{name: "persistent sysctl", files: sysctlConf, check: `{"sysctl":{"key":"net.ipv4.ip_forward","persistent":true,"op":"eq","value":"0"}}`,
			result: "Err", text: "60-x.conf: malformed lines skipped: line 1"},
		{name: "persistent sysctl lost at reboot", files: map[string]string{"proc/sys/kernel/x": "1\n", "etc/sysctl.conf": "kernel.y=1\n"},
			check: `{"sysctl":{"key":"kernel.x","persistent":true,"op":"eq","value":"1"}}`, result: "Fail", text: "reboot loses it"},
		{name: "malformed shadow cannot pass", files: map[string]string{"etc/shadow": "root:!:1:0:99999:7:::\nbroken\n"},
			check: `{"shadowPolicy":{"rule":"noEmptyPasswords"}}`, result: "Err", text: "line 2"},
		{name: "malformed shadow still fails", files: map[string]string{"etc/shadow": "broken\nempty::1:0:99999:7:::\n"},
			check: `{"shadowPolicy":{"rule":"noEmptyPasswords"}}`, result: "Fail", text: "empty"},
		{name: "module loaded", files: map[string]string{"proc/modules": "usb_storage 1 0 - Live 0x0\n"},
			check: `{"kernelModuleNotLoaded":{"name":"usb-storage"}}`, result: "Fail", text: "loaded"},
		{name: "no package database", files: map[string]string{"etc/x": ""},
			check: `{"packageAbsent":{"name":"telnetd"}}`, result: "Err", text: "rpm is not supported"},
		{name: "apk database", files: map[string]string{"lib/apk/db/installed": "P:busybox\n\nP:dropbear\n"},
			check: `{"packageAbsent":{"name":"dropbear*"}}`, result: "Fail", text: "dropbear"},
		{name: "removable partition", files: map[string]string{"proc/1/mounts": "/dev/mmcblk1p1 /mnt vfat rw 0 0\n", "sys/block/mmcblk1/removable": "1\n"},
			check: `{"mountOption":{"removable":true,"options":["nodev"]}}`, result: "Fail", text: "/mnt (vfat) is mounted without nodev"},
		{name: "no init system", files: map[string]string{"etc/x": ""},
			check: `{"serviceState":{"unit":"cron.service","state":"enabled"}}`, result: "Err", text: "no systemd unit directory"},
		{name: "sysv runlevel", files: map[string]string{"etc/rc2.d/S01telnetd": ""},
			check: `{"serviceState":{"unit":"telnetd.service","state":"disabled"}}`, result: "Fail", text: "enabled"},
		{name: "openrc runlevel", files: map[string]string{"etc/runlevels/default/sshd": ""},
			check: `{"serviceState":{"unit":"sshd.service","state":"enabled"}}`, result: "Pass"},
		{name: "masked in /run", files: map[string]string{"lib/systemd/system/x.service": "[Install]\nWantedBy=a.target\n"},
			setup: symlink("/dev/null", "run/systemd/system/x.service"),
			check: `{"serviceState":{"unit":"x.service","state":"masked"}}`, result: "Pass"},
		{name: "enabled through an alias", files: map[string]string{"lib/systemd/system/x.service": "[Install]\nAlias=y.service\n"},
			setup: symlink("/lib/systemd/system/x.service", "etc/systemd/system/a.target.wants/y.service"),
			check: `{"serviceState":{"unit":"x.service","state":"disabled"}}`, result: "Fail", text: "x.service is enabled"},
	})
}

func TestEngineSshdIncludes(t *testing.T) {
	runEngine(t, []engineCase{
		{name: "include inside match is conditional", files: map[string]string{
			"etc/ssh/sshd_config":        "Match User x\nInclude extra.conf\nMatch all\nPermitRootLogin no\n",
			"etc/ssh/extra.conf":         "PermitRootLogin yes\n",
			"etc/ssh/sshd_config.d/.not": "",
		}, check: `{"sshdConfig":{"key":"PermitRootLogin","op":"eq","value":"no"}}`, result: "Pass"},
		{name: "include loop", files: map[string]string{"etc/ssh/sshd_config": "Include /etc/ssh/sshd_config\n"},
			check: `{"sshdConfig":{"key":"PermitRootLogin","op":"eq","value":"no"}}`, result: "Err", text: "nested deeper"},
		{name: "missing literal include", files: map[string]string{"etc/ssh/sshd_config": "Include none.conf\nPermitRootLogin no\n"},
			check: `{"sshdConfig":{"key":"PermitRootLogin","op":"eq","value":"no"}}`, result: "Pass"},
		{name: "default applies", files: map[string]string{"etc/ssh/sshd_config": "Port 22\n"},
			check: `{"sshdConfig":{"key":"MaxAuthTries","op":"le","value":"4","default":"6"}}`, result: "Fail", text: `MaxAuthTries is "6", want at most 4`},
	})
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", maxReasonBytes)
	got := clip(long)
	if len(got) > maxReasonBytes || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("clip: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if clip("short") != "short" {
		t.Error("clip changed a short text")
	}
}

func TestDiskOf(t *testing.T) {
	for in, want := range map[string]string{"sdb1": "sdb", "mmcblk0p2": "mmcblk0", "nvme0n1p1": "nvme0n1", "sdb": "sdb", "loop0": "loop"} {
		if got := diskOf(in); got != want {
			t.Errorf("diskOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStatInRootMissing(t *testing.T) {
	_, err := statInRoot(hostfs.Root(t.TempDir()), "/etc/none")
	if !isMissing(err) || !os.IsNotExist(err) {
		t.Errorf("err = %v, want not-exist", err)
	}
}
