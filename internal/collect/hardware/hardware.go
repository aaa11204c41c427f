// Package hardware collects ConnectedHardware: USB devices, PCI
// functions, disks, network interfaces and serial ports, read from the
// host's sysfs through the host root, with names from the host's
// usb.ids/pci.ids when present. Each snapshot is compared with the last
// one, persisted in the state directory, and marks devices that appeared
// or disappeared in ExtraDetails["Change"]; removed devices are reported
// once. Watch turns kernel hot-plug uevents into triggers for an
// out-of-schedule snapshot.
//
// Serial numbers (USB, disks) and MAC addresses are reported: they are
// what tells a known device from a look-alike with the same vendor and
// product ids, which is the point of watching hardware.
package hardware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

func init() {
	collect.Register(event.NameConnectedHardware, func(d collect.Deps) (collect.Collector, error) {
		c, err := New(d)
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return c, nil
	})
}

// Collector snapshots the host's hardware. It is safe for concurrent use:
// a hot-plug snapshot and a periodic one are serialised.
type Collector struct {
	scan     scanner
	log      *logrus.Entry
	stateDir string
	metrics  *metrics

	mu     sync.Mutex
	loaded bool
	last   state
}

var _ collect.Collector = (*Collector)(nil)

// scanner reads devices of one kind each; the ids databases remember
// names between snapshots.
type scanner struct {
	fs     sysfs
	log    *logrus.Entry
	usbIDs *idsDB
	pciIDs *idsDB
}

// New returns a ConnectedHardware collector over d.Root, keeping its last
// snapshot in d.StateDir (in memory only when that is empty).
func New(d collect.Deps) (*Collector, error) {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	log = log.WithField("collector", event.NameConnectedHardware)
	m, err := newMetrics(d.Registerer)
	if err != nil {
		return nil, err
	}
	return &Collector{
		scan: scanner{
			fs:     sysfs{root: d.Root},
			log:    log,
			usbIDs: newIDsDB(d.Root, "usb.ids"),
			pciIDs: newIDsDB(d.Root, "pci.ids"),
		},
		log:      log,
		stateDir: d.StateDir,
		metrics:  m,
	}, nil
}

// Collect emits one ConnectedHardware event: every device present, then
// the devices gone since the last snapshot. A category that cannot be
// listed is left out (and its devices are not reported as removed); its
// error is returned after the others have been emitted.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	if !c.loaded {
		last, err := loadState(c.stateDir)
		if err != nil {
			c.log.WithError(err).Warn("last hardware state unreadable; starting a new baseline")
		}
		c.last, c.loaded = last, true
	}
	cur, failed, scanErr := c.scan.all()
	marked, removed := diff(c.last, cur, failed)

	next := newState(cur)
	for k, it := range c.last {
		if failed[it.HardwareCategory] {
			next[k] = it
		}
	}
	var saveErr error
	if c.last == nil || !sameDevices(c.last, next) {
		if err := saveState(c.stateDir, next); err != nil {
			saveErr = fmt.Errorf("save hardware state: %w", err)
		}
	}
	c.last = next

	payload := make([]any, 0, len(marked)+len(removed))
	for _, it := range append(marked, removed...) {
		if ch := it.ExtraDetails["Change"]; ch != "" {
			c.metrics.changes.WithLabelValues(ch).Inc()
		}
		payload = append(payload, &it)
	}
	if len(payload) == 0 {
		if scanErr == nil && saveErr == nil {
			return collect.ErrNoData
		}
		return errors.Join(scanErr, saveErr)
	}
	emit(event.New(event.NameConnectedHardware, time.Now(), payload...))
	return errors.Join(scanErr, saveErr)
}

// all runs every scanner. failed holds the categories that could not be
// listed at all.
func (s *scanner) all() ([]event.ConnectedHardware, map[string]bool, error) {
	sources := []struct {
		category string
		scan     func() ([]event.ConnectedHardware, error)
	}{
		{CategoryUSB, s.usb},
		{CategoryPCI, s.pci},
		{CategoryBlock, s.block},
		{CategoryNetwork, s.network},
		{CategorySerial, s.serial},
	}
	var items []event.ConnectedHardware
	var errs []error
	failed := map[string]bool{}
	for _, src := range sources {
		got, err := src.scan()
		if err != nil {
			failed[src.category] = true
			errs = append(errs, fmt.Errorf("%s devices: %w", src.category, err))
			continue
		}
		items = append(items, got...)
	}
	return items, failed, errors.Join(errs...)
}

type metrics struct {
	changes *prometheus.CounterVec
	uevents *prometheus.CounterVec
}

// Results of a uevent, the label values of uevents_total.
const (
	ueventTrigger   = "trigger"   // a hot-plug change, passed on
	ueventIgnored   = "ignored"   // another action, subsystem or a virtual device
	ueventRejected  = "rejected"  // not from the kernel
	ueventMalformed = "malformed" // not the kernel's format
	ueventDropped   = "dropped"   // trigger queue full
	ueventLost      = "lost"      // socket buffer overflowed (ENOBUFS)
)

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_hardware_changes_total",
			Help: "Devices reported as added or removed by ConnectedHardware snapshots.",
		}, []string{"change"}),
		uevents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_hardware_uevents_total",
			Help: "Kernel uevents read by the hot-plug watcher, by what became of them.",
		}, []string{"result"}),
	}
	for _, v := range []string{ChangeAdded, ChangeRemoved} {
		m.changes.WithLabelValues(v).Add(0)
	}
	for _, v := range []string{ueventTrigger, ueventIgnored, ueventRejected, ueventMalformed, ueventDropped, ueventLost} {
		m.uevents.WithLabelValues(v).Add(0)
	}
	if reg == nil {
		return m, nil
	}
	// The runner builds a new collector each time the event is switched
	// back on; the counters carry on.
	var err error
	if m.changes, err = promreg.Adopt(reg, m.changes); err != nil {
		return nil, err
	}
	if m.uevents, err = promreg.Adopt(reg, m.uevents); err != nil {
		return nil, err
	}
	return m, nil
}

// Watch implements collect.Watcher: every hot-plug change wakes the
// runner, which takes an out-of-schedule snapshot marking what changed.
func (c *Collector) Watch(ctx context.Context, changed func()) error {
	return c.WatchChanges(ctx, func(Change) { changed() })
}

var _ collect.Watcher = (*Collector)(nil)
