package hardware

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func TestResolve(t *testing.T) {
	// outside/secret sits next to the root: following a link the way the
	// OS does would reach it.
	base := t.TempDir()
	root := filepath.Join(base, "root")
	for _, d := range []string{"root/sys/devices/virtual/net/lo", "root/secret", "secret"} {
		if err := os.MkdirAll(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"sys/class/net/lo":      "../../devices/virtual/net/lo",
		"sys/class/net/up":      "../../../../../../../../secret",
		"sys/class/net/abs":     "/secret",
		"sys/class/net/chain":   "lo",
		"sys/class/net/loop":    "loop",
		"sys/class/net/dangles": "../../devices/nothing",
	}
	for l, target := range links {
		p := filepath.Join(root, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	fs := sysfs{root: hostfs.Root(root)}
	tests := []struct {
		path, want, wantErr string
	}{
		{"/sys/class/net/lo", "/sys/devices/virtual/net/lo", ""},
		{"/sys/class/net/lo/../lo", "/sys/devices/virtual/net/lo", ""},
		{"/sys/class/net/chain", "/sys/devices/virtual/net/lo", ""},
		{"/sys/class/net/up", "/secret", ""}, // the root's own /secret
		{"/sys/class/net/abs", "/secret", ""},
		{"/../../secret", "/secret", ""},
		{"/sys/class/net/loop", "", "too many links"},
		{"/sys/class/net/dangles", "", "no such file"},
	}
	for _, tt := range tests {
		got, err := fs.resolve(tt.path)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolve(%q) = %q, %v; want error %q", tt.path, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("resolve(%q) = %q, %v; want %q", tt.path, got, err, tt.want)
		}
	}
}

func TestCleanAttr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  SanDisk 3.2Gen1 \n", "SanDisk 3.2Gen1"},
		{"", ""},
		{"\n", ""},
		{"a\x00b\x1bc", "a b c"},
		{"bad \xff\xfe utf8", "bad \uFFFD utf8"},
		{strings.Repeat("x", 1000), strings.Repeat("x", maxAttrRunes)},
	}
	for _, tt := range tests {
		if got := cleanAttr([]byte(tt.in)); got != tt.want {
			t.Errorf("cleanAttr(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestClassNames(t *testing.T) {
	tests := []struct{ got, want string }{
		{usbClassName("09", "00", "00"), "Hub"},
		{usbClassName("03", "01", "01"), "Keyboard"},
		{usbClassName("03", "01", "02"), "Mouse"},
		{usbClassName("03", "00", "00"), "Human Interface Device"},
		{usbClassName("77", "", ""), "Class 77"},
		{usbClassName("zz", "", ""), "Unknown"},
		{pciClassName("0x020000"), "Ethernet controller"},
		{pciClassName("0x0c0330"), "USB controller"},
		{pciClassName("0x060400"), "PCI bridge"},
		{pciClassName("0x018000"), "Mass storage controller"},
		{pciClassName("0x770000"), "Class 7700"},
		{pciClassName("0x1000000"), "Unknown"},
		{pciClassName(""), "Unknown"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
}

func TestUnderUSB(t *testing.T) {
	for p, want := range map[string]bool{
		"/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2": true,
		"/sys/devices/pci0000:00/0000:00:1f.6/net/eno1":       false,
		"/sys/devices/virtual/net/usbnet":                     false,
	} {
		if got := underUSB(p); got != want {
			t.Errorf("underUSB(%q) = %v, want %v", p, got, want)
		}
	}
}
