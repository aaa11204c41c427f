package edgetest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTelemetryCapture(t *testing.T) {
	e := newEnv(t, nil)
	c := e.mustConnect(t)
	ctx := ctxT(t)
	base := "devices/" + tDev + "/modules/" + tMod + "/messages/events/"
	bag := "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&%24.ct=application%2Fjson&%24.ce=utf-8&%24.on=alerts" +
		"&desc=a%20b%2Fc%26d%3De%25f%2Bg&user=J%C3%BCrgen%20%E2%9C%93&HubResourceId=x"
	body := []byte(`{"events":[1,2,3]}`)
	waitTok(t, c.Publish(base+bag+"/", 1, false, body))
	waitTok(t, c.Publish(base+bag, 1, false, body))
	waitTok(t, c.Publish(strings.TrimSuffix(base, "/"), 1, false, []byte("plain")))
	waitTok(t, c.Publish(base, 0, false, []byte("qos0")))
	msgs, err := e.br.WaitMessages(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	m := msgs[0]
	wantSys := map[string]string{"$.ifid": "urn:azureiot:Security:SecurityAgent:1", "$.ct": "application/json", "$.ce": "utf-8", "$.on": "alerts"}
	if d := cmp.Diff(wantSys, m.SystemProps); d != "" {
		t.Fatalf("system props (-want +got)\n%s", d)
	}
	wantApp := []Property{{Key: "desc", Value: "a b/c&d=e%f+g"}, {Key: "user", Value: "Jürgen ✓"}, {Key: "HubResourceId", Value: "x"}}
	if d := cmp.Diff(wantApp, m.AppProps); d != "" {
		t.Fatalf("app props (-want +got)\n%s", d)
	}
	if v, ok := m.App("user"); !ok || v != "Jürgen ✓" {
		t.Fatalf("App(user) = %q %v", v, ok)
	}
	if m.Topic != base+bag+"/" || m.Bag != bag || !bytes.Equal(m.Body, body) || m.QoS != 1 || m.ClientID != "dev1/sec-mod" {
		t.Fatalf("captured %+v", m)
	}
	if !cmp.Equal(msgs[1].AppProps, wantApp) || len(msgs[2].Properties) != 0 || string(msgs[2].Body) != "plain" || msgs[3].QoS != 0 {
		t.Fatalf("other captures %+v", msgs[1:])
	}
}

func TestTelemetryRejections(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	base := "devices/" + tDev + "/modules/" + tMod + "/messages/events/"
	cases := []struct {
		name, topic string
		size        int
		reason      string
	}{
		{"plus in topic (iothub D1)", base + "a+b=c+d", 10, "wildcard"},
		{"equals in value", base + "a=b=c", 10, "malformed property bag"},
		{"other identity", "devices/dev1/modules/other/messages/events/", 10, "not the connected client"},
		{"extra segments", base + "a=b/extra", 10, "no edgeHub template"},
		{"over 256 KiB", base, MaxInboundPacket, "packet too large"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := e.mustConnect(t)
			if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
				t.Fatal(err)
			}
			c.Publish(tc.topic, 1, false, make([]byte, tc.size)) // no PUBACK will come
			if err := e.br.WaitDisconnected(ctx, e.br.ClientID()); err != nil {
				t.Fatal(err)
			}
			rj, err := e.br.WaitRejections(ctx, i+1)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(rj[i].Reason, tc.reason) {
				t.Fatalf("rejection %+v, want %q", rj[i], tc.reason)
			}
			c.Disconnect(0)
		})
	}
	if n := len(e.br.Messages()); n != 0 {
		t.Fatalf("%d messages captured", n)
	}
	// just under the limit is fine
	c := e.mustConnect(t)
	topic := base
	waitTok(t, c.Publish(topic, 1, false, make([]byte, MaxInboundPacket-2-len(topic)-2)))
	if _, err := e.br.WaitMessages(ctx, 1); err != nil {
		t.Fatal(err)
	}
}
