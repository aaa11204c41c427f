// Package collect defines event sources and the registry they join from
// their own packages (internal/collect/<source>), and runs them.
package collect

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// Collector takes a periodic snapshot: it is called at start and every
// snapshotFrequency, and emits the events of one snapshot.
type Collector interface {
	Collect(ctx context.Context, emit func(event.Event)) error
}

// Streamer is a triggered source: Stream runs until ctx is done and emits
// events as they happen. A registered collector that implements Streamer
// is run as a stream, never through Collect.
type Streamer interface {
	Stream(ctx context.Context, emit func(event.Event)) error
}

// Watcher is a periodic collector that can notice, between snapshots,
// that its snapshot would differ (a new listener, a firewall change, a
// device plugged in). The runner runs Watch beside the periodic schedule
// and takes an out-of-schedule snapshot each time changed is called.
type Watcher interface {
	Watch(ctx context.Context, changed func()) error
}

// ErrNoData means the source has nothing to report on this host; the
// runner logs it at debug level and keeps going.
var ErrNoData = errors.New("no data")

// Deps are what every collector may use. Collectors keep no globals.
type Deps struct {
	Root       hostfs.Root
	Logger     *logrus.Entry
	Registerer prometheus.Registerer
	StateDir   string
	// SelfPID is the module's own pid as the host sees it, so sources can
	// leave out the module's own activity.
	SelfPID int
	// Config returns the effective configuration when the collector is
	// built (nil in tests: defaults).
	Config func() config.Config
}

// Settings returns the effective configuration, or the defaults.
func (d Deps) Settings() config.Config {
	if d.Config == nil {
		return config.Default()
	}
	return d.Config()
}

// Factory builds a collector. It returns a Collector; one that also
// implements Streamer is run as a stream.
type Factory func(Deps) (Collector, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register adds the factory of the source that produces events named name
// (an event.Name* constant). It panics on duplicates: registration happens
// in init functions, and a duplicate is a programming error.
func Register(name string, f Factory) {
	if _, ok := event.Lookup(name); !ok {
		panic(fmt.Sprintf("collect: register %q: not an event name", name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[name]; dup {
		panic(fmt.Sprintf("collect: %q registered twice", name))
	}
	factories[name] = f
}

// Registered lists the registered event names, sorted.
func Registered() []string {
	mu.Lock()
	defer mu.Unlock()
	names := make([]string, 0, len(factories))
	for n := range factories {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func lookup(name string) (Factory, bool) {
	mu.Lock()
	defer mu.Unlock()
	f, ok := factories[name]
	return f, ok
}
