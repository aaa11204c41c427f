package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestInsecureIoTHubCodeIsNotLinked: iothub v0.9.1's device client and MQTT
// transport fall back to InsecureSkipVerify and put '+' in topics; they
// must not be reachable from the module binary.
func TestInsecureIoTHubCodeIsNotLinked(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipping: the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/amenzhinsky/iothub/") && pkg != "github.com/amenzhinsky/iothub/common" {
			t.Errorf("module links %s", pkg)
		}
	}
}
