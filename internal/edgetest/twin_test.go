package edgetest

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTwinGetOnlyToRequester(t *testing.T) {
	e := newEnv(t, func(c *BrokerConfig) { c.ExtraModules = map[string][]byte{"other": []byte("k2")} })
	ctx := ctxT(t)
	e.br.SetDesired(map[string]any{"collection": map[string]any{"intervalSec": 60}, "$version": 7})

	c := e.mustConnect(t)
	in := newInbox()
	waitTok(t, c.Subscribe("$iothub/twin/res/#", 1, in.handler))

	o := e.goodOpts(t)
	o.clientID, o.username = tDev+"/other", tHub+"/"+tDev+"/other/?api-version=1"
	se := time.Now().Add(time.Hour).Unix()
	sr := SASAudience(tHub, tDev, "other")
	o.password = fmt.Sprintf("SharedAccessSignature sr=%s&sig=%s&se=%d", sr, url.QueryEscape(SASSignature([]byte("k2"), StringToSign(sr, se))), se)
	spy, err := e.connect(t, o)
	if err != nil {
		t.Fatal(err)
	}
	spyIn := newInbox()
	waitTok(t, spy.Subscribe("$iothub/twin/res/#", 1, spyIn.handler))

	waitTok(t, c.Publish("$iothub/twin/GET/?$rid=1", 1, false, []byte(" ")))
	m := in.next(t)
	if m.Topic() != "$iothub/twin/res/200/?$rid=1" || m.Qos() != 1 {
		t.Fatalf("response %s qos %d", m.Topic(), m.Qos())
	}
	var doc map[string]any
	if err := json.Unmarshal(m.Payload(), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"desired":  map[string]any{"collection": map[string]any{"intervalSec": 60.0}, "$version": 7.0},
		"reported": map[string]any{"$version": 1.0},
	}
	if d := cmp.Diff(want, doc); d != "" {
		t.Fatalf("twin (-want +got)\n%s", d)
	}
	// The spy's own GET is answered (404: no twin) to the spy only; the
	// spy's first message must be that answer, not the module's 200.
	waitTok(t, spy.Publish("$iothub/twin/GET/?$rid=1", 1, false, []byte{}))
	if sm := spyIn.next(t); sm.Topic() != "$iothub/twin/res/404/?$rid=1" {
		t.Fatalf("spy received %s", sm.Topic())
	}
	if e.br.TwinGets() != 1 {
		t.Fatalf("gets %d", e.br.TwinGets())
	}
	if err := e.br.WaitTwinGets(ctx, 1); err != nil {
		t.Fatal(err)
	}

	e.br.FailTwinGets(429, 1)
	waitTok(t, c.Publish("$iothub/twin/GET/?$rid=2", 1, false, []byte{}))
	if m := in.next(t); m.Topic() != "$iothub/twin/res/429/?$rid=2" {
		t.Fatalf("fault response %s", m.Topic())
	}
	waitTok(t, c.Publish("$iothub/twin/GET/?$rid=3", 1, false, []byte{}))
	if m := in.next(t); m.Topic() != "$iothub/twin/res/200/?$rid=3" {
		t.Fatalf("after fault %s", m.Topic())
	}
	if spyIn.count() != 0 {
		t.Fatalf("spy got %d extra messages", spyIn.count())
	}
}

