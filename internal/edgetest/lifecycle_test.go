package edgetest

import (
	"errors"
	"runtime"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestRestartKeepsPortAndState(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	lost := make(chan struct{}, 1)
	o := e.goodOpts(t)
	o.onLost = func() { lost <- struct{}{} }
	c, err := e.connect(t, o)
	if err != nil {
		t.Fatal(err)
	}
	topic := "devices/" + tDev + "/modules/" + tMod + "/messages/events/"
	waitTok(t, c.Publish(topic, 1, false, []byte("one")))
	addr := e.br.Addr()

	if err := e.br.Stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-ctx.Done():
		t.Fatal("client did not see the broker going away")
	}
	if e.br.Running() {
		t.Fatal("running after Stop")
	}
	if _, err := e.connect(t, e.goodOpts(t)); err == nil {
		t.Fatal("connected to a stopped broker")
	}
	if _, _, err := e.br.Invoke(ctx, "x", nil); !errors.Is(err, ErrBrokerStopped) {
		t.Fatalf("invoke while stopped: %v", err)
	}
	if _, err := e.br.PushDesired(map[string]any{"a": 1}); err != nil {
		t.Fatalf("push while stopped: %v", err)
	}

	if err := e.br.Restart(); err != nil {
		t.Fatal(err)
	}
	if e.br.Addr() != addr {
		t.Fatalf("addr changed %s -> %s", addr, e.br.Addr())
	}
	c2 := e.mustConnect(t)
	waitTok(t, c2.Publish(topic, 1, false, []byte("two")))
	msgs, err := e.br.WaitMessages(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(msgs[0].Body) != "one" || string(msgs[1].Body) != "two" {
		t.Fatalf("messages %q %q", msgs[0].Body, msgs[1].Body)
	}
	if _, v := e.br.Desired(); v != 2 {
		t.Fatalf("desired version %d", v)
	}
	if e.br.AcceptedConnects() != 2 {
		t.Fatalf("accepted %d", e.br.AcceptedConnects())
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	e := newEnv(t, func(c *BrokerConfig) { c.ReauthInterval = time.Hour })
	e.mustConnect(t)
	if err := e.br.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.br.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.br.Restart(); err == nil {
		t.Fatal("Restart after Close succeeded")
	}
}

func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	wl, err := NewWorkload(WorkloadConfig{Dir: t.TempDir(), ModuleID: tMod, GenerationID: tGenID, Key: tKey, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	br, err := NewBroker(BrokerConfig{HubHostname: tHub, DeviceID: tDev, ModuleID: tMod, ModuleKey: tKey, CA: ca, ReauthInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{ca: ca, wl: wl, br: br, clock: &fakeClock{}}
	t.Run("traffic", func(t *testing.T) {
		c := e.mustConnect(t)
		waitTok(t, c.Publish("devices/"+tDev+"/modules/"+tMod+"/messages/events/a=b", 1, false, []byte("x")))
		waitTok(t, c.Subscribe("$iothub/twin/res/#", 1, func(paho.Client, paho.Message) {}))
		waitTok(t, c.Publish("$iothub/twin/GET/?$rid=1", 1, false, []byte{}))
		if err := br.WaitTwinGets(ctxT(t), 1); err != nil {
			t.Fatal(err)
		}
	}) // t.Cleanup disconnects the client here
	if err := br.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := br.Restart(); err != nil {
		t.Fatal(err)
	}
	_ = br.Close()
	_ = wl.Close()
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
