package hardware

import (
	"fmt"
	"strconv"
)

// The class tables are embedded rather than read from usb.ids/pci.ids so
// that every device has a sub-category even on hosts without hwdata. They
// hold the USB-IF base classes and the PCI (sub)classes of the PCI SIG
// code and ID assignment specification.

var usbClasses = map[uint8]string{
	0x00: "Per-interface",
	0x01: "Audio",
	0x02: "Communications",
	0x03: "Human Interface Device",
	0x05: "Physical Interface Device",
	0x06: "Imaging",
	0x07: "Printer",
	0x08: "Mass Storage",
	0x09: "Hub",
	0x0a: "CDC Data",
	0x0b: "Smart Card",
	0x0d: "Content Security",
	0x0e: "Video",
	0x0f: "Personal Healthcare",
	0x10: "Audio/Video",
	0x11: "Billboard",
	0x12: "Type-C Bridge",
	0x3c: "I3C",
	0xdc: "Diagnostic",
	0xe0: "Wireless",
	0xef: "Miscellaneous",
	0xfe: "Application Specific",
	0xff: "Vendor Specific",
}

// usbClassName names a USB class given as sysfs prints it ("08"). HID
// boot keyboards and mice are named as such: a keyboard appearing is how
// keystroke-injection devices show up.
func usbClassName(class, subclass, protocol string) string {
	c, err := strconv.ParseUint(class, 16, 8)
	if err != nil {
		return "Unknown"
	}
	if c == 0x03 && subclass == "01" {
		switch protocol {
		case "01":
			return "Keyboard"
		case "02":
			return "Mouse"
		}
	}
	if n, ok := usbClasses[uint8(c)]; ok {
		return n
	}
	return fmt.Sprintf("Class %02x", c)
}

var pciBaseClasses = map[uint8]string{
	0x00: "Unclassified device",
	0x01: "Mass storage controller",
	0x02: "Network controller",
	0x03: "Display controller",
	0x04: "Multimedia controller",
	0x05: "Memory controller",
	0x06: "Bridge",
	0x07: "Communication controller",
	0x08: "Generic system peripheral",
	0x09: "Input device controller",
	0x0a: "Docking station",
	0x0b: "Processor",
	0x0c: "Serial bus controller",
	0x0d: "Wireless controller",
	0x0e: "Intelligent controller",
	0x0f: "Satellite communications controller",
	0x10: "Encryption controller",
	0x11: "Signal processing controller",
	0x12: "Processing accelerators",
	0x13: "Non-Essential Instrumentation",
	0x40: "Coprocessor",
	0xff: "Unassigned class",
}

// pciSubClasses holds the sub-classes worth telling apart; others fall
// back to their base class.
var pciSubClasses = map[uint16]string{
	0x0100: "SCSI storage controller",
	0x0101: "IDE interface",
	0x0104: "RAID bus controller",
	0x0106: "SATA controller",
	0x0107: "Serial Attached SCSI controller",
	0x0108: "Non-Volatile memory controller",
	0x0200: "Ethernet controller",
	0x0280: "Network controller",
	0x0300: "VGA compatible controller",
	0x0302: "3D controller",
	0x0401: "Multimedia audio controller",
	0x0403: "Audio device",
	0x0600: "Host bridge",
	0x0601: "ISA bridge",
	0x0604: "PCI bridge",
	0x0680: "Bridge",
	0x0700: "Serial controller",
	0x0780: "Communication controller",
	0x0880: "System peripheral",
	0x0c03: "USB controller",
	0x0c05: "SMBus",
	0x0c80: "Serial bus controller",
	0x0d11: "Bluetooth",
	0x0d80: "Wireless controller",
	0x1080: "Encryption controller",
}

// pciClassName names a PCI class given as sysfs prints it ("0x020000").
func pciClassName(class string) string {
	c, err := strconv.ParseUint(trimHex(class), 16, 32)
	if err != nil || c > 0xffffff {
		return "Unknown"
	}
	if n, ok := pciSubClasses[uint16(c>>8)]; ok {
		return n
	}
	if n, ok := pciBaseClasses[uint8(c>>16)]; ok {
		return n
	}
	return fmt.Sprintf("Class %04x", c>>8)
}

// arphrdTypes names the link types of /sys/class/net/*/type
// (include/uapi/linux/if_arp.h) that are seen on edge devices.
var arphrdTypes = map[string]string{
	"1":     "Ethernet",
	"32":    "InfiniBand",
	"280":   "CAN",
	"512":   "PPP",
	"519":   "Raw IP",
	"768":   "IPIP tunnel",
	"769":   "IPv6 tunnel",
	"772":   "Loopback",
	"776":   "SIT tunnel",
	"778":   "GRE tunnel",
	"801":   "Wireless",
	"803":   "Wireless monitor",
	"804":   "IEEE 802.15.4",
	"820":   "Bluetooth",
	"823":   "IPv6 GRE tunnel",
	"824":   "Netlink",
	"825":   "6LoWPAN",
	"65534": "No link layer",
}

// trimHex strips the 0x sysfs puts before some numbers.
func trimHex(s string) string {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return s[2:]
	}
	return s
}