func TestReportedPatch(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	c := e.mustConnect(t)
	in := newInbox()
	waitTok(t, c.Subscribe("$iothub/twin/res/#", 1, in.handler))

	waitTok(t, c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=a", 1, false, []byte(`{"a":1,"b":{"c":2,"e":true},"f":"x"}`)))
	if m := in.next(t); m.Topic() != "$iothub/twin/res/204/?$rid=a" || len(m.Payload()) != 0 {
		t.Fatalf("response %s %q", m.Topic(), m.Payload())
	}
	waitTok(t, c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=b", 1, false, []byte(`{"b":{"c":null,"d":3},"f":null}`)))
	in.next(t)
	if err := e.br.WaitReportedPatches(ctx, 2); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": 1.0, "b": map[string]any{"d": 3.0, "e": true}}
	if d := cmp.Diff(want, e.br.Reported()); d != "" {
		t.Fatalf("reported (-want +got)\n%s", d)
	}
	if e.br.ReportedVersion() != 3 || len(e.br.ReportedPatches()) != 2 {
		t.Fatalf("version %d patches %d", e.br.ReportedVersion(), len(e.br.ReportedPatches()))
	}

	waitTok(t, c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=c", 1, false, []byte(`not json`)))
	if m := in.next(t); m.Topic() != "$iothub/twin/res/400/?$rid=c" {
		t.Fatalf("bad json: %s", m.Topic())
	}
	e.br.FailReportedPatches(500, 1)
	waitTok(t, c.Publish("$iothub/twin/PATCH/properties/reported/?$rid=d", 1, false, []byte(`{"z":1}`)))
	if m := in.next(t); m.Topic() != "$iothub/twin/res/500/?$rid=d" {
		t.Fatalf("fault: %s", m.Topic())
	}
	if _, ok := e.br.Reported()["z"]; ok || e.br.ReportedVersion() != 3 {
		t.Fatal("failed patch was applied")
	}
	waitTok(t, c.Publish("$iothub/twin/GET/?$rid=g", 1, false, []byte{}))
	var doc struct{ Reported map[string]any }
	_ = json.Unmarshal(in.next(t).Payload(), &doc)
	if doc.Reported["$version"] != 3.0 || doc.Reported["a"] != 1.0 {
		t.Fatalf("GET reported %v", doc.Reported)
	}
}

func TestPushDesired(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	o := e.goodOpts(t)
	o.persistent = true // even a persistent session must not get patches queued
	c, err := e.connect(t, o)
	if err != nil {
		t.Fatal(err)
	}
	in := newInbox()
	waitTok(t, c.Subscribe("$iothub/twin/PATCH/properties/desired/#", 1, in.handler))
	if err := e.br.WaitSubscribed(ctx, e.br.ClientID(), "$iothub/twin/PATCH/properties/desired/#"); err != nil {
		t.Fatal(err)
	}
	v, err := e.br.PushDesired(map[string]any{"logLevel": "debug"})
	if err != nil || v != 2 {
		t.Fatalf("push: %d %v", v, err)
	}
	m := in.next(t)
	if m.Topic() != "$iothub/twin/PATCH/properties/desired/?$version=2" || m.Qos() != 1 {
		t.Fatalf("patch topic %s", m.Topic())
	}
	var body map[string]any
	_ = json.Unmarshal(m.Payload(), &body)
	if !cmp.Equal(body, map[string]any{"logLevel": "debug", "$version": 2.0}) {
		t.Fatalf("patch body %s", m.Payload())
	}
	if err := e.br.PushDesiredWithVersion(map[string]any{"logLevel": nil, "x": 1}, 5); err != nil {
		t.Fatal(err)
	}
	if m := in.next(t); m.Topic() != "$iothub/twin/PATCH/properties/desired/?$version=5" {
		t.Fatalf("gap patch %s", m.Topic())
	}
	if d, v := e.br.Desired(); v != 5 || !cmp.Equal(d, map[string]any{"x": 1.0}) {
		t.Fatalf("desired %v v%d", d, v)
	}

	// Patch while disconnected is lost, even for a persistent session.
	waitInflightEmpty(t, e.br, e.br.ClientID()) // both PUBACKs reached the broker
	c.Disconnect(0)
	if err := e.br.WaitDisconnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.br.PushDesired(map[string]any{"lost": true}); err != nil {
		t.Fatal(err)
	}
	in2 := newInbox()
	o.password = tokenViaWorkload(t, e.wl, time.Now().Add(time.Hour).Unix())
	c2, err := e.connect(t, o)
	if err != nil {
		t.Fatal(err)
	}
	waitTok(t, c2.Subscribe("$iothub/twin/PATCH/properties/desired/#", 1, in2.handler))
	if _, err := e.br.PushDesired(map[string]any{"after": true}); err != nil {
		t.Fatal(err)
	}
	if m := in2.next(t); m.Topic() != "$iothub/twin/PATCH/properties/desired/?$version=7" {
		t.Fatalf("first patch after reconnect %s (v6 must have been lost)", m.Topic())
	}
}

func waitInflightEmpty(t *testing.T, b *Broker, id string) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		s := b.sessions[id]
		b.mu.Unlock()
		if s != nil && s.cl.State.Inflight.Len() == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("server-side inflight did not drain")
}
