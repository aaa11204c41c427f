package event

// Payload item types, one per event kind, with the schema's field names.
// Optional fields use omitempty; required ones never do. ExtraDetails
// values are strings, as the schema demands.

// ProcessCreate is a payload item of ProcessCreate.
type ProcessCreate struct {
	Executable      string            `json:"Executable"`
	ProcessID       int64             `json:"ProcessId"`
	ParentProcessID int64             `json:"ParentProcessId"`
	UserID          string            `json:"UserId"`
	UserName        string            `json:"UserName,omitempty"`
	CommandLine     string            `json:"CommandLine"`
	ExtraDetails    map[string]string `json:"ExtraDetails,omitempty"`
}

// ProcessTerminate is a payload item of ProcessTerminate.
type ProcessTerminate struct {
	Executable   string            `json:"Executable"`
	ProcessID    int64             `json:"ProcessId"`
	ExitStatus   int64             `json:"ExitStatus"`
	ExtraDetails map[string]string `json:"ExtraDetails,omitempty"`
}

// ConnectionCreate is a payload item of ConnectionCreate.
type ConnectionCreate struct {
	RemoteAddress string            `json:"RemoteAddress"`
	RemotePort    string            `json:"RemotePort"`
	LocalAddress  string            `json:"LocalAddress,omitempty"`
	LocalPort     string            `json:"LocalPort,omitempty"`
	Direction     string            `json:"Direction"`
	Protocol      string            `json:"Protocol"`
	ProcessID     int64             `json:"ProcessId"`
	UserID        string            `json:"UserId,omitempty"`
	Executable    string            `json:"Executable"`
	CommandLine   string            `json:"CommandLine,omitempty"`
	ExtraDetails  map[string]string `json:"ExtraDetails,omitempty"`
}

// Login is a payload item of Login. The schema wants UserId or UserName.
type Login struct {
	ProcessID     int64             `json:"ProcessId"`
	UserID        string            `json:"UserId,omitempty"`
	UserName      string            `json:"UserName,omitempty"`
	Operation     string            `json:"Operation"`
	Executable    string            `json:"Executable"`
	RemoteAddress string            `json:"RemoteAddress,omitempty"`
	RemotePort    string            `json:"RemotePort,omitempty"`
	LocalPort     string            `json:"LocalPort,omitempty"`
	Result        string            `json:"Result"`
	ExtraDetails  map[string]string `json:"ExtraDetails,omitempty"`
}

// ListeningPort is a payload item of ListeningPorts.
type ListeningPort struct {
	Protocol      string            `json:"Protocol"`
	LocalAddress  string            `json:"LocalAddress,omitempty"`
	LocalPort     string            `json:"LocalPort"`
	RemoteAddress string            `json:"RemoteAddress,omitempty"`
	RemotePort    string            `json:"RemotePort,omitempty"`
	ExtraDetails  map[string]string `json:"ExtraDetails,omitempty"`
}

// LocalUser is a payload item of LocalUsers. Group lists are ;-joined,
// primary group first.
type LocalUser struct {
	UserName     string            `json:"UserName"`
	UserID       string            `json:"UserId"`
	GroupNames   string            `json:"GroupNames"`
	GroupIDs     string            `json:"GroupIds"`
	ExtraDetails map[string]string `json:"ExtraDetails,omitempty"`
}

// FirewallRule is a payload item of FirewallConfiguration. Priority is a
// pointer because 0 is a real rule index.
type FirewallRule struct {
	Priority           *int64            `json:"Priority,omitempty"`
	Direction          string            `json:"Direction,omitempty"`
	ChainName          string            `json:"ChainName,omitempty"`
	Application        string            `json:"Application,omitempty"`
	Enabled            bool              `json:"Enabled"`
	Action             string            `json:"Action"`
	SourceAddress      string            `json:"SourceAddress,omitempty"`
	SourcePort         string            `json:"SourcePort,omitempty"`
	DestinationAddress string            `json:"DestinationAddress,omitempty"`
	DestinationPort    string            `json:"DestinationPort,omitempty"`
	Protocol           string            `json:"Protocol,omitempty"`
	ExtraDetails       map[string]string `json:"ExtraDetails,omitempty"`
}

// SystemInformation is the payload item of SystemInformation; every field
// is optional in the schema.
type SystemInformation struct {
	OSName                  string            `json:"OSName,omitempty"`
	OSVersion               string            `json:"OSVersion,omitempty"`
	OSVendor                string            `json:"OSVendor,omitempty"`
	OsArchitecture          string            `json:"OsArchitecture,omitempty"`
	HostName                string            `json:"HostName,omitempty"`
	BIOSVersion             string            `json:"BIOSVersion,omitempty"`
	BootDevice              string            `json:"BootDevice,omitempty"`
	TotalPhysicalMemoryInKB *int64            `json:"TotalPhysicalMemoryInKB,omitempty"`
	FreePhysicalMemoryInKB  *int64            `json:"FreePhysicalMemoryInKB,omitempty"`
	TotalVirtualMemoryInKB  *int64            `json:"TotalVirtualMemoryInKB,omitempty"`
	FreeVirtualMemoryInKB   *int64            `json:"FreeVirtualMemoryInKB,omitempty"`
	ExtraDetails            map[string]string `json:"ExtraDetails,omitempty"`
}

// BaselineResult is a payload item of OSBaseline.
type BaselineResult struct {
	Description  string            `json:"Description"`
	CceID        string            `json:"CceId"`
	Result       string            `json:"Result"`
	Error        string            `json:"Error"`
	Severity     string            `json:"Severity"`
	ExtraDetails map[string]string `json:"ExtraDetails,omitempty"`
}

// ConnectedHardware is a payload item of ConnectedHardware.
type ConnectedHardware struct {
	HardwareCategory    string            `json:"HardwareCategory"`
	HardwareSubCategory string            `json:"HardwareSubCategory"`
	HardwareName        string            `json:"HardwareName"`
	ExtraDetails        map[string]string `json:"ExtraDetails,omitempty"`
}

// DiagnosticRecord is a payload item of Diagnostic.
type DiagnosticRecord struct {
	CorrelationID string            `json:"CorrelationId,omitempty"`
	Severity      string            `json:"Severity"`
	Message       string            `json:"Message"`
	ProcessID     int64             `json:"ProcessId"`
	ThreadID      int64             `json:"ThreadId"`
	ExtraDetails  map[string]string `json:"ExtraDetails,omitempty"`
}

// ConfigurationError is a payload item of ConfigurationError.
type ConfigurationError struct {
	ConfigurationName string            `json:"ConfigurationName"`
	ErrorType         string            `json:"ErrorType"`
	UsedConfiguration string            `json:"UsedConfiguration"`
	Message           string            `json:"Message"`
	ExtraDetails      map[string]string `json:"ExtraDetails,omitempty"`
}

// DroppedEvents is a payload item of DroppedEventsStatistics.
type DroppedEvents struct {
	Queue           string            `json:"Queue"`
	CollectedEvents int64             `json:"CollectedEvents"`
	DroppedEvents   int64             `json:"DroppedEvents"`
	ExtraDetails    map[string]string `json:"ExtraDetails,omitempty"`
}

// MessageStatistics is the payload item of MessageStatistics.
type MessageStatistics struct {
	MessagesSent     int64             `json:"MessagesSent"`
	MessagesUnder4KB int64             `json:"MessagesUnder4KB"`
	TotalFailed      int64             `json:"TotalFailed"`
	ExtraDetails     map[string]string `json:"ExtraDetails,omitempty"`
}
