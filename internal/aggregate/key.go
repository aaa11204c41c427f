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

// Container attribution, as the process and connection collectors name
// it. The same command in two IoT Edge modules is two findings, so the
// container is part of every key and survives aggregation.
var containerDetails = []string{"ContainerId", "ContainerName", "IoTEdgeModule"}

// keepContainer returns only the container attribution of details (nil
// when there is none) and the container id for the key.
func keepContainer(details map[string]string, keep ...string) (map[string]string, string) {
	var out map[string]string
	for _, k := range append(keep, containerDetails...) {
		if v, ok := details[k]; ok {
			if out == nil {
				out = make(map[string]string, 4)
			}
			out[k] = v
		}
	}
	return out, details["ContainerId"]
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
	// Keep the executable hash of the first event; it is not part of the
	// key (as in the C# agent) and other details are per process.
	var container string
	p.ExtraDetails, container = keepContainer(p.ExtraDetails, "Hash")
	return join(p.CommandLine, p.Executable, p.UserID, p.UserName, container), p, true
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
	var container string
	p.ExtraDetails, container = keepContainer(p.ExtraDetails)
	return join(p.CommandLine, p.Executable, p.UserID, p.Direction, p.LocalAddress, p.RemoteAddress, p.Protocol, port, container), p, true
}

func processTerminateKey(item any) (string, any, bool) {
	p, ok := deref[event.ProcessTerminate](item)
	if !ok {
		return "", item, false
	}
	p.ProcessID = 0
	var container string
	p.ExtraDetails, container = keepContainer(p.ExtraDetails)
	return join(p.Executable, strconv.FormatInt(p.ExitStatus, 10), container), p, true
}
