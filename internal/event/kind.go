package event

import "sort"

// Event names of the v1.0 schema.
const (
	NameProcessCreate           = "ProcessCreate"
	NameProcessTerminate        = "ProcessTerminate"
	NameConnectionCreate        = "ConnectionCreate"
	NameLogin                   = "Login"
	NameListeningPorts          = "ListeningPorts"
	NameLocalUsers              = "LocalUsers"
	NameFirewallConfiguration   = "FirewallConfiguration"
	NameSystemInformation       = "SystemInformation"
	NameOSBaseline              = "OSBaseline"
	NameConnectedHardware       = "ConnectedHardware"
	NameDiagnostic              = "Diagnostic"
	NameConfigurationError      = "ConfigurationError"
	NameDroppedEventsStatistics = "DroppedEventsStatistics"
	NameMessageStatistics       = "MessageStatistics"
)

// Kind describes one event name: its fixed type and category, the payload
// item type, and the payload keys the schema requires.
type Kind struct {
	Name     string
	Type     Type
	Category Category
	newItem  func() any
	required []string
	// anyOf lists keys of which at least one must be present.
	anyOf []string
}

var kinds = map[string]Kind{}

func register(k Kind) { kinds[k.Name] = k }

func init() {
	register(Kind{NameProcessCreate, Security, Triggered, func() any { return &ProcessCreate{} },
		[]string{"Executable", "ProcessId", "ParentProcessId", "UserId", "CommandLine"}, nil})
	register(Kind{NameProcessTerminate, Security, Triggered, func() any { return &ProcessTerminate{} },
		[]string{"Executable", "ProcessId", "ExitStatus"}, nil})
	register(Kind{NameConnectionCreate, Security, Triggered, func() any { return &ConnectionCreate{} },
		[]string{"RemoteAddress", "RemotePort", "Direction", "Protocol", "ProcessId", "Executable"}, nil})
	register(Kind{NameLogin, Security, Triggered, func() any { return &Login{} },
		[]string{"ProcessId", "Operation", "Executable", "Result"}, []string{"UserId", "UserName"}})
	register(Kind{NameListeningPorts, Security, Periodic, func() any { return &ListeningPort{} },
		[]string{"LocalPort", "Protocol"}, nil})
	register(Kind{NameLocalUsers, Security, Periodic, func() any { return &LocalUser{} },
		[]string{"GroupIds", "GroupNames", "UserId", "UserName"}, nil})
	register(Kind{NameFirewallConfiguration, Security, Periodic, func() any { return &FirewallRule{} },
		[]string{"Enabled", "Action"}, nil})
	register(Kind{NameSystemInformation, Security, Periodic, func() any { return &SystemInformation{} },
		nil, nil})
	register(Kind{NameOSBaseline, Security, Periodic, func() any { return &BaselineResult{} },
		[]string{"Description", "CceId", "Result", "Error", "Severity"}, nil})
	register(Kind{NameConnectedHardware, Security, Periodic, func() any { return &ConnectedHardware{} },
		[]string{"HardwareCategory", "HardwareSubCategory", "HardwareName"}, nil})
	register(Kind{NameDiagnostic, Diagnostic, Triggered, func() any { return &DiagnosticRecord{} },
		[]string{"Severity", "Message", "ProcessId", "ThreadId"}, nil})
	register(Kind{NameConfigurationError, Operational, Triggered, func() any { return &ConfigurationError{} },
		[]string{"ConfigurationName", "ErrorType", "UsedConfiguration", "Message"}, nil})
	register(Kind{NameDroppedEventsStatistics, Operational, Periodic, func() any { return &DroppedEvents{} },
		[]string{"Queue", "CollectedEvents", "DroppedEvents"}, nil})
	register(Kind{NameMessageStatistics, Operational, Periodic, func() any { return &MessageStatistics{} },
		[]string{"MessagesSent", "MessagesUnder4KB", "TotalFailed"}, nil})
}

// Lookup returns the kind of an event name.
func Lookup(name string) (Kind, bool) {
	k, ok := kinds[name]
	return k, ok
}

// Names lists every event name, sorted.
func Names() []string {
	names := make([]string, 0, len(kinds))
	for n := range kinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
