package config

import (
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// kind is the type of a key's value. Each kind has one Go type in the
// registry: time.Duration, int64, bool, event.Priority or string.
type kind uint8

const (
	kindDuration kind = iota
	kindInt
	kindBool
	kindPriority
	kindString
)

// key describes one configuration key. Adding a key is adding one entry
// to registry; parsing, validation, reporting and docs follow from it.
type key struct {
	object string // ObjectName or ModuleObjectName
	name   string
	kind   kind
	def    any
	// min and max bound kindInt values and kindDuration nanoseconds;
	// max 0 means no bound beyond the kind's own.
	min, max int64
	// enum lists the allowed kindString values in canonical spelling;
	// they match case-insensitively. aliases maps other lower-case
	// spellings to one of them.
	enum    []string
	aliases map[string]string
	// check validates other kindString values; rule describes it for docs.
	check func(string) error
	rule  string
	doc   string
	get   func(*Config) any
	set   func(*Config, any)
}

// Bounds shared by several keys.
const (
	minInterval     = int64(time.Second) // a zero interval would spin a timer
	minMessageSize  = 8192
	maxMessageSize  = 262144
	messageSizeStep = 4096
	minCacheSize    = 8192
	maxCacheSize    = 1 << 30 // 1 GiB: far above any edge device's budget
	maxDiagPerMin   = 6000
)

// field gives the get and set functions of a Config field whose Go type is
// the kind's registry type.
func field[T any](f func(*Config) *T) (func(*Config) any, func(*Config, any)) {
	return func(c *Config) any { return *f(c) },
		func(c *Config, v any) { *f(c) = v.(T) }
}

func newKey[T any](object, name string, k kind, def T, doc string, f func(*Config) *T) key {
	get, set := field(f)
	return key{object: object, name: name, kind: k, def: def, doc: doc, get: get, set: set}
}

func (k key) bounds(lo, hi int64) key { k.min, k.max = lo, hi; return k }

func (k key) oneOf(values ...string) key { k.enum = values; return k }

func (k key) checked(rule string, f func(string) error) key { k.check, k.rule = f, rule; return k }

func ascDuration(name string, def time.Duration, doc string, f func(*Config) *time.Duration) key {
	return newKey(ObjectName, name, kindDuration, def, doc, f).bounds(minInterval, 0)
}

// priorityKey is eventPriority<Name>, stored in Config.Priorities.
func priorityKey(eventName string, def event.Priority) key {
	return key{
		object: ObjectName, name: "eventPriority" + eventName, kind: kindPriority, def: def,
		doc: "Queue of " + eventName + " events; Off stops collecting them.",
		get: func(c *Config) any { return c.Priority(eventName) },
		set: func(c *Config, v any) {
			if c.Priorities == nil {
				c.Priorities = map[string]event.Priority{}
			}
			c.Priorities[eventName] = v.(event.Priority)
		},
	}
}

// aggregationKeys are aggregationEnabled<Name> and aggregationInterval<Name>.
func aggregationKeys(eventName string) []key {
	update := func(c *Config, f func(*Aggregation)) {
		if c.Aggregation == nil {
			c.Aggregation = map[string]Aggregation{}
		}
		a := c.Aggregation[eventName]
		f(&a)
		c.Aggregation[eventName] = a
	}
	return []key{{
		object: ObjectName, name: "aggregationEnabled" + eventName, kind: kindBool, def: true,
		doc: "Aggregate identical " + eventName + " events into one per window.",
		get: func(c *Config) any { return c.Aggregation[eventName].Enabled },
		set: func(c *Config, v any) { update(c, func(a *Aggregation) { a.Enabled = v.(bool) }) },
	}, {
		object: ObjectName, name: "aggregationInterval" + eventName, kind: kindDuration, def: time.Hour,
		min: minInterval,
		doc: "Aggregation window of " + eventName + " events.",
		get: func(c *Config) any { return c.Aggregation[eventName].Interval },
		set: func(c *Config, v any) { update(c, func(a *Aggregation) { a.Interval = v.(time.Duration) }) },
	}}
}

// registry lists every key: the schema object in the schema's order, then
// the keys the agents read beyond the schema, then the module's own.
var registry = func() []key {
	ks := []key{
		ascDuration("highPriorityMessageFrequency", 7*time.Minute,
			"Longest wait before queued high-priority events are sent. Lowered to lowPriorityMessageFrequency if longer.",
			func(c *Config) *time.Duration { return &c.HighPriorityMessageFrequency }),
		ascDuration("lowPriorityMessageFrequency", 5*time.Hour,
			"Longest wait before queued low-priority events are sent.",
			func(c *Config) *time.Duration { return &c.LowPriorityMessageFrequency }),
		ascDuration("snapshotFrequency", 13*time.Hour,
			"Interval of the periodic (snapshot) events and of the operational statistics.",
			func(c *Config) *time.Duration { return &c.SnapshotFrequency }),
		newKey(ObjectName, "maxLocalCacheSizeInBytes", kindInt, int64(2560000),
			"Budget for queued events: the on-disk spool in the state directory (or memory without one).",
			func(c *Config) *int64 { return &c.MaxLocalCacheSizeInBytes }).bounds(minCacheSize, maxCacheSize),
		newKey(ObjectName, "maxMessageSizeInBytes", kindInt, int64(204800),
			"Largest message body; best a multiple of 4096. Lowered to the cache size (rounded down to 4096) if larger.",
			func(c *Config) *int64 { return &c.MaxMessageSizeInBytes }).bounds(minMessageSize, maxMessageSize),
	}
	for _, p := range []struct {
		name string
		def  event.Priority
	}{
		{event.NameConnectedHardware, event.Low}, {event.NameListeningPorts, event.High},
		{event.NameProcessCreate, event.Low}, {event.NameProcessTerminate, event.Low},
		{event.NameSystemInformation, event.Low}, {event.NameLocalUsers, event.High},
		{event.NameLogin, event.High}, {event.NameConnectionCreate, event.Low},
		{event.NameFirewallConfiguration, event.Low}, {event.NameOSBaseline, event.Low},
		{event.NameDiagnostic, event.Low}, {event.NameConfigurationError, event.Low},
		{event.NameDroppedEventsStatistics, event.Low}, {event.NameMessageStatistics, event.Low},
	} {
		ks = append(ks, priorityKey(p.name, p.def))
	}
	for _, n := range []string{event.NameProcessCreate, event.NameConnectionCreate, event.NameProcessTerminate} {
		ks = append(ks, aggregationKeys(n)...)
	}
	ks = append(ks,
		newKey(ObjectName, "baselineCustomChecksEnabled", kindBool, false,
			"Run the OS baseline a second time with custom checks (not in the JSON schema).",
			func(c *Config) *bool { return &c.BaselineCustomChecksEnabled }),
		newKey(ObjectName, "baselineCustomChecksFilePath", kindString, "",
			"Custom baseline checks file on the device (not in the JSON schema).",
			func(c *Config) *string { return &c.BaselineCustomChecksFilePath }).
			checked("\"\" or an absolute path", checkAbsPath),
		newKey(ObjectName, "baselineCustomChecksFileHash", kindString, "",
			"SHA-256 of the custom checks file (not in the JSON schema).",
			func(c *Config) *string { return &c.BaselineCustomChecksFileHash }).
			checked("\"\" or 64 hex digits", checkSHA256),
		newKey(ObjectName, "hubResourceId", kindString, "",
			"Written by the service; sent as the HubResourceId message property (not in the JSON schema).",
			func(c *Config) *string { return &c.HubResourceID }).
			checked("printable, at most 1024 bytes", checkPrintable(1024)),

		newKey(ModuleObjectName, "logLevel", kindString, "info",
			"Level of the module's own log.",
			func(c *Config) *string { return &c.Module.LogLevel }).
			oneOf("panic", "fatal", "error", "warning", "info", "debug", "trace").alias("warn", "warning"),
		newKey(ModuleObjectName, "diagnosticMinimumSeverity", kindString, "Warning",
			"Lowest severity sent as a Diagnostic event.",
			func(c *Config) *string { return &c.Module.DiagnosticMinimumSeverity }).
			oneOf("Debug", "Information", "Warning", "Error", "Fatal"),
		key{
			object: ModuleObjectName, name: "diagnosticEventsPerMinute", kind: kindInt, def: int64(60),
			min: 0, max: maxDiagPerMin, doc: "Cap on Diagnostic events per minute; 0 sends none.",
			get: func(c *Config) any { return int64(c.Module.DiagnosticEventsPerMinute) },
			set: func(c *Config, v any) { c.Module.DiagnosticEventsPerMinute = int(v.(int64)) },
		},
		newKey(ModuleObjectName, "outputName", kindString, "",
			"edgeHub output the messages are sent to ($.on); empty sends without an output name.",
			func(c *Config) *string { return &c.Module.OutputName }).
			checked("letters, digits, '_', '-', '.'; at most 100", checkOutputName),
		newKey(ModuleObjectName, "listeningPortsCheckInterval", kindDuration, time.Minute,
			"How often listening sockets are compared with the last ListeningPorts snapshot.",
			func(c *Config) *time.Duration { return &c.Module.ListeningPortsCheckInterval }).
			bounds(minInterval, 0),
		newKey(ModuleObjectName, "processBackend", kindString, "auto",
			"Source of ProcessCreate/ProcessTerminate events; auto picks the best one available. Applies when the process collectors (re)start.",
			func(c *Config) *string { return &c.Module.ProcessBackend }).
			oneOf("auto", "ebpf", "proc-connector", "audit", "procfs"),
		newKey(ModuleObjectName, "processAuditRules", kindBool, false,
			"Allow the audit process backend to install exec rules (keyed azureiotsecurity, removed on exit). Off, audit is used only when chosen explicitly.",
			func(c *Config) *bool { return &c.Module.ProcessAuditRules }),
		newKey(ModuleObjectName, "connectionBackend", kindString, "auto",
			"Source of ConnectionCreate events; auto picks the best one available (poll is lossy). Applies when the collector (re)starts.",
			func(c *Config) *string { return &c.Module.ConnectionBackend }).
			oneOf("auto", "ebpf", "audit", "poll"),
		newKey(ModuleObjectName, "connectionAuditRules", kindBool, false,
			"Allow the audit connection backend to install connect/accept rules (keyed azureiotsecurity-connection, removed on exit). Off, audit is used only when chosen explicitly.",
			func(c *Config) *bool { return &c.Module.ConnectionAuditRules }),
		newKey(ModuleObjectName, "connectionIncludeLoopback", kindBool, false,
			"Report connections between loopback addresses.",
			func(c *Config) *bool { return &c.Module.ConnectionIncludeLoopback }),
		newKey(ModuleObjectName, "connectionIncludeSelf", kindBool, false,
			"Report the module's own connections (to edgeHub).",
			func(c *Config) *bool { return &c.Module.ConnectionIncludeSelf }),
		newKey(ModuleObjectName, "spoolEventTtl", kindDuration, time.Duration(0),
			"Drop queued events older than this instead of sending them after a long outage; PT0S keeps them until the size budget evicts them. Applies at the next start.",
			func(c *Config) *time.Duration { return &c.Module.SpoolEventTTL }),
	)
	return ks
}()

func (k key) alias(from, to string) key {
	if k.aliases == nil {
		k.aliases = map[string]string{}
	}
	k.aliases[from] = to
	return k
}

// lookupKey finds a key of an object by name.
func lookupKey(object, name string) (key, bool) {
	for _, k := range registry {
		if k.object == object && k.name == name {
			return k, true
		}
	}
	return key{}, false
}
