package edgehub

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Environment variable names set by edgeAgent for every custom module.
const (
	EnvWorkloadURI     = "IOTEDGE_WORKLOADURI"
	EnvDeviceID        = "IOTEDGE_DEVICEID"
	EnvModuleID        = "IOTEDGE_MODULEID"
	EnvGenerationID    = "IOTEDGE_MODULEGENERATIONID"
	EnvIoTHubHostName  = "IOTEDGE_IOTHUBHOSTNAME"
	EnvGatewayHostName = "IOTEDGE_GATEWAYHOSTNAME"
	EnvAuthScheme      = "IOTEDGE_AUTHSCHEME"
	EnvAPIVersion      = "IOTEDGE_APIVERSION"
)

// AuthSchemeSAS is the only authentication scheme supported.
const AuthSchemeSAS = "sasToken"

// maxIDLen is IoT Hub's limit for device and module ids.
const maxIDLen = 128

// Identity is who the module connects as, and where.
type Identity struct {
	// WorkloadURI is the workload API (unix:// or http(s)://); nil in
	// standalone (connection string) mode.
	WorkloadURI     *url.URL
	DeviceID        string
	ModuleID        string // empty for a device identity (standalone only)
	GenerationID    string
	IoTHubHostName  string
	GatewayHostName string // edgeHub's host name; empty: connect to IoTHubHostName
	AuthScheme      string
	APIVersion      string // workload API version the daemon speaks (informational)
}

// BrokerHost is the host the MQTT session connects to and the TLS server
// name it expects: the gateway if set, else the hub.
func (id Identity) BrokerHost() string {
	if id.GatewayHostName != "" {
		return id.GatewayHostName
	}
	return id.IoTHubHostName
}

// ClientID is the MQTT client id: "{device}/{module}" or "{device}".
func (id Identity) ClientID() string {
	if id.ModuleID == "" {
		return id.DeviceID
	}
	return id.DeviceID + "/" + id.ModuleID
}

// Username is the MQTT user name edgeHub and IoT Hub expect.
func (id Identity) Username() string {
	return id.IoTHubHostName + "/" + id.ClientID() + "/?api-version=" + mqttAPIVersion
}

var (
	// idPattern is IoT Hub's alphabet for device and module ids: ASCII
	// alphanumerics plus - . % _ * ? ! ( ) , : = @ $ '
	idPattern   = regexp.MustCompile(`^[A-Za-z0-9\-.%_*?!(),:=@$']+$`)
	hostPattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9\-_.]*[A-Za-z0-9])?$`)
	datePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// IdentityFromEnv reads the module identity that edgeAgent injects. Every
// variable is required; HOSTNAME is not used.
func IdentityFromEnv(getenv func(string) string) (Identity, error) {
	var errs []error
	get := func(name string) string {
		v := strings.TrimSpace(getenv(name))
		if v == "" {
			errs = append(errs, fmt.Errorf("%s is not set", name))
		}
		return v
	}
	id := Identity{
		DeviceID:        get(EnvDeviceID),
		ModuleID:        get(EnvModuleID),
		GenerationID:    get(EnvGenerationID),
		IoTHubHostName:  get(EnvIoTHubHostName),
		GatewayHostName: get(EnvGatewayHostName),
		AuthScheme:      get(EnvAuthScheme),
		APIVersion:      get(EnvAPIVersion),
	}
	rawURI := get(EnvWorkloadURI)
	if len(errs) > 0 {
		return Identity{}, fmt.Errorf("iot edge environment: %w", errors.Join(errs...))
	}
	u, err := parseWorkloadURI(rawURI)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", EnvWorkloadURI, err))
	}
	id.WorkloadURI = u
	if !strings.EqualFold(id.AuthScheme, AuthSchemeSAS) {
		errs = append(errs, fmt.Errorf("%s is %q: only %q is supported (X.509 module auth is not)", EnvAuthScheme, id.AuthScheme, AuthSchemeSAS))
	}
	errs = append(errs,
		checkID(EnvDeviceID, id.DeviceID),
		checkID(EnvModuleID, id.ModuleID),
		checkHost(EnvIoTHubHostName, id.IoTHubHostName),
		checkHost(EnvGatewayHostName, id.GatewayHostName),
	)
	if strings.ContainsAny(id.GenerationID, "/?#% ") {
		errs = append(errs, fmt.Errorf("%s %q contains characters not allowed in a generation id", EnvGenerationID, id.GenerationID))
	}
	if !datePattern.MatchString(id.APIVersion) {
		errs = append(errs, fmt.Errorf("%s %q is not a YYYY-MM-DD api version", EnvAPIVersion, id.APIVersion))
	}
	if err := errors.Join(errs...); err != nil {
		return Identity{}, fmt.Errorf("iot edge environment: %w", err)
	}
	return id, nil
}

// parseWorkloadURI accepts unix:///abs/path and http(s)://host[:port][/].
func parseWorkloadURI(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("not a URI: %w", err)
	}
	switch u.Scheme {
	case "unix":
		if u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			return nil, fmt.Errorf("%q: a unix URI needs an absolute socket path, e.g. unix:///var/run/iotedge/workload.sock", s)
		}
	case "http", "https":
		if u.Host == "" {
			return nil, fmt.Errorf("%q has no host", s)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("%q must not carry a query, fragment or user info", s)
		}
	default:
		return nil, fmt.Errorf("%q: scheme must be unix, http or https", s)
	}
	return u, nil
}

// checkID applies IoT Hub's device/module id rules.
func checkID(name, v string) error {
	switch {
	case len(v) > maxIDLen:
		return fmt.Errorf("%s is %d characters long; IoT Hub allows at most %d", name, len(v), maxIDLen)
	case !idPattern.MatchString(v):
		return fmt.Errorf("%s %q: IoT Hub ids may only contain ASCII letters, digits and - . %% _ * ? ! ( ) , : = @ $ '", name, v)
	}
	return nil
}

// checkHost accepts a DNS name or IPv4 address; no port, path or spaces.
func checkHost(name, v string) error {
	if len(v) > 253 || !hostPattern.MatchString(v) {
		return fmt.Errorf("%s %q is not a host name (no scheme, port, path or spaces)", name, v)
	}
	return nil
}
