package edgehub

import (
	"context"
	"testing"
	"time"
)

func TestMethods(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := newSessionFixture(t, fixtureConfig{options: func(o *Options) { o.MethodTimeout = time.Second }, noRun: true})
	f.s.HandleMethod("echo", func(_ context.Context, p []byte) (int, []byte) { return 200, p })
	f.s.HandleMethod("slow", func(ctx context.Context, _ []byte) (int, []byte) {
		close(entered)
		select {
		case <-release:
		case <-ctx.Done():
		}
		<-release // ignores its context: the session must answer anyway
		return 200, nil
	})
	f.s.HandleMethod("bad", func(context.Context, []byte) (int, []byte) { return 200, []byte("not json") })
	f.s.HandleMethod("panics", func(context.Context, []byte) (int, []byte) { panic("boom") })
	f.run(t)
	f.waitFor(t, "twin", func() bool { return f.twinCount() == 1 })
	ctx := ctxT(t)

	check := func(method string, payload string, wantStatus int, wantBody string) {
		t.Helper()
		st, body, err := f.br.Invoke(ctx, method, []byte(payload))
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if st != wantStatus || string(body) != wantBody {
			t.Fatalf("%s: %d %s, want %d %s", method, st, body, wantStatus, wantBody)
		}
	}
	check("echo", `{"x":1}`, 200, `{"x":1}`)
	check("nope", `{}`, 501, `{"error":"unknown method nope"}`)
	check("bad", `{}`, 500, `{"error":"method bad returned invalid JSON"}`)
	check("panics", `{}`, 500, `{"error":"method panics failed"}`)

	slow := make(chan int, 1)
	go func() {
		st, _, _ := f.br.Invoke(ctx, "slow", []byte(`{}`))
		slow <- st
	}()
	<-entered
	// While the handler is stuck: telemetry, twin and other methods work.
	if err := f.s.Send(ctx, securityMessage("during-slow")); err != nil {
		t.Fatal(err)
	}
	if err := f.s.UpdateReported(ctx, []byte(`{"busy":true}`)); err != nil {
		t.Fatal(err)
	}
	check("echo", `2`, 200, `2`)
	if st := <-slow; st != 504 {
		t.Fatalf("slow method status %d, want 504", st)
	}
	close(release)
}
