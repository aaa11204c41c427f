package edgehub

import (
	"fmt"
	"strings"
	"testing"
)

const testKeyB64 = "c2VjcmV0LW1vZHVsZS1rZXktMDEyMzQ1Njc4OWFiY2RlZg==" // "secret-module-key-0123456789abcdef"

func TestParseConnectionString(t *testing.T) {
	id, key, err := ParseConnectionString("HostName=hub.example.net;DeviceId=dev1;ModuleId=sec-mod;SharedAccessKey=" + testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	want := Identity{DeviceID: "dev1", ModuleID: "sec-mod", IoTHubHostName: "hub.example.net", AuthScheme: AuthSchemeSAS}
	if id != want {
		t.Errorf("identity = %+v, want %+v", id, want)
	}
	if key.b64 != testKeyB64 {
		t.Error("key not kept")
	}
	id, _, err = ParseConnectionString("HostName=hub.example.net;DeviceId=dev1;SharedAccessKey=" + testKeyB64 + ";GatewayHostName=localhost;")
	if err != nil {
		t.Fatal(err)
	}
	if id.ModuleID != "" || id.BrokerHost() != "localhost" || id.ClientID() != "dev1" {
		t.Errorf("device identity = %+v", id)
	}
	if got, want := id.Username(), "hub.example.net/dev1/?api-version=2018-06-30"; got != want {
		t.Errorf("username %q, want %q", got, want)
	}
}

func TestParseConnectionStringErrors(t *testing.T) {
	const k = ";SharedAccessKey=" + testKeyB64
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"HostName=h;DeviceId=d", "SharedAccessKey is required"},
		{"DeviceId=d" + k, "HostName is required"},
		{"HostName=h" + k, "DeviceId is required"},
		{"HostName=h;DeviceId=" + k, "DeviceId is required"},
		{"HostName=h;DeviceId=d;SharedAccessKey=not*base64", "SharedAccessKey is not valid base64"},
		{"HostName=h;DeviceId=d;c2VjcmV0" + k, "part 3 has no '='"},
		{"HostName=h;DeviceId=d;c2VjcmV0=;c2VjcmV0=" + k, "sets an unknown key twice"},
		{"HostName=h;HostName=g;DeviceId=d" + k, `sets "HostName" twice`},
		{"HostName=h;DeviceId=d;SharedAccessKeyName=iothubowner" + k, "hub policy"},
		{"HostName=h;DeviceId=d;x509=true" + k, "X.509"},
		{"HostName=h;DeviceId=d;SharedAccessSignature=SharedAccessSignature sr=x" + k, "fixed SharedAccessSignature"},
		{"HostName=h;DeviceId=d e" + k, `DeviceId "d e"`},
		{"HostName=h;DeviceId=d;ModuleId=m/x" + k, "ModuleId"},
		{"HostName=h/x;DeviceId=d" + k, "HostName"},
		{"HostName=h;DeviceId=d;GatewayHostName=g w" + k, "GatewayHostName"},
	}
	for _, tt := range tests {
		_, _, err := ParseConnectionString(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want %q", tt.in, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), testKeyB64) {
			t.Errorf("%q: error leaks the key: %v", tt.in, err)
		}
	}
}

func TestKeyNeverPrints(t *testing.T) {
	_, key, err := ParseConnectionString("HostName=h;DeviceId=d;SharedAccessKey=" + testKeyB64)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(key), fmt.Sprintf("%v %+v %#v %s %q %x", key, key, key, key, key, key), key.String()} {
		if strings.Contains(s, testKeyB64) || strings.Contains(s, "c2Vj") {
			t.Errorf("key printed: %s", s)
		}
	}
	st := struct{ K Key }{key}
	if s := fmt.Sprintf("%+v", st); strings.Contains(s, "c2Vj") {
		t.Errorf("key printed in struct: %s", s)
	}
}

func FuzzParseConnectionString(f *testing.F) {
	f.Add("HostName=hub.example.net;DeviceId=dev1;ModuleId=sec-mod;SharedAccessKey=" + testKeyB64)
	f.Add("HostName=h;DeviceId=d;SharedAccessKey=" + testKeyB64 + ";GatewayHostName=g")
	f.Add(";;=;==;a=b=c")
	f.Add("HostName=h;HostName=h")
	f.Fuzz(func(t *testing.T, s string) {
		id, key, err := ParseConnectionString(s)
		if err != nil {
			if key != (Key{}) || id != (Identity{}) {
				t.Fatal("error with non-zero result")
			}
			// The key value (if any) must never be quoted in the error.
			for _, part := range strings.Split(s, ";") {
				if v, ok := strings.CutPrefix(part, "SharedAccessKey="); ok && len(v) >= 8 && strings.Count(s, v) == 1 && strings.Contains(err.Error(), v) {
					t.Fatalf("error leaks key %q: %v", v, err)
				}
			}
			return
		}
		if id.DeviceID == "" || id.IoTHubHostName == "" || key.IsZero() {
			t.Fatalf("accepted incomplete %q: %+v", s, id)
		}
		if checkID("d", id.DeviceID) != nil || checkHost("h", id.IoTHubHostName) != nil {
			t.Fatalf("accepted invalid identity %+v", id)
		}
		if strings.ContainsAny(id.ClientID()+id.Username(), "+# ") {
			t.Fatalf("identity yields invalid MQTT strings: %+v", id)
		}
	})
}
