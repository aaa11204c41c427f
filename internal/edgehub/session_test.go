package edgehub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

func securityMessage(id string) sink.Message {
	return sink.Message{ID: id, Body: []byte(`{"AgentId":"x"}`), ContentType: "application/json", ContentEncoding: "utf-8",
		InterfaceID: sink.InterfaceID, Properties: []sink.Property{{Key: "MessagePriority", Value: "High"}, {Key: "note", Value: "a b+c"}}}
}

func TestSessionHappyPath(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{
		broker:  func(c *edgetest.BrokerConfig) {},
		options: func(o *Options) { o.OutputName = "alerts" },
		noRun:   true,
	})
	f.br.SetDesired(map[string]any{"logLevel": "info", "$version": 3})
	f.run(t)
	ctx := ctxT(t)

	f.waitFor(t, "initial twin", func() bool { return f.twinCount() == 1 })
	if v := f.lastTwin(t)["desired"]["$version"]; v != float64(3) {
		t.Fatalf("twin desired version %v", v)
	}
	m := securityMessage("m1")
	if err := f.s.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	msgs := f.br.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	got := msgs[0]
	if want := EventsTopic("dev1", "sec-mod", m, "alerts"); got.Topic != want || got.QoS != 1 {
		t.Fatalf("topic %q qos %d, want %q", got.Topic, got.QoS, want)
	}
	if got.SystemProps["$.ifid"] != sink.InterfaceID || got.SystemProps["$.on"] != "alerts" || got.SystemProps["$.mid"] != "m1" {
		t.Errorf("system properties %v", got.SystemProps)
	}
	if v, _ := got.App("note"); v != "a b+c" || string(got.Body) != string(m.Body) {
		t.Errorf("note %q body %q", v, got.Body)
	}
	if err := f.s.UpdateReported(ctx, []byte(`{"status":{"ok":true}}`)); err != nil {
		t.Fatal(err)
	}
	if r := f.br.Reported(); fmt.Sprint(r["status"]) != "map[ok:true]" {
		t.Errorf("reported %v", r)
	}
	v, err := f.br.PushDesired(map[string]any{"logLevel": "debug"})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "desired patch", func() bool { return len(f.patchList()) == 1 })
	var patch map[string]any
	_ = json.Unmarshal(f.patchList()[0], &patch)
	if patch["logLevel"] != "debug" || patch["$version"] != float64(v) {
		t.Errorf("patch %v", patch)
	}
	c := f.br.Connects()[0]
	if !c.Accepted || c.ClientID != "dev1/sec-mod" || c.Username != "hub.example.net/dev1/sec-mod/?api-version=2018-06-30" {
		t.Errorf("connect %+v", c)
	}
	if f.w.SignCalls() != 1 || f.w.TrustBundleCalls() != 1 {
		t.Errorf("sign %d bundle %d calls", f.w.SignCalls(), f.w.TrustBundleCalls())
	}
	if !f.connected() || testutil.ToFloat64(f.s.m.sent) != 1 {
		t.Error("metrics not updated")
	}
	if err := f.s.Run(ctx); err == nil {
		t.Error("second Run accepted")
	}
	if err := f.s.UpdateReported(ctx, []byte(`[1]`)); err == nil {
		t.Error("non-object reported patch accepted")
	}
}

func TestSessionRefusesOversizedAndInvalid(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	ctx := ctxT(t)
	m := sink.Message{ID: "big", Body: make([]byte, MaxPacketSize)}
	if err := f.s.Send(ctx, m); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("err = %v", err)
	}
	topic := EventsTopic("dev1", "sec-mod", sink.Message{ID: "fits"}, "")
	fits := sink.Message{ID: "fits", Body: make([]byte, MaxPacketSize-4-len(topic))}
	if err := f.s.Send(ctx, fits); err != nil {
		t.Fatalf("message at the limit: %v", err)
	}
	for _, bad := range []sink.Message{
		{ID: "dup", Properties: []sink.Property{{Key: "a", Value: "1"}, {Key: "a", Value: "2"}}},
		{ID: "empty", Properties: []sink.Property{{Key: "", Value: "1"}}},
		{ID: "utf8", Properties: []sink.Property{{Key: "k", Value: "\xff"}}},
		{ID: "sys", Properties: []sink.Property{{Key: "$.mid", Value: "x"}}},
	} {
		if err := f.s.Send(ctx, bad); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("%s: err = %v", bad.ID, err)
		}
	}
	if n := len(f.br.Messages()); n != 1 || len(f.br.Rejections()) != 0 {
		t.Fatalf("%d messages published, %d rejected", n, len(f.br.Rejections()))
	}
}

