package edgehub

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestTwinDesiredGapTriggersGet(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	f.waitFor(t, "initial twin", func() bool { return f.twinCount() == 1 })
	v, err := f.br.PushDesired(map[string]any{"a": 1})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "patch", func() bool { return len(f.patchList()) == 1 })
	if err := f.br.PushDesiredWithVersion(map[string]any{"b": 2}, v+2); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "full twin after gap", func() bool { return f.twinCount() == 2 })
	d := f.lastTwin(t)["desired"]
	if d["b"] != float64(2) || d["$version"] != float64(v+2) {
		t.Fatalf("desired after gap %v", d)
	}
	if len(f.patchList()) != 1 || testutil.ToFloat64(f.s.m.desired.WithLabelValues("gap")) != 1 {
		t.Fatal("gap patch applied as a patch")
	}
	// The next in-order patch is applied normally.
	if _, err := f.br.PushDesired(map[string]any{"c": 3}); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "patch after gap", func() bool { return len(f.patchList()) == 2 })
}

func TestTwinPatchMissedWhileDisconnected(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{})
	f.waitFor(t, "initial twin", func() bool { return f.twinCount() == 1 })
	if err := f.br.Stop(); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "disconnected", func() bool { return !f.connected() })
	if _, err := f.br.PushDesired(map[string]any{"missed": true}); err != nil {
		t.Fatal(err)
	}
	if err := f.br.Restart(); err != nil {
		t.Fatal(err)
	}
	f.waitFor(t, "twin after reconnect", func() bool { return f.twinCount() == 2 })
	if d := f.lastTwin(t)["desired"]; d["missed"] != true {
		t.Fatalf("missed patch not recovered: %v", d)
	}
	if len(f.patchList()) != 0 {
		t.Fatal("a patch was delivered while disconnected")
	}
}

func TestTwinGetAndReportedRetry(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{noRun: true})
	f.br.FailTwinGets(500, 2)
	f.br.FailReportedPatches(429, 2)
	f.run(t)
	f.waitFor(t, "twin after failures", func() bool { return f.twinCount() == 1 })
	if err := f.s.UpdateReported(ctxT(t), []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if f.br.Reported()["x"] != float64(1) {
		t.Fatal("reported not stored")
	}
	f.br.FailReportedPatches(400, 1)
	err := f.s.UpdateReported(ctxT(t), []byte(`{"y":1}`))
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("400 not returned: %v", err)
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{lifetime: 2 * time.Second, options: func(o *Options) { o.RenewFraction = 0.25 }})
	f.waitFor(t, "renewal", func() bool { return testutil.ToFloat64(f.s.m.tokenRenewals) >= 1 })
	f.waitFor(t, "second connect", func() bool { return f.acceptedConnects() >= 2 })
	if testutil.ToFloat64(f.s.m.reconnects) != 0 {
		t.Fatal("the broker dropped the connection before renewal")
	}
	f.waitFor(t, "twin re-read", func() bool { return f.twinCount() >= 2 })
	if err := f.s.Send(ctxT(t), securityMessage("renewed")); err != nil {
		t.Fatal(err)
	}
}

func TestTwinRequestTimeout(t *testing.T) {
	f := newSessionFixture(t, fixtureConfig{options: func(o *Options) { o.TwinTimeout = 50 * time.Millisecond }})
	f.waitFor(t, "connected", f.connected)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.s.UpdateReported(ctx, []byte(`{}`)); err == nil {
		t.Fatal("cancelled update succeeded")
	}
}
