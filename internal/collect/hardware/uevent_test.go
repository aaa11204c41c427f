package hardware

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// msg builds a kernel-format uevent from its header and variables.
func msg(header string, vars ...string) []byte {
	return []byte(strings.Join(append([]string{header}, vars...), "\x00") + "\x00")
}

// usbAdd is what the kernel sends when a USB stick is plugged in
// (captured with `udevadm monitor --kernel --property` and re-encoded).
var usbAdd = msg("add@/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2",
	"ACTION=add", "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2", "SUBSYSTEM=usb",
	"MAJOR=189", "MINOR=4", "DEVNAME=bus/usb/001/005", "DEVTYPE=usb_device", "DRIVER=usb",
	"PRODUCT=781/5581/100", "TYPE=0/0/0", "BUSNUM=001", "DEVNUM=005", "SEQNUM=4711")

func TestParseUevent(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Change
		wantOK  bool
		wantErr error
	}{
		{"usb device add", usbAdd, Change{"add", "usb", "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.2", 4711}, true, nil},
		{"disk remove", msg("remove@/devices/x/block/sdb", "ACTION=remove", "DEVPATH=/devices/x/block/sdb", "SUBSYSTEM=block", "DEVTYPE=disk", "SEQNUM=9"),
			Change{"remove", "block", "/devices/x/block/sdb", 9}, true, nil},
		{"net add without seqnum", msg("add@/devices/p/net/eth1", "ACTION=add", "DEVPATH=/devices/p/net/eth1", "SUBSYSTEM=net"),
			Change{"add", "net", "/devices/p/net/eth1", 0}, true, nil},
		{"no trailing NUL", []byte("add@/devices/p\x00ACTION=add\x00DEVPATH=/devices/p\x00SUBSYSTEM=pci"),
			Change{"add", "pci", "/devices/p", 0}, true, nil},
		{"usb interface ignored", msg("add@/devices/u/1-1:1.0", "ACTION=add", "DEVPATH=/devices/u/1-1:1.0", "SUBSYSTEM=usb", "DEVTYPE=usb_interface"), Change{}, false, nil},
		{"partition ignored", msg("add@/devices/b/sdb1", "ACTION=add", "DEVPATH=/devices/b/sdb1", "SUBSYSTEM=block", "DEVTYPE=partition"), Change{}, false, nil},
		{"bind ignored", msg("bind@/devices/u/1-1", "ACTION=bind", "DEVPATH=/devices/u/1-1", "SUBSYSTEM=usb", "DEVTYPE=usb_device"), Change{}, false, nil},
		{"veth ignored", msg("add@/devices/virtual/net/veth1", "ACTION=add", "DEVPATH=/devices/virtual/net/veth1", "SUBSYSTEM=net"), Change{}, false, nil},
		{"other subsystem ignored", msg("add@/devices/s", "ACTION=add", "DEVPATH=/devices/s", "SUBSYSTEM=scsi"), Change{}, false, nil},
		{"libudev format", []byte("libudev\x00\xfe\xed\xca\xfe(\x00\x00\x00"), Change{}, false, errLibudev},
		{"empty", nil, Change{}, false, errUevent},
		{"no @", msg("add/devices/p", "ACTION=add"), Change{}, false, errUevent},
		{"relative devpath", msg("add@devices/p", "ACTION=add", "DEVPATH=devices/p", "SUBSYSTEM=pci"), Change{}, false, errUevent},
		{"empty action", msg("@/devices/p", "ACTION=", "DEVPATH=/devices/p", "SUBSYSTEM=pci"), Change{}, false, errUevent},
		{"variable without =", msg("add@/devices/p", "ACTION=add", "JUNK", "DEVPATH=/devices/p", "SUBSYSTEM=pci"), Change{}, false, errUevent},
		{"empty variable in the middle", []byte("add@/devices/p\x00ACTION=add\x00\x00DEVPATH=/devices/p\x00SUBSYSTEM=pci\x00"), Change{}, false, errUevent},
		{"header disagrees", msg("add@/devices/p", "ACTION=remove", "DEVPATH=/devices/p", "SUBSYSTEM=pci"), Change{}, false, errUevent},
		{"devpath disagrees", msg("add@/devices/p", "ACTION=add", "DEVPATH=/devices/q", "SUBSYSTEM=pci"), Change{}, false, errUevent},
		{"no subsystem", msg("add@/devices/p", "ACTION=add", "DEVPATH=/devices/p"), Change{}, false, errUevent},
		{"too many variables", msg("add@/devices/p", append([]string{"ACTION=add", "DEVPATH=/devices/p", "SUBSYSTEM=pci"}, manyVars(70)...)...), Change{}, false, errUevent},
		{"too long", append(msg("add@/devices/p", "ACTION=add", "DEVPATH=/devices/p", "SUBSYSTEM=pci"), make([]byte, maxUevent)...), Change{}, false, errUevent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := parseUevent(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got, ok := u.change()
			if ok != tt.wantOK {
				t.Fatalf("change() ok = %v, want %v", ok, tt.wantOK)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("change (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseUevent(f *testing.F) {
	f.Add(usbAdd)
	f.Add(msg("remove@/devices/x/block/sdb", "ACTION=remove", "DEVPATH=/devices/x/block/sdb", "SUBSYSTEM=block", "DEVTYPE=disk"))
	f.Add([]byte("libudev\x00\xfe\xed\xca\xfe"))
	f.Add([]byte("add@/\x00=\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseUevent(b)
		if err != nil {
			return
		}
		if u.action == "" || !strings.HasPrefix(u.devPath, "/") || u.env["SUBSYSTEM"] == "" || len(u.env) > maxUeventVars {
			t.Fatalf("accepted an invalid uevent: %+v", u)
		}
		if ch, ok := u.change(); ok && (ch.Action != "add" && ch.Action != "remove" || ch.DevPath != u.devPath) {
			t.Fatalf("change %+v of %+v", ch, u)
		}
	})
}

func BenchmarkParseUevent(b *testing.B) {
	b.SetBytes(int64(len(usbAdd)))
	for b.Loop() {
		u, err := parseUevent(usbAdd)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := u.change(); !ok {
			b.Fatal("not a change")
		}
	}
}

func manyVars(n int) []string {
	vars := make([]string, n)
	for i := range vars {
		vars[i] = fmt.Sprintf("K%d=V", i)
	}
	return vars
}
