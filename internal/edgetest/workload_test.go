package edgetest

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWorkloadSignAndTrustBundle(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	if !strings.HasPrefix(e.wl.URI(), "unix://") || !strings.HasSuffix(e.wl.URI(), "/workload.sock") {
		t.Fatalf("URI %q", e.wl.URI())
	}
	data := StringToSign(SASAudience(tHub, tDev, tMod), 1795888340)
	if data != "hub.example.net%2Fdevices%2Fdev1%2Fmodules%2Fsec-mod\n1795888340" {
		t.Fatalf("string to sign %q", data)
	}
	st, body, hdr, err := workloadDo(ctx, e.wl, "POST", signPath(tMod, tGenID), "application/json; charset=utf-8", signBody(data))
	if err != nil || st != 200 {
		t.Fatalf("sign: %d %s %v", st, body, err)
	}
	if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", hdr.Get("Content-Type"))
	}
	var r struct{ Digest string }
	_ = json.Unmarshal(body, &r)
	if r.Digest != e.wl.ExpectedDigest(data) || r.Digest != SASSignature(tKey, data) {
		t.Fatalf("digest %q", r.Digest)
	}
	reqs := e.wl.SignRequests()
	if len(reqs) != 1 || reqs[0].KeyID != "primary" || reqs[0].Algo != "HMACSHA256" || string(reqs[0].Data) != data || reqs[0].APIVersion != "2018-06-28" {
		t.Fatalf("recorded %+v", reqs)
	}

	for _, tc := range []struct {
		name, path, ctype string
		body              []byte
		want              int
	}{
		{"wrong module", signPath("other", tGenID), "application/json", signBody("x"), 404},
		{"wrong genid", signPath(tMod, "1"), "application/json", signBody("x"), 404},
		{"no api-version", strings.TrimSuffix(signPath(tMod, tGenID), "?api-version=2018-06-28"), "application/json", signBody("x"), 400},
		{"text body", signPath(tMod, tGenID), "text/plain", signBody("x"), 415},
		{"bad json", signPath(tMod, tGenID), "application/json", []byte("{"), 400},
		{"bad base64", signPath(tMod, tGenID), "application/json", []byte(`{"data":"!!"}`), 400},
	} {
		st, body, _, err := workloadDo(ctx, e.wl, "POST", tc.path, tc.ctype, tc.body)
		if err != nil || st != tc.want {
			t.Errorf("%s: got %d %s %v, want %d", tc.name, st, body, err, tc.want)
			continue
		}
		var m struct{ Message string }
		if json.Unmarshal(body, &m) != nil || m.Message == "" {
			t.Errorf("%s: body %s is not {\"message\"}", tc.name, body)
		}
	}

	st, body, _, err = workloadDo(ctx, e.wl, "GET", "/trust-bundle?api-version=2019-11-05", "", nil)
	if err != nil || st != 200 {
		t.Fatalf("trust-bundle: %d %v", st, err)
	}
	var tb struct{ Certificate string }
	_ = json.Unmarshal(body, &tb)
	if !x509.NewCertPool().AppendCertsFromPEM([]byte(tb.Certificate)) {
		t.Fatalf("bundle does not parse: %q", tb.Certificate)
	}
	if e.wl.SignCalls() != 7 || e.wl.TrustBundleCalls() != 1 {
		t.Fatalf("calls sign=%d bundle=%d", e.wl.SignCalls(), e.wl.TrustBundleCalls())
	}
}

func TestWorkloadFaults(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)
	sign := func(ctx context.Context) (int, error) {
		st, _, _, err := workloadDo(ctx, e.wl, "POST", signPath(tMod, tGenID), "application/json", signBody("x"))
		return st, err
	}
	for _, code := range []int{500, 403, 429} {
		e.wl.SetFault(RouteSign, Fault{Status: code, Times: 2})
		for i := 0; i < 2; i++ {
			if st, err := sign(ctx); err != nil || st != code {
				t.Fatalf("fault %d: got %d %v", code, st, err)
			}
		}
		if st, err := sign(ctx); err != nil || st != 200 {
			t.Fatalf("after fault %d: got %d %v", code, st, err)
		}
	}

	e.wl.SetFault(RouteSign, Fault{CloseConn: true})
	if _, err := sign(ctx); err == nil {
		t.Fatal("close-conn fault: request succeeded")
	}

	e.wl.SetFault(RouteSign, Fault{Hang: time.Hour})
	hctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := sign(hctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang fault: %v", err)
	}
	e.wl.ClearFaults()
	if st, err := sign(ctx); err != nil || st != 200 {
		t.Fatalf("after clear: %d %v", st, err)
	}

	e.wl.SetFault(RouteTrustBundle, Fault{Status: 500, Times: 1})
	if st, _, _, _ := workloadDo(ctx, e.wl, "GET", "/trust-bundle?api-version=2018-06-28", "", nil); st != 500 {
		t.Fatalf("bundle fault: %d", st)
	}
	e.wl.SetGarbageTrustBundle(true)
	st, body, _, err := workloadDo(ctx, e.wl, "GET", "/trust-bundle?api-version=2018-06-28", "", nil)
	var tb struct{ Certificate string }
	_ = json.Unmarshal(body, &tb)
	if err != nil || st != 200 || x509.NewCertPool().AppendCertsFromPEM([]byte(tb.Certificate)) {
		t.Fatalf("garbage bundle: %d %q %v", st, tb.Certificate, err)
	}
}

func TestWorkloadConcurrencyCounters(t *testing.T) {
	ca, _ := NewCA()
	wl, err := NewWorkload(WorkloadConfig{Dir: t.TempDir(), ModuleID: tMod, GenerationID: tGenID, Key: tKey, TrustBundle: ca.PEM(), Throttle: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer wl.Close()
	wl.SetFault(RouteSign, Fault{Hang: time.Hour})
	ctx, cancel := context.WithCancel(ctxT(t))
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _, err := workloadDo(ctx, wl, "POST", signPath(tMod, tGenID), "application/json", signBody("x"))
			errs <- err
		}()
	}
	deadline := time.Now().Add(waitTimeout)
	for (wl.InFlight() < 10 || wl.Throttled() < 2) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if wl.InFlight() != 10 || wl.Throttled() != 2 || wl.MaxInFlight() < 11 {
		t.Fatalf("inflight=%d throttled=%d max=%d", wl.InFlight(), wl.Throttled(), wl.MaxInFlight())
	}
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err == nil {
			t.Fatal("a hung or throttled request succeeded")
		}
	}
	for wl.InFlight() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if wl.InFlight() != 0 {
		t.Fatalf("inflight %d after cancel", wl.InFlight())
	}
}

func TestWorkloadCloseAbortsHang(t *testing.T) {
	ca, _ := NewCA()
	wl, err := NewWorkload(WorkloadConfig{Dir: t.TempDir(), ModuleID: tMod, GenerationID: tGenID, Key: tKey, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	wl.SetFault(RouteTrustBundle, Fault{Hang: time.Hour})
	done := make(chan error, 1)
	go func() {
		_, _, _, err := workloadDo(context.Background(), wl, "GET", "/trust-bundle?api-version=2018-06-28", "", nil)
		done <- err
	}()
	for wl.InFlight() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := wl.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("hung request succeeded")
		}
	case <-time.After(waitTimeout):
		t.Fatal("Close did not abort the hanging request")
	}
}
