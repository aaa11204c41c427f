// Package sysinfo collects SystemInformation: distribution, kernel,
// architecture, host name, memory, firmware and boot device of the host,
// read from files under the host root. Every field is optional in the
// schema, so a missing file only leaves its fields out.
package sysinfo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func init() { collect.Register(event.NameSystemInformation, New) }

// maxFileBytes bounds every file this collector reads; all are small.
const maxFileBytes = 1 << 20

// dmiDetails are the firmware and board identifiers put in ExtraDetails.
// Serial numbers and the product UUID are left out on purpose: they are
// root-only and identify the device, which a security inventory does not
// need.
var dmiDetails = []struct{ file, key string }{
	{"bios_vendor", "BIOSVendor"},
	{"bios_date", "BIOSDate"},
	{"sys_vendor", "SystemVendor"},
	{"product_name", "ProductName"},
	{"board_vendor", "BoardVendor"},
	{"board_name", "BoardName"},
}

// Collector reads the host's system description.
type Collector struct {
	root hostfs.Root
	log  *logrus.Entry
	// machine is the uname fallback for the architecture; tests fix it.
	machine func() string
}

var _ collect.Collector = (*Collector)(nil)

// New returns a SystemInformation collector over d.Root.
func New(d collect.Deps) (collect.Collector, error) {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	return &Collector{
		root:    d.Root,
		log:     log.WithField("collector", event.NameSystemInformation),
		machine: unameMachine,
	}, nil
}

// Collect emits one SystemInformation event. It fails only when not a
// single source could be read.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := reader{root: c.root, log: c.log}
	info := c.gather(&r)
	if r.read == 0 {
		return fmt.Errorf("nothing readable under %s: %w", c.root, errors.Join(r.errs...))
	}
	emit(event.New(event.NameSystemInformation, time.Now(), info))
	return nil
}

// gather fills the payload. The mapping:
//   - OSName: os-release NAME, else PRETTY_NAME, else the kernel's ostype.
//   - OSVendor: os-release VENDOR_NAME, else ID (the distribution id).
//   - OSVersion: "<VERSION_ID> (kernel <osrelease>)"; either part alone
//     when the other is unknown ("12", "kernel 6.1.0-18-amd64").
//   - OsArchitecture: /proc/sys/kernel/arch (Linux 6.1+), else uname.
//   - HostName: /etc/hostname, else /proc/sys/kernel/hostname. The file
//     comes first because the sysctl answers for the reader's UTS
//     namespace, which in a container is the container's name.
//   - memory: see memoryFrom.
//   - BIOSVersion and ExtraDetails: /sys/class/dmi/id; on device-tree
//     boards (most ARM IoT devices) the model goes in ExtraDetails instead.
//   - BootDevice: the kernel's root= parameter, unresolved.
func (c *Collector) gather(r *reader) *event.SystemInformation {
	info := &event.SystemInformation{}
	details := map[string]string{}

	// os-release(5): /etc/os-release wins, /usr/lib/os-release is the
	// fallback.
	vars, ok := parseFile(r, parseOSRelease, "etc", "os-release")
	if !ok {
		vars, _ = parseFile(r, parseOSRelease, "usr", "lib", "os-release")
	}
	ostype := r.value("proc", "sys", "kernel", "ostype")
	release := r.value("proc", "sys", "kernel", "osrelease")
	info.OSName = first(vars["NAME"], vars["PRETTY_NAME"], ostype)
	info.OSVendor = first(vars["VENDOR_NAME"], vars["ID"])
	info.OSVersion = osVersion(vars["VERSION_ID"], release)
	setDetail(details, "OSPrettyName", vars["PRETTY_NAME"])
	setDetail(details, "KernelRelease", release)
	setDetail(details, "KernelVersion", r.value("proc", "sys", "kernel", "version"))

	info.OsArchitecture = r.value("proc", "sys", "kernel", "arch")
	if info.OsArchitecture == "" {
		info.OsArchitecture = c.machine()
	}
	info.HostName = hostname(r.value("etc", "hostname"))
	if info.HostName == "" {
		info.HostName = r.value("proc", "sys", "kernel", "hostname")
	}

	if kb, ok := parseFile(r, parseMeminfo, "proc", "meminfo"); ok {
		m := memoryFrom(kb)
		info.TotalPhysicalMemoryInKB, info.FreePhysicalMemoryInKB = m.TotalPhysical, m.FreePhysical
		info.TotalVirtualMemoryInKB, info.FreeVirtualMemoryInKB = m.TotalVirtual, m.FreeVirtual
	}

	info.BIOSVersion = r.value("sys", "class", "dmi", "id", "bios_version")
	for _, d := range dmiDetails {
		setDetail(details, d.key, r.value("sys", "class", "dmi", "id", d.file))
	}
	// The device-tree model ends in a NUL.
	setDetail(details, "DeviceTreeModel", strings.TrimRight(r.value("sys", "firmware", "devicetree", "base", "model"), "\x00"))

	if cmdline := r.value("proc", "cmdline"); cmdline != "" {
		params, err := parseCmdline(strings.NewReader(cmdline))
		if err != nil {
			r.fail(r.root.Path("proc", "cmdline"), err)
		}
		info.BootDevice = bootDevice(params)
	}
	if len(details) > 0 {
		info.ExtraDetails = details
	}
	return info
}

// hostname takes the first line of hostname(5) that is not a comment.
func hostname(file string) string {
	for line := range strings.Lines(file) {
		if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
			return line
		}
	}
	return ""
}

func osVersion(distro, kernel string) string {
	switch {
	case distro != "" && kernel != "":
		return distro + " (kernel " + kernel + ")"
	case kernel != "":
		return "kernel " + kernel
	}
	return distro
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func setDetail(m map[string]string, key, val string) {
	if val != "" {
		m[key] = val
	}
}

// reader reads host files for one collection, counting what it could read
// and logging what it could not.
type reader struct {
	root hostfs.Root
	log  *logrus.Entry
	read int
	errs []error
}

// value returns a one-line file's trimmed content, or "" if unreadable.
func (r *reader) value(elem ...string) string {
	b, err := r.root.ReadFile(maxFileBytes, elem...)
	if err != nil {
		r.fail(r.root.Path(elem...), err)
		return ""
	}
	r.read++
	return strings.TrimSpace(string(b))
}

// parseFile parses a host file, logging the lines parse skipped. ok is
// false only when the file could not be opened.
func parseFile[T any](r *reader, parse func(io.Reader) (T, []error), elem ...string) (v T, ok bool) {
	path := r.root.Path(elem...)
	f, err := r.root.Open(elem...)
	if err != nil {
		r.fail(path, err)
		return v, false
	}
	defer f.Close()
	r.read++
	v, errs := parse(hostfs.LimitedReader(f, maxFileBytes))
	for _, err := range errs {
		r.log.WithField("file", path).WithError(err).Warn("skipping malformed line")
	}
	return v, true
}

// fail records an unreadable file. Absence is normal (no DMI on ARM, no
// /etc/hostname on some images) and logged at debug level only.
func (r *reader) fail(path string, err error) {
	r.errs = append(r.errs, err)
	log := r.log.WithField("file", path).WithError(err)
	if errors.Is(err, fs.ErrNotExist) {
		log.Debug("not available")
		return
	}
	log.Warn("cannot read")
}
