package edgehub

import (
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

// System property wire keys, in the order Microsoft's SDKs emit them.
const (
	propOutputName      = "$.on"
	propMessageID       = "$.mid"
	propCorrelationID   = "$.cid"
	propUserID          = "$.uid"
	propTo              = "$.to"
	propContentType     = "$.ct"
	propContentEncoding = "$.ce"
	propInterfaceID     = "$.ifid"
	propExpiry          = "$.exp"
)

// EventsTopic is the telemetry topic for m:
// devices/{d}/modules/{m}/messages/events/{bag} (or devices/{d}/messages/
// events/{bag} when module is empty). The bag holds the system properties
// that are set, in the order $.on $.mid $.cid $.uid $.to $.ct $.ce $.ifid
// $.exp, then the application properties in order, each key and value
// percent-encoded (see EncodeComponent). The ids are written as they are,
// as edgeHub matches them literally; they must be valid IoT Hub ids (as
// IdentityFromEnv and ParseConnectionString ensure), which excludes '/',
// '+', '#' and spaces. The bag never contains '+', '#', '/' or a space.
func EventsTopic(device, module string, m sink.Message, outputName string) string {
	var b strings.Builder
	b.WriteString("devices/")
	b.WriteString(device)
	if module != "" {
		b.WriteString("/modules/")
		b.WriteString(module)
	}
	b.WriteString("/messages/events/")
	first := true
	add := func(k, v string) {
		if !first {
			b.WriteByte('&')
		}
		first = false
		b.WriteString(EncodeComponent(k))
		b.WriteByte('=')
		b.WriteString(EncodeComponent(v))
	}
	for _, p := range systemProperties(m, outputName) {
		add(p.Key, p.Value)
	}
	for _, p := range m.Properties {
		add(p.Key, p.Value)
	}
	return b.String()
}

// systemProperties lists the set system properties in wire order.
// sink.Message has no correlation id, user id, "to" or expiry, so $.cid,
// $.uid, $.to and $.exp are never set here.
func systemProperties(m sink.Message, outputName string) []sink.Property {
	all := []sink.Property{
		{Key: propOutputName, Value: outputName},
		{Key: propMessageID, Value: m.ID},
		{Key: propContentType, Value: m.ContentType},
		{Key: propContentEncoding, Value: m.ContentEncoding},
		{Key: propInterfaceID, Value: m.InterfaceID},
	}
	out := all[:0]
	for _, p := range all {
		if p.Value != "" {
			out = append(out, p)
		}
	}
	return out
}

const upperHex = "0123456789ABCDEF"

// EncodeComponent percent-encodes every byte of s outside RFC 3986
// unreserved characters (A-Z a-z 0-9 - . _ ~) as %XX with upper-case hex:
// a space is %20 (never '+') and '$' is %24. It is the inverse of .NET's
// Uri.UnescapeDataString for valid UTF-8, which edgeHub uses to parse the
// property bag.
func EncodeComponent(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', upperHex[c>>4], upperHex[c&0xF])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
