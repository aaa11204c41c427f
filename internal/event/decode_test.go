package event

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDecodeRejectsMalformed(t *testing.T) {
	good := string(message(t, examples()["Login"]))
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("fixture lacks %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	tests := []struct {
		name, in, want string
	}{
		{"not json", `{"AgentVersion":`, "not a JSON object"},
		{"array", `[]`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"empty object", `{}`, "missing required key"},
		{"no events", `{"AgentVersion":"1","AgentId":"7aaeef0e-614f-4ff2-97d2-1442186f73fa","MessageSchemaVersion":"1.0","Events":[]}`, "Events is empty"},
		{"unknown envelope key", replace(`"AgentVersion"`, `"Extra":1,"AgentVersion"`), `unknown key "Extra"`},
		{"short agent id", replace(agent.AgentID, "abc"), "36 characters"},
		{"schema version", replace(`"MessageSchemaVersion":"1.0"`, `"MessageSchemaVersion":"2.0"`), "MessageSchemaVersion"},
		{"unknown event key", replace(`"Category"`, `"Foo":1,"Category"`), `unknown key "Foo"`},
		{"aggregated category", replace(`"Category":"Triggered"`, `"Category":"Aggregated"`), "Category"},
		{"wrong event type", replace(`"EventType":"Security"`, `"EventType":"Operational"`), "EventType"},
		{"unknown name", replace(`"Name":"Login"`, `"Name":"Keylogger"`), "unknown event Name"},
		{"empty triggered", replace(`"IsEmpty":false`, `"IsEmpty":true`), "IsEmpty"},
		{"bad timestamp", replace(`"TimestampUTC":"2024-05-01T12:15:57.000Z"`, `"TimestampUTC":"yesterday"`), "TimestampUTC"},
		{"payload type", replace(`"ProcessId":1082`, `"ProcessId":"1082"`), "ProcessId"},
		{"payload fraction", replace(`"ProcessId":1082`, `"ProcessId":1082.5`), "ProcessId"},
		{"payload unknown key", replace(`"Result"`, `"Shell":"x","Result"`), `Shell`},
		{"payload missing key", replace(`"Operation":"PAM:authentication",`, ``), `missing required key "Operation"`},
		{"payload enum", replace(`"Result":"Fail"`, `"Result":"failed"`), "Result"},
		{"payload null", replace(`"UserName":"kfir"`, `"UserName":null`), "null"},
		{"not an ip", replace(`"RemoteAddress":"192.168.50.241"`, `"RemoteAddress":"somewhere"`), "not an IP"},
		{"extra details number", replace(`"Result":"Fail"`, `"Result":"Fail","ExtraDetails":{"K":39}`), "ExtraDetails"},
		{"login without user", replace(`"UserId":"1000","UserName":"kfir",`, ``), "needs one of"},
		{"too large", `{"x":"` + strings.Repeat("a", maxDecodeBytes) + `"}`, "exceeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeMessage([]byte(tc.in))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

// TestSamplesCorpus runs Microsoft's valid/invalid corpus through our
// decoder.
func TestSamplesCorpus(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "schemas", "security_message", "samples.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("skipping: Microsoft's samples.json is not available at %s (%v)", path, err)
	}
	var corpus struct{ Valid, Invalid []json.RawMessage }
	if err := json.Unmarshal(b, &corpus); err != nil {
		t.Fatal(err)
	}
	for i, m := range corpus.Valid {
		if _, err := DecodeMessage(m); err != nil {
			t.Errorf("valid[%d] rejected: %v", i, err)
		}
	}
	for i, m := range corpus.Invalid {
		if _, err := DecodeMessage(m); err == nil {
			t.Errorf("invalid[%d] accepted: %s", i, m)
		}
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, ev := range examples() {
		f.Add(message(&testing.T{}, ev))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := DecodeMessage(data)
		if err != nil {
			return
		}
		// Whatever we accept must re-encode into something we accept again.
		var datas [][]byte
		for _, ev := range m.Events {
			b, err := Encode(ev)
			if err != nil {
				t.Fatalf("accepted event does not encode: %v", err)
			}
			datas = append(datas, b)
		}
		again := Envelope{AgentVersion: m.AgentVersion, AgentID: m.AgentID}.AppendMessage(nil, datas)
		if _, err := DecodeMessage(again); err != nil {
			t.Fatalf("re-encoded accepted message rejected: %v\n%s", err, again)
		}
	})
}
