package edgehub

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/amenzhinsky/iothub/common"
)

// Key is a device or module shared access key (base64). It never prints
// itself: String, Format and GoString all give "[REDACTED]".
type Key struct{ b64 string }

const redacted = "[REDACTED]"

func (Key) String() string               { return redacted }
func (Key) GoString() string             { return redacted }
func (Key) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, redacted) }
func (Key) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (k Key) IsZero() bool               { return k.b64 == "" }
func (k Key) bytes() ([]byte, error)     { return base64.StdEncoding.DecodeString(k.b64) }

// Connection-string keys.
const (
	csHostName        = "HostName"
	csDeviceID        = "DeviceId"
	csModuleID        = "ModuleId"
	csKey             = "SharedAccessKey"
	csGateway         = "GatewayHostName"
	csKeyName         = "SharedAccessKeyName"
	csX509            = "x509"
	csSignatureInline = "SharedAccessSignature"
)

// ParseConnectionString reads a device or module connection string,
// "HostName=…;DeviceId=…[;ModuleId=…][;GatewayHostName=…];SharedAccessKey=…",
// for standalone mode (EdgeHubConnectionString). Errors name the missing or
// invalid part and never contain the key.
func ParseConnectionString(s string) (Identity, Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Identity{}, Key{}, errors.New("connection string is empty")
	}
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ";") {
		if part == "" {
			continue
		}
		name, _, ok := strings.Cut(part, "=")
		if !ok {
			// Never echo the part: it may be (part of) the key.
			return Identity{}, Key{}, fmt.Errorf("connection string part %d has no '=': expected Name=Value pairs separated by ';'", i+1)
		}
		if seen[name] {
			return Identity{}, Key{}, fmt.Errorf("connection string sets %s twice", safeName(name))
		}
		seen[name] = true
	}
	m, err := common.ParseConnectionString(s, csHostName, csDeviceID, csKey)
	if err != nil {
		return Identity{}, Key{}, fmt.Errorf("connection string: %w", err)
	}
	switch {
	case m[csKeyName] != "":
		return Identity{}, Key{}, fmt.Errorf("connection string has %s: that is a hub policy, not a device or module key", csKeyName)
	case strings.EqualFold(m[csX509], "true"):
		return Identity{}, Key{}, errors.New("connection string is for X.509 authentication, which is not supported")
	case m[csSignatureInline] != "":
		return Identity{}, Key{}, fmt.Errorf("connection string carries a fixed %s; a key is required to renew tokens", csSignatureInline)
	}
	key := Key{b64: m[csKey]}
	if b, err := key.bytes(); err != nil || len(b) == 0 {
		return Identity{}, Key{}, fmt.Errorf("connection string: %s is not valid base64", csKey)
	}
	id := Identity{
		DeviceID:        m[csDeviceID],
		ModuleID:        m[csModuleID],
		IoTHubHostName:  m[csHostName],
		GatewayHostName: m[csGateway],
		AuthScheme:      AuthSchemeSAS,
	}
	errs := []error{
		checkID(csDeviceID, id.DeviceID),
		checkHost(csHostName, id.IoTHubHostName),
	}
	if id.ModuleID != "" {
		errs = append(errs, checkID(csModuleID, id.ModuleID))
	}
	if id.GatewayHostName != "" {
		errs = append(errs, checkHost(csGateway, id.GatewayHostName))
	}
	if err := errors.Join(errs...); err != nil {
		return Identity{}, Key{}, fmt.Errorf("connection string: %w", err)
	}
	return id, key, nil
}

// safeName returns a connection-string key name fit for an error
// message: only known names are quoted, since a malformed string may put
// (part of) the key where a name belongs.
func safeName(name string) string {
	switch name {
	case csHostName, csDeviceID, csModuleID, csKey, csGateway, csKeyName, csX509, csSignatureInline:
		return fmt.Sprintf("%q", name)
	}
	return "an unknown key"
}
