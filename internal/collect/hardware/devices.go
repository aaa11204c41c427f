package hardware

import (
	"path"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// block lists disks from /sys/block. Virtual disks (loop, ram, zram,
// device-mapper, md) are software, not connected hardware.
func (s *scanner) block() ([]event.ConnectedHardware, error) {
	const class = "/sys/block"
	names, err := s.fs.list(class)
	if err != nil {
		return nil, err
	}
	var items []event.ConnectedHardware
	for _, name := range names {
		dir, err := s.fs.resolve(path.Join(class, name))
		if err != nil || isVirtual(dir) {
			continue
		}
		dev := path.Join(dir, "device")
		removable := s.fs.attr(dir, "removable") == "1"
		d := details{
			"Device":    name,
			"BusPath":   devPath(dir),
			"Removable": strconv.FormatBool(removable),
		}
		if sectors, err := strconv.ParseUint(s.fs.attr(dir, "size"), 10, 64); err == nil {
			// size counts 512-byte sectors whatever the device's own.
			d["SizeBytes"] = strconv.FormatUint(sectors*512, 10)
		}
		if ro := s.fs.attr(dir, "ro"); ro != "" {
			d["ReadOnly"] = strconv.FormatBool(ro == "1")
		}
		model := s.fs.attr(dev, "model")
		d.set("Model", model)
		if v := s.fs.attr(dev, "vendor"); v != "" && !strings.HasPrefix(v, "0x") {
			d["Vendor"] = v // SCSI vendor text; virtio's is a PCI id
		}
		d.set("Serial", s.fs.attr(dev, "serial"))
		d.set("Driver", s.fs.linkName(dev, "driver"))
		if underUSB(dir) {
			d["Bus"] = "usb"
		}
		sub := "Disk"
		switch {
		case strings.HasPrefix(name, "sr"):
			sub = "CD-ROM"
		case removable:
			sub = "Removable disk"
		}
		hwName := model
		if hwName == "" {
			hwName = name
		}
		items = append(items, event.ConnectedHardware{
			HardwareCategory:    CategoryBlock,
			HardwareSubCategory: sub,
			HardwareName:        hwName,
			ExtraDetails:        d,
		})
	}
	return items, nil
}

// network lists every interface of the host's network namespace from
// /sys/class/net; virtual ones are included and marked, since a new
// bridge or tunnel matters as much as a new NIC.
func (s *scanner) network() ([]event.ConnectedHardware, error) {
	const class = "/sys/class/net"
	names, err := s.fs.list(class)
	if err != nil {
		return nil, err
	}
	var items []event.ConnectedHardware
	for _, name := range names {
		dir, err := s.fs.resolve(path.Join(class, name))
		if err != nil {
			continue
		}
		d := details{
			"BusPath": devPath(dir),
			"Virtual": strconv.FormatBool(!s.fs.exists(dir, "device")),
		}
		d.set("MAC", s.fs.attr(dir, "address"))
		d.set("OperState", s.fs.attr(dir, "operstate"))
		if s.fs.exists(dir, "device") {
			d.set("Driver", s.fs.linkName(path.Join(dir, "device"), "driver"))
		}
		if s.fs.attr(dir, "addr_assign_type") == "1" {
			d["RandomMAC"] = "true"
		}
		if underUSB(dir) {
			d["Bus"] = "usb"
		}
		items = append(items, event.ConnectedHardware{
			HardwareCategory:    CategoryNetwork,
			HardwareSubCategory: s.netKind(dir),
			HardwareName:        name,
			ExtraDetails:        d,
		})
	}
	return items, nil
}

// netKind tells the interface kinds apart that share a link type: the
// kernel marks them with a directory or file of their own.
func (s *scanner) netKind(dir string) string {
	switch {
	case s.fs.exists(dir, "wireless") || s.fs.exists(dir, "phy80211"):
		return "Wireless"
	case s.fs.exists(dir, "bridge"):
		return "Bridge"
	case s.fs.exists(dir, "bonding"):
		return "Bond"
	case s.fs.exists(dir, "tun_flags"):
		return "TUN/TAP"
	}
	t := s.fs.attr(dir, "type")
	if n, ok := arphrdTypes[t]; ok {
		return n
	}
	if t == "" {
		return "Unknown"
	}
	return "Link type " + t
}

// serial lists serial ports from /sys/class/tty: only ttys with a device
// behind them (not consoles, virtual terminals or ptys), and not the
// legacy 8250 placeholders whose port type is 0 (no UART found).
func (s *scanner) serial() ([]event.ConnectedHardware, error) {
	const class = "/sys/class/tty"
	names, err := s.fs.list(class)
	if err != nil {
		return nil, err
	}
	var items []event.ConnectedHardware
	for _, name := range names {
		dir, err := s.fs.resolve(path.Join(class, name))
		if err != nil || !s.fs.exists(dir, "device") || s.fs.attr(dir, "type") == "0" {
			continue
		}
		d := details{"BusPath": devPath(dir)}
		d.set("Driver", s.fs.linkName(path.Join(dir, "device"), "driver"))
		sub := "UART"
		if underUSB(dir) {
			sub = "USB serial"
			d["Bus"] = "usb"
		}
		items = append(items, event.ConnectedHardware{
			HardwareCategory:    CategorySerial,
			HardwareSubCategory: sub,
			HardwareName:        name,
			ExtraDetails:        d,
		})
	}
	return items, nil
}
