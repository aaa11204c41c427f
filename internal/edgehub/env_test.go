package edgehub

import (
	"strings"
	"testing"
)

func goodEnv() map[string]string {
	return map[string]string{
		EnvWorkloadURI:     "unix:///var/run/iotedge/workload.sock",
		EnvDeviceID:        "dev1",
		EnvModuleID:        "azureiotsecurity",
		EnvGenerationID:    "637000000000000000",
		EnvIoTHubHostName:  "myhub.azure-devices.net",
		EnvGatewayHostName: "edgedevice",
		EnvAuthScheme:      "sasToken",
		EnvAPIVersion:      "2022-08-03",
	}
}

func lookup(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestIdentityFromEnv(t *testing.T) {
	id, err := IdentityFromEnv(lookup(goodEnv()))
	if err != nil {
		t.Fatal(err)
	}
	if id.WorkloadURI.Scheme != "unix" || id.WorkloadURI.Path != "/var/run/iotedge/workload.sock" {
		t.Errorf("workload URI = %v", id.WorkloadURI)
	}
	if got, want := id.ClientID(), "dev1/azureiotsecurity"; got != want {
		t.Errorf("ClientID = %q, want %q", got, want)
	}
	if got, want := id.Username(), "myhub.azure-devices.net/dev1/azureiotsecurity/?api-version=2018-06-30"; got != want {
		t.Errorf("Username = %q, want %q", got, want)
	}
	if got := id.BrokerHost(); got != "edgedevice" {
		t.Errorf("BrokerHost = %q", got)
	}
	for _, scheme := range []string{"SASTOKEN", "sastoken", "SasToken"} {
		e := goodEnv()
		e[EnvAuthScheme] = scheme
		if _, err := IdentityFromEnv(lookup(e)); err != nil {
			t.Errorf("auth scheme %q: %v", scheme, err)
		}
	}
	for _, uri := range []string{"http://127.0.0.1:15580", "https://localhost:15580/"} {
		e := goodEnv()
		e[EnvWorkloadURI] = uri
		if _, err := IdentityFromEnv(lookup(e)); err != nil {
			t.Errorf("workload URI %q: %v", uri, err)
		}
	}
}

func TestIdentityFromEnvErrors(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"missing workload", EnvWorkloadURI, "", "IOTEDGE_WORKLOADURI is not set"},
		{"missing device", EnvDeviceID, "", "IOTEDGE_DEVICEID is not set"},
		{"missing module", EnvModuleID, "  ", "IOTEDGE_MODULEID is not set"},
		{"missing generation", EnvGenerationID, "", "IOTEDGE_MODULEGENERATIONID is not set"},
		{"missing hub", EnvIoTHubHostName, "", "IOTEDGE_IOTHUBHOSTNAME is not set"},
		{"missing gateway", EnvGatewayHostName, "", "IOTEDGE_GATEWAYHOSTNAME is not set"},
		{"missing scheme", EnvAuthScheme, "", "IOTEDGE_AUTHSCHEME is not set"},
		{"missing api", EnvAPIVersion, "", "IOTEDGE_APIVERSION is not set"},
		{"x509", EnvAuthScheme, "x509Cert", "IOTEDGE_AUTHSCHEME is \"x509Cert\""},
		{"tcp uri", EnvWorkloadURI, "tcp://1.2.3.4:1", "IOTEDGE_WORKLOADURI"},
		{"relative unix", EnvWorkloadURI, "unix://var/run/x.sock", "absolute socket path"},
		{"http no host", EnvWorkloadURI, "http://", "no host"},
		{"device space", EnvDeviceID, "dev 1", "IOTEDGE_DEVICEID \"dev 1\": IoT Hub ids"},
		{"device slash", EnvDeviceID, "a/b", "IOTEDGE_DEVICEID"},
		{"module plus", EnvModuleID, "a+b", "IOTEDGE_MODULEID"},
		{"module hash", EnvModuleID, "a#b", "IOTEDGE_MODULEID"},
		{"module unicode", EnvModuleID, "modülé", "IOTEDGE_MODULEID"},
		{"device too long", EnvDeviceID, strings.Repeat("d", 129), "at most 128"},
		{"hub with scheme", EnvIoTHubHostName, "https://hub.net", "IOTEDGE_IOTHUBHOSTNAME"},
		{"gateway with port", EnvGatewayHostName, "edge:8883", "IOTEDGE_GATEWAYHOSTNAME"},
		{"generation slash", EnvGenerationID, "1/2", "IOTEDGE_MODULEGENERATIONID"},
		{"api version", EnvAPIVersion, "latest", "IOTEDGE_APIVERSION"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := goodEnv()
			e[tt.key] = tt.value
			_, err := IdentityFromEnv(lookup(e))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestIdentityFromEnvIgnoresHOSTNAME(t *testing.T) {
	e := goodEnv()
	e["HOSTNAME"] = ""
	if _, err := IdentityFromEnv(lookup(e)); err != nil {
		t.Fatal(err)
	}
}

func TestIDAlphabet(t *testing.T) {
	for _, ok := range []string{"a", "A-b.c_d", "x:y%z@w", "$edgeHub", "p(1),q=2!'*?"} {
		if err := checkID("id", ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
