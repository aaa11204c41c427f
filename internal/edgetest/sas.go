package edgetest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// SASAudience returns the URL-encoded sr value for a module identity, built
// the way .NET, iothub and this project do it:
// QueryEscape(hub + "/devices/" + QueryEscape(device) + "/modules/" + QueryEscape(module)).
// For ids in [A-Za-z0-9-] it is identical to what the Node SDK sends.
func SASAudience(hub, device, module string) string {
	return url.QueryEscape(hub + "/devices/" + url.QueryEscape(device) + "/modules/" + url.QueryEscape(module))
}

// StringToSign returns sr + "\n" + se, the bytes a module sends (base64) to
// the workload sign endpoint.
func StringToSign(sr string, se int64) string {
	return sr + "\n" + strconv.FormatInt(se, 10)
}

// SASSignature returns base64(HMAC-SHA256(key, data)): the digest the
// workload API returns for data, and the sig a valid token carries (before
// URL encoding). key is the raw (already base64-decoded) module key.
func SASSignature(key []byte, data string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// SASToken builds a module token the way a correct client does:
// "SharedAccessSignature sr=<sr>&sig=<QueryEscape(sig)>&se=<se>", no skn.
func SASToken(key []byte, hub, device, module string, se int64) string {
	sr := SASAudience(hub, device, module)
	sig := SASSignature(key, StringToSign(sr, se))
	return fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d", sr, url.QueryEscape(sig), se)
}

// ParsedSAS is a SharedAccessSignature token split the way edgeHub's
// SharedAccessSignature.Parse does.
type ParsedSAS struct {
	RawSR    string // sr exactly as in the token; the HMAC input
	Audience string // sr URL-decoded
	Sig      string // sig URL-decoded (WebUtility.UrlDecode: '+' becomes ' ')
	SE       int64  // expiry, Unix seconds
	RawSE    string // se exactly as in the token; the HMAC input
	SKN      string
	HasSKN   bool
}

// ParseSASToken parses "SharedAccessSignature k=v&k=v..." with fields sr,
// sig, se (required) and skn (optional).
func ParseSASToken(token string) (ParsedSAS, error) {
	var p ParsedSAS
	parts := strings.Fields(token)
	if len(parts) != 2 || parts[0] != "SharedAccessSignature" {
		return p, errors.New("sas: not a SharedAccessSignature token")
	}
	seen := map[string]string{}
	for _, f := range strings.Split(parts[1], "&") {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return p, fmt.Errorf("sas: malformed field %q", f)
		}
		if _, dup := seen[k]; dup {
			return p, fmt.Errorf("sas: duplicate field %q", k)
		}
		seen[k] = v
	}
	sr, ok1 := seen["sr"]
	sig, ok2 := seen["sig"]
	se, ok3 := seen["se"]
	if !ok1 || !ok2 || !ok3 || sr == "" || sig == "" || se == "" {
		return p, errors.New("sas: sr, sig and se are required")
	}
	aud, err := url.QueryUnescape(sr) // WebUtility.UrlDecode
	if err != nil {
		return p, fmt.Errorf("sas: bad sr: %w", err)
	}
	sigDec, err := url.QueryUnescape(sig)
	if err != nil {
		return p, fmt.Errorf("sas: bad sig: %w", err)
	}
	exp, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return p, fmt.Errorf("sas: bad se: %w", err)
	}
	p = ParsedSAS{RawSR: sr, Audience: aud, Sig: sigDec, SE: exp, RawSE: se}
	p.SKN, p.HasSKN = seen["skn"]
	return p, nil
}

// UsernameInfo is the result of ParseUsername.
type UsernameInfo struct {
	Host, DeviceID, ModuleID     string
	APIVersion, DeviceClientType string
	ModelID                      string
}

// ParseUsername ports edgeHub's MqttUsernameParser: "{host}/{device}[/{module}]/?{props}"
// (the last segment starting with '?') or the same without '?', where the
// last segment must contain "api-version=". api-version must be present and
// non-blank; its value is not checked. The host is not checked here.
func ParseUsername(username string) (UsernameInfo, error) {
	var u UsernameInfo
	if strings.TrimSpace(username) == "" {
		return u, errors.New("username: empty")
	}
	seg := strings.Split(username, "/")
	last := seg[len(seg)-1]
	var query string
	switch {
	case strings.HasPrefix(last, "?") && (len(seg) == 3 || len(seg) == 4):
		query = strings.TrimSpace(last[1:])
	case !strings.HasPrefix(last, "?") && (len(seg) == 3 || len(seg) == 4) && strings.Contains(last, "api-version="):
		query = strings.TrimSpace(last)
	default:
		return u, fmt.Errorf("username %q does not contain valid values", username)
	}
	u.Host = seg[0]
	u.DeviceID = strings.TrimSpace(seg[1])
	if len(seg) == 4 {
		u.ModuleID = strings.TrimSpace(seg[2])
	}
	params := map[string]string{}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := params[k]; dup {
			continue // first one wins
		}
		params[k] = unescapeDataString(v)
	}
	u.APIVersion = params["api-version"]
	u.DeviceClientType = params["DeviceClientType"]
	u.ModelID = params["model-id"]
	if strings.TrimSpace(u.APIVersion) == "" {
		return u, fmt.Errorf("username %q does not contain a valid api-version", username)
	}
	if u.DeviceID == "" {
		return u, fmt.Errorf("username %q does not contain a valid device id", username)
	}
	return u, nil
}
