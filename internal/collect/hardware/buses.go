package hardware

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// Hardware categories, the HardwareCategory of each item.
const (
	CategoryUSB     = "USB"
	CategoryPCI     = "PCI"
	CategoryBlock   = "Block"
	CategoryNetwork = "Network"
	CategorySerial  = "Serial"
)

// usb lists USB devices (not their interfaces) from /sys/bus/usb/devices,
// root hubs included: a new root hub is a new controller.
func (s *scanner) usb() ([]event.ConnectedHardware, error) {
	const bus = "/sys/bus/usb/devices"
	names, err := s.fs.list(bus)
	if err != nil {
		return nil, err
	}
	var items []event.ConnectedHardware
	var keys []*idKey
	for _, name := range names {
		if strings.Contains(name, ":") {
			continue // an interface, reported with its device
		}
		dir, err := s.fs.resolve(path.Join(bus, name))
		if err != nil {
			continue // unplugged while we looked
		}
		vid, pid := s.fs.attr(dir, "idVendor"), s.fs.attr(dir, "idProduct")
		if vid == "" || pid == "" {
			continue
		}
		d := details{
			"VendorId":  vid,
			"ProductId": pid,
			"BusPath":   devPath(dir),
			"Port":      name,
		}
		d.set("Vendor", s.fs.attr(dir, "manufacturer"))
		d.set("Serial", s.fs.attr(dir, "serial"))
		if a := s.fs.attr(dir, "authorized"); a != "" {
			d["Authorized"] = strconv.FormatBool(a != "0")
		}
		class, drivers := s.usbInterfaces(dir, name)
		if c := s.fs.attr(dir, "bDeviceClass"); c != "" && c != "00" {
			class = usbClassName(c, s.fs.attr(dir, "bDeviceSubClass"), s.fs.attr(dir, "bDeviceProtocol"))
		}
		if class == "" {
			class = "Unknown"
		}
		if drivers == "" {
			drivers = s.fs.linkName(dir, "driver")
		}
		d.set("Driver", drivers)
		items = append(items, event.ConnectedHardware{
			HardwareCategory:    CategoryUSB,
			HardwareSubCategory: class,
			HardwareName:        s.fs.attr(dir, "product"),
			ExtraDetails:        d,
		})
		keys = append(keys, hexKey(vid, pid))
	}
	s.name(s.usbIDs, items, keys, "USB device")
	return items, nil
}

// usbInterfaces names the classes and drivers of a device's interfaces
// ("1-1:1.0"), in interface order, without repeats.
func (s *scanner) usbInterfaces(dir, name string) (classes, drivers string) {
	entries, err := s.fs.list(dir)
	if err != nil {
		return "", ""
	}
	var cs, ds []string
	for _, e := range entries {
		if !strings.HasPrefix(e, name+":") {
			continue
		}
		idir := path.Join(dir, e)
		if c := s.fs.attr(idir, "bInterfaceClass"); c != "" {
			cs = appendNew(cs, usbClassName(c, s.fs.attr(idir, "bInterfaceSubClass"), s.fs.attr(idir, "bInterfaceProtocol")))
		}
		if drv := s.fs.linkName(idir, "driver"); drv != "" {
			ds = appendNew(ds, drv)
		}
	}
	return strings.Join(cs, ", "), strings.Join(ds, ",")
}

// pci lists PCI functions from /sys/bus/pci/devices.
func (s *scanner) pci() ([]event.ConnectedHardware, error) {
	const bus = "/sys/bus/pci/devices"
	names, err := s.fs.list(bus)
	if err != nil {
		return nil, err
	}
	var items []event.ConnectedHardware
	var keys []*idKey
	for _, name := range names {
		dir, err := s.fs.resolve(path.Join(bus, name))
		if err != nil {
			continue
		}
		vid, did := trimHex(s.fs.attr(dir, "vendor")), trimHex(s.fs.attr(dir, "device"))
		if vid == "" || did == "" {
			continue
		}
		class := s.fs.attr(dir, "class")
		d := details{
			"VendorId":  vid,
			"ProductId": did,
			"BusPath":   devPath(dir),
			"Address":   name,
		}
		d.set("Class", trimHex(class))
		d.set("Driver", s.fs.linkName(dir, "driver"))
		items = append(items, event.ConnectedHardware{
			HardwareCategory:    CategoryPCI,
			HardwareSubCategory: pciClassName(class),
			ExtraDetails:        d,
		})
		keys = append(keys, hexKey(vid, did))
	}
	s.name(s.pciIDs, items, keys, "PCI device")
	return items, nil
}

// name fills in database names: the vendor where the device named none,
// the product where it has no name of its own (PCI devices never do).
// Without a database the name is "<kind> vvvv:pppp".
func (s *scanner) name(db *idsDB, items []event.ConnectedHardware, keys []*idKey, kind string) {
	var valid []idKey
	for _, k := range keys {
		if k != nil {
			valid = append(valid, *k)
		}
	}
	names, err := db.names(valid)
	if err != nil {
		s.log.WithError(err).Warn("device names unavailable")
	}
	for i := range items {
		it := &items[i]
		var n idNames
		if keys[i] != nil {
			n = names[*keys[i]]
		}
		if it.ExtraDetails["Vendor"] == "" {
			details(it.ExtraDetails).set("Vendor", n.vendor)
		}
		switch {
		case it.HardwareName != "":
		case n.product != "":
			it.HardwareName = n.product
		default:
			it.HardwareName = fmt.Sprintf("%s %s:%s", kind, it.ExtraDetails["VendorId"], it.ExtraDetails["ProductId"])
		}
	}
}

// hexKey parses sysfs hex ids; unparsable ids are looked up nowhere.
func hexKey(vendor, product string) *idKey {
	v, err1 := strconv.ParseUint(vendor, 16, 16)
	p, err2 := strconv.ParseUint(product, 16, 16)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &idKey{uint16(v), uint16(p)}
}

// details are an item's ExtraDetails; empty values are left out.
type details map[string]string

func (d details) set(k, v string) {
	if v != "" {
		d[k] = v
	}
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
