package all

import (
	"slices"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

func TestRegistered(t *testing.T) {
	got := collect.Registered()
	for _, name := range []string{event.NameLocalUsers, event.NameSystemInformation, event.NameConnectedHardware, event.NameListeningPorts, event.NameProcessCreate, event.NameProcessTerminate, event.NameConnectionCreate, event.NameOSBaseline, event.NameLogin, event.NameFirewallConfiguration} {
		if !slices.Contains(got, name) {
			t.Errorf("%s not registered; registered: %v", name, got)
		}
	}
}