func TestSessionSendRespectsContext(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	f.waitFor(t, "connected", f.connected)
	if err := f.br.Stop(); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "disconnected", func() bool { return !f.connected() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.s.Send(ctx, securityMessage("x")); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestSessionBrokerRestartKeepsOrder(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	ctx := ctxT(t)
	f.waitFor(t, "connected", f.connected)
	if err := f.br.Stop(); err != nil {
		t.Fatal(err)
	}
	const n = 20
	sent := make(chan error, 1)
	go func() { // the caller's queue: one message at a time, in order
		for i := range n {
			if err := f.s.Send(ctx, securityMessage(fmt.Sprintf("m%02d", i))); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	f.waitFor(t, "a send waiting", func() bool { return testutil.ToFloat64(f.s.m.inflight) == 1 })
	if err := f.br.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range f.br.Messages() {
		id := m.SystemProps["$.mid"]
		if len(ids) > 0 && ids[len(ids)-1] == id {
			continue // an at-least-once resend
		}
		ids = append(ids, id)
	}
	if len(ids) != n {
		t.Fatalf("delivered %v", ids)
	}
	for i, id := range ids {
		if id != fmt.Sprintf("m%02d", i) {
			t.Fatalf("out of order: %v", ids)
		}
	}
	if testutil.ToFloat64(f.s.m.reconnects) < 1 {
		t.Error("reconnect not counted")
	}
}

func TestSessionTrustFailuresDoNotConnect(t *testing.T) {
	tests := map[string]func(f *sessionFixture){
		"bundle 500":     func(f *sessionFixture) { f.w.SetFault(edgetest.RouteTrustBundle, edgetest.Fault{Status: 500}) },
		"garbage bundle": func(f *sessionFixture) { f.w.SetGarbageTrustBundle(true) },
		"other CA":       func(f *sessionFixture) { f.w.SetTrustBundle(newCA(t).PEM()) },
	}
	for name, fault := range tests {
		t.Run(name, func(t *testing.T) {
			f := newSessionFixture(t, fixtureConfig{noRun: true})
			fault(f)
			f.run(t)
			f.waitFor(t, "3 failed attempts", func() bool { return testutil.ToFloat64(f.s.m.connectFailures) >= 3 })
			if n := f.acceptedConnects(); n != 0 || f.connected() {
				t.Fatalf("connected despite %s", name)
			}
			if name != "other CA" && len(f.br.Connects()) != 0 {
				t.Fatalf("CONNECT sent without a trusted bundle")
			}
			// Recovery once the bundle is right again.
			f.w.ClearFaults()
			f.w.SetTrustBundle(f.ca.PEM())
			f.waitFor(t, "connected", f.connected)
		})
	}
}

func TestSessionWrongServerCertificate(t *testing.T) {
	other := newCA(t)
	cert, err := other.ServerCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	f := newSessionFixture(t, fixtureConfig{broker: func(c *edgetest.BrokerConfig) { c.Cert = &cert }})
	f.waitFor(t, "3 failed attempts", func() bool { return testutil.ToFloat64(f.s.m.connectFailures) >= 3 })
	if len(f.br.Connects()) != 0 {
		t.Fatal("CONNECT (with the token) sent to an untrusted server")
	}
}

func TestSessionSignFailuresBounded(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{noRun: true})
	f.w.SetFault(edgetest.RouteSign, edgetest.Fault{Status: 500})
	f.run(t)
	f.waitFor(t, "3 failed attempts", func() bool { return testutil.ToFloat64(f.s.m.connectFailures) >= 3 })
	failures := testutil.ToFloat64(f.s.m.connectFailures)
	// 5 attempts per connect (WorkloadOptions default), one connect in progress.
	if calls := f.w.SignCalls(); float64(calls) > 5*(failures+1) {
		t.Fatalf("%d sign calls for %v failed connects", calls, failures)
	}
	if f.w.MaxInFlight() > 3 {
		t.Fatalf("max in flight %d", f.w.MaxInFlight())
	}
	f.w.ClearFaults()
	f.waitFor(t, "connected", f.connected)
}

func TestSessionTokenExpiryReconnects(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	f.waitFor(t, "connected", f.connected)
	f.br.ExpireTokens()
	f.waitFor(t, "second connect", func() bool { return f.acceptedConnects() >= 2 })
	f.waitFor(t, "twin re-read", func() bool { return f.twinCount() >= 2 })
	if f.w.SignCalls() < 2 || f.w.TrustBundleCalls() < 2 {
		t.Fatalf("reconnect without a new token/bundle: sign %d bundle %d", f.w.SignCalls(), f.w.TrustBundleCalls())
	}
	if err := f.s.Send(ctxT(t), securityMessage("after")); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(f.br.Disconnects()), "expired") {
		t.Logf("disconnects: %v", f.br.Disconnects())
	}
}
