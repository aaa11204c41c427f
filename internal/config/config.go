// Package config turns the module twin's desired properties into a typed,
// validated configuration.
//
// Two desired objects are read. ObjectName is Microsoft's schema object,
// every value wrapped as {"value": …}; ModuleObjectName holds this
// module's own settings as plain JSON values. One registry (registry.go)
// lists every key with its kind, default, range and description, and
// drives parsing, validation, the reported properties and the README
// table. The Store merges desired patches into the last full document,
// so keys a patch does not mention keep their values (the retired agents
// reset them, W-C1), and persists it for the next start.
//
// The package never logs; the caller turns Result.Errors into
// ConfigurationError events and reported properties.
package config

import (
	"maps"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// The two desired-properties objects the module reads.
const (
	ObjectName       = "ms_iotn:urn_azureiot_Security_SecurityAgentConfiguration"
	ModuleObjectName = "azureiotsecurityModule"
)

// Config is the effective configuration.
type Config struct {
	HighPriorityMessageFrequency time.Duration
	LowPriorityMessageFrequency  time.Duration
	SnapshotFrequency            time.Duration
	MaxLocalCacheSizeInBytes     int64
	MaxMessageSizeInBytes        int64
	// Priorities is keyed by event name, e.g. event.NameProcessCreate.
	Priorities map[string]event.Priority
	// Aggregation is keyed by event name: ProcessCreate, ConnectionCreate
	// and ProcessTerminate.
	Aggregation map[string]Aggregation

	BaselineCustomChecksEnabled  bool
	BaselineCustomChecksFilePath string
	BaselineCustomChecksFileHash string
	// HubResourceID is written by the service; it goes into the
	// HubResourceId application property of every message.
	HubResourceID string

	Module ModuleSettings
}

// Aggregation configures the aggregation window of one event name.
type Aggregation struct {
	Enabled  bool
	Interval time.Duration
}

// ModuleSettings are the settings of ModuleObjectName, which Microsoft's
// schema object cannot hold.
type ModuleSettings struct {
	// LogLevel is a logrus level name: panic, fatal, error, warning, info,
	// debug or trace.
	LogLevel string
	// DiagnosticMinimumSeverity is the lowest Diagnostic event severity
	// sent: Debug, Information, Warning, Error or Fatal.
	DiagnosticMinimumSeverity string
	// DiagnosticEventsPerMinute caps Diagnostic events; 0 sends none.
	DiagnosticEventsPerMinute int
	// OutputName is the edgeHub output ($.on); "" sends without one.
	OutputName                  string
	ListeningPortsCheckInterval time.Duration
	// ProcessBackend is auto, ebpf, proc-connector, audit or procfs.
	ProcessBackend string
	// ProcessAuditRules allows the audit backend to install exec rules.
	ProcessAuditRules bool
	// ConnectionBackend is auto, ebpf, audit or poll.
	ConnectionBackend string
	// ConnectionAuditRules allows the audit connection backend to install
	// connect/accept rules.
	ConnectionAuditRules bool
	// ConnectionIncludeLoopback and ConnectionIncludeSelf report
	// loopback connections and the module's own.
	ConnectionIncludeLoopback bool
	ConnectionIncludeSelf     bool
	// SpoolEventTTL drops spooled events older than it when they would be
	// sent; 0 keeps them until the size budget evicts them.
	SpoolEventTTL time.Duration
}

// Default returns the configuration used when the twin sets nothing.
func Default() Config {
	var c Config
	for _, k := range registry {
		k.set(&c, k.def)
	}
	return c
}

// Priority returns the priority of an event name. Off means the event is
// not collected. A name the twin has no key for gets Low, the retired C#
// agent's defaultEventPriority, so a new collector is never silently off.
func (c Config) Priority(eventName string) event.Priority {
	if p, ok := c.Priorities[eventName]; ok {
		return p
	}
	return event.Low
}

// Clone returns a deep copy, so a caller may keep or change it freely.
func (c Config) Clone() Config {
	c.Priorities = maps.Clone(c.Priorities)
	c.Aggregation = maps.Clone(c.Aggregation)
	return c
}

// Equal reports whether every registry key has the same value in c and o.
func (c Config) Equal(o Config) bool {
	for _, k := range registry {
		if k.get(&c) != k.get(&o) {
			return false
		}
	}
	return true
}
