package aggregate

import (
	"maps"
	"strconv"
	"strings"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

// keyFunc returns the identity of a payload item and a copy of it with the
// fields that differ between identical events (process ids, the ephemeral
// port) zeroed, as documented for the retired agents.
type keyFunc func(item any) (string, any, bool)

var aggregatable = map[string]keyFunc{
	"ProcessCreate":    processCreateKey,
	"ConnectionCreate": connectionCreateKey,
	"ProcessTerminate": processTerminateKey,
}

func join(parts ...string) string { return strings.Join(parts, "\x00") }

// withDetails returns item with extra ExtraDetails entries merged in.
func withDetails(item any, extra map[string]string) any {
	switch p := item.(type) {
	case event.ProcessCreate:
		p.ExtraDetails = merge(p.ExtraDetails, extra)
		return p
	case event.ConnectionCreate:
		p.ExtraDetails = merge(p.ExtraDetails, extra)
		return p
	case event.ProcessTerminate:
		p.ExtraDetails = merge(p.ExtraDetails, extra)
		return p
	}
	return item
}

func merge(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	maps.Copy(out, b)
	return out
}

// deref accepts payload items by value or pointer.
func deref[T any](item any) (T, bool) {
	switch p := item.(type) {
	case T:
		return p, true
	case *T:
		if p != nil {
			return *p, true
		}
	}
	var zero T
	return zero, false
}

func processCreateKey(item any) (string, any, bool) {
	p, ok := deref[event.ProcessCreate](item)
	if !ok {
		return "", item, false
	}
	p.ProcessID, p.ParentProcessID = 0, 0
	// Keep only the executable hash of the first event; it is not part of
	// the key (as in the C# agent) and other details are per process.
	if h, ok := p.ExtraDetails["Hash"]; ok {
		p.ExtraDetails = map[string]string{"Hash": h}
	} else {
		p.ExtraDetails = nil
	}
	return join(p.CommandLine, p.Executable, p.UserID, p.UserName), p, true
}

func connectionCreateKey(item any) (string, any, bool) {
	p, ok := deref[event.ConnectionCreate](item)
	if !ok {
		return "", item, false
	}
	p.ProcessID = 0
	port := p.RemotePort
	if p.Direction == "In" {
		port = p.LocalPort
		p.RemotePort = "*" // the client's ephemeral port differs per connection
	} else {
		p.LocalPort = ""
	}
	p.ExtraDetails = nil
	return join(p.CommandLine, p.Executable, p.UserID, p.Direction, p.LocalAddress, p.RemoteAddress, p.Protocol, port), p, true
}

func processTerminateKey(item any) (string, any, bool) {
	p, ok := deref[event.ProcessTerminate](item)
	if !ok {
		return "", item, false
	}
	p.ProcessID = 0
	p.ExtraDetails = nil
	return join(p.Executable, strconv.FormatInt(p.ExitStatus, 10)), p, true
}
