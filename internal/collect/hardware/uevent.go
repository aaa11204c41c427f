package hardware

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Change is a hot-plug uevent worth an out-of-schedule snapshot.
type Change struct {
	// Action is the kernel's action: "add" or "remove".
	Action string
	// Subsystem is the kernel subsystem: usb, pci, block, net or tty.
	Subsystem string
	// DevPath is the device's path under /sys, as in BusPath.
	DevPath string
	// Seq is the kernel's uevent sequence number (0 if absent).
	Seq uint64
}

// uevent is one kernel uevent message.
type uevent struct {
	action, devPath string
	env             map[string]string
}

const (
	// maxUevent bounds a message: the kernel builds them in a 2048-byte
	// buffer (UEVENT_BUFFER_SIZE); 8 KiB leaves room for future kernels.
	maxUevent = 8192
	// maxUeventVars bounds the variables kept (the kernel allows 64).
	maxUeventVars = 64
)

var (
	errLibudev = errors.New("libudev message, not a kernel one")
	errUevent  = errors.New("malformed uevent")
)

// parseUevent parses the kernel's format, "ACTION@DEVPATH" followed by
// NUL-terminated KEY=VALUE variables. udevd's re-broadcasts in libudev's
// binary format (magic "libudev\0") are rejected: we read the kernel's
// own messages, which no user-space daemon can rewrite.
func parseUevent(b []byte) (uevent, error) {
	if bytes.HasPrefix(b, []byte("libudev\x00")) {
		return uevent{}, errLibudev
	}
	if len(b) > maxUevent {
		return uevent{}, fmt.Errorf("%w: %d bytes", errUevent, len(b))
	}
	fields := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	action, devPath, ok := strings.Cut(fields[0], "@")
	if !ok || action == "" || !strings.HasPrefix(devPath, "/") {
		return uevent{}, fmt.Errorf("%w: header %q", errUevent, fields[0])
	}
	if len(fields)-1 > maxUeventVars {
		return uevent{}, fmt.Errorf("%w: more than %d variables", errUevent, maxUeventVars)
	}
	u := uevent{action: action, devPath: devPath, env: make(map[string]string, len(fields)-1)}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return uevent{}, fmt.Errorf("%w: variable %q", errUevent, f)
		}
		u.env[k] = v
	}
	// The header repeats ACTION and DEVPATH; a mismatch is not the kernel.
	if u.env["ACTION"] != action || u.env["DEVPATH"] != devPath || u.env["SUBSYSTEM"] == "" {
		return uevent{}, fmt.Errorf("%w: header %q does not match its variables", errUevent, fields[0])
	}
	return u, nil
}

// hotplugDevTypes are the device types a snapshot reports, by subsystem;
// "" matches any type. USB interfaces and disk partitions come with
// their device and would only repeat the trigger.
var hotplugDevTypes = map[string]string{
	"usb":   "usb_device",
	"pci":   "",
	"block": "disk",
	"net":   "",
	"tty":   "",
}

// change returns the Change of a uevent that adds or removes reported
// hardware. Virtual devices are left out: every container start adds a
// veth pair, which is not hardware being plugged in.
func (u uevent) change() (Change, bool) {
	if u.action != "add" && u.action != "remove" {
		return Change{}, false
	}
	sub := u.env["SUBSYSTEM"]
	devType, ok := hotplugDevTypes[sub]
	if !ok || (devType != "" && u.env["DEVTYPE"] != devType) {
		return Change{}, false
	}
	if strings.HasPrefix(u.devPath, "/devices/virtual/") {
		return Change{}, false
	}
	seq, _ := strconv.ParseUint(u.env["SEQNUM"], 10, 64)
	return Change{Action: u.action, Subsystem: sub, DevPath: u.devPath, Seq: seq}, true
}
