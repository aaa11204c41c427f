package edgehub

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

func TestEventsTopic(t *testing.T) {
	const pre = "devices/dev1/modules/sec-mod/messages/events/"
	tests := []struct {
		name   string
		m      sink.Message
		output string
		want   string
	}{
		{"empty", sink.Message{}, "", pre},
		{"security message", sink.Message{
			ID: "m 1", ContentType: "application/json", ContentEncoding: "utf-8", InterfaceID: sink.InterfaceID,
			Properties: []sink.Property{{Key: "MessagePriority", Value: "High"}, {Key: "iothub-creation-time-utc", Value: "2021-04-21T11:30:16Z"}},
		}, "alerts",
			pre + "%24.on=alerts&%24.mid=m%201&%24.ct=application%2Fjson&%24.ce=utf-8&%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1" +
				"&MessagePriority=High&iothub-creation-time-utc=2021-04-21T11%3A30%3A16Z"},
		{"reserved characters", sink.Message{Properties: []sink.Property{
			{Key: "a b", Value: "c+d"}, {Key: "k/=&", Value: "v%#?"}, {Key: "ü", Value: "日本"}, {Key: "~._-", Value: "$"},
		}}, "", pre + "a%20b=c%2Bd&k%2F%3D%26=v%25%23%3F&%C3%BC=%E6%97%A5%E6%9C%AC&~._-=%24"},
		{"order kept", sink.Message{Properties: []sink.Property{{Key: "z", Value: "1"}, {Key: "a", Value: "2"}}}, "",
			pre + "z=1&a=2"},
		{"empty value", sink.Message{Properties: []sink.Property{{Key: "k", Value: ""}}}, "", pre + "k="},
	}
	for _, tt := range tests {
		if got := EventsTopic("dev1", "sec-mod", tt.m, tt.output); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
	if got := EventsTopic("dev1", "", sink.Message{ID: "x"}, ""); got != "devices/dev1/messages/events/%24.mid=x" {
		t.Errorf("device topic %q", got)
	}
}

// roundTrip parses the bag of topic as edgeHub does and checks it yields
// exactly the properties we encoded, in order.
func roundTrip(t *testing.T, topic string, m sink.Message, output string) {
	t.Helper()
	if strings.ContainsAny(topic, "+# \x00") {
		t.Fatalf("illegal character in topic %q", topic)
	}
	const pre = "devices/d/modules/m/messages/events/"
	bag, ok := strings.CutPrefix(topic, pre)
	if !ok {
		t.Fatalf("prefix: %q", topic)
	}
	if strings.Contains(bag, "/") {
		t.Fatalf("unescaped '/' in bag %q", bag)
	}
	got, err := edgetest.ParsePropertyBag(bag)
	if err != nil {
		t.Fatalf("edgeHub parser rejects %q: %v", bag, err)
	}
	want := append(systemProperties(m, output), m.Properties...)
	// .NET dictionary semantics: a repeated key keeps the first position
	// and the last value.
	var dedup []sink.Property
	idx := map[string]int{}
	for _, p := range want {
		if i, ok := idx[p.Key]; ok {
			dedup[i].Value = p.Value
			continue
		}
		idx[p.Key] = len(dedup)
		dedup = append(dedup, p)
	}
	if len(got) != len(dedup) {
		t.Fatalf("parsed %d properties, want %d: %q", len(got), len(dedup), bag)
	}
	for i, p := range dedup {
		if got[i].Key != p.Key || got[i].Value != p.Value || (p.Value != "") == got[i].NoValue {
			t.Fatalf("property %d: got %+v, want %+v (bag %q)", i, got[i], p, bag)
		}
	}
}

func TestEventsTopicRoundTrip(t *testing.T) {
	m := sink.Message{ID: "id with space", ContentType: "application/json", InterfaceID: sink.InterfaceID,
		Properties: []sink.Property{{Key: "a+b", Value: "c d=e&f/g%h"}, {Key: "$.custom", Value: "ü€"}}}
	roundTrip(t, EventsTopic("d", "m", m, "out put"), m, "out put")
}

func FuzzEventsTopic(f *testing.F) {
	f.Add("m 1", "application/json", "out", "a b", "c+d", "k/=&", "v%#?")
	f.Add("", "", "", "ü", "日本", "$", "%zz")
	f.Fuzz(func(t *testing.T, id, ct, out, k1, v1, k2, v2 string) {
		for _, s := range []string{id, ct, out, k1, v1, k2, v2} {
			if !utf8.ValidString(s) {
				t.Skip("Send refuses invalid UTF-8")
			}
		}
		if k1 == "" || k2 == "" {
			t.Skip("Send refuses empty keys")
		}
		m := sink.Message{ID: id, ContentType: ct, InterfaceID: sink.InterfaceID,
			Properties: []sink.Property{{Key: k1, Value: v1}, {Key: k2, Value: v2}}}
		topic := EventsTopic("d", "m", m, out)
		if strings.ContainsAny(topic, "+#") {
			t.Fatalf("wildcard in topic %q", topic)
		}
		for _, s := range []string{id, ct, out, k1, v1, k2, v2} {
			if got := edgetest.UnescapeDataString(EncodeComponent(s)); got != s {
				t.Fatalf("UnescapeDataString(EncodeComponent(%q)) = %q", s, got)
			}
		}
		roundTrip(t, topic, m, out)
	})
}
