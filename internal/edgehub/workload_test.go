package edgehub

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

type workloadFixture struct {
	w   *edgetest.Workload
	ca  *edgetest.CA
	id  Identity
	key []byte
	c   *WorkloadClient
	m   *WorkloadMetrics
}

func newWorkloadFixture(t *testing.T, o WorkloadOptions) *workloadFixture {
	t.Helper()
	ca := newCA(t)
	key, _ := base64.StdEncoding.DecodeString(testKeyB64)
	// Short directory: unix socket paths are limited to ~108 bytes.
	dir, err := os.MkdirTemp("", "eh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	w, err := edgetest.NewWorkload(edgetest.WorkloadConfig{Dir: dir, ModuleID: "sec-mod", GenerationID: "637000000000000000",
		Key: key, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	u, _ := url.Parse(w.URI())
	id := Identity{WorkloadURI: u, DeviceID: "dev1", ModuleID: "sec-mod", GenerationID: "637000000000000000",
		IoTHubHostName: "hub.example.net", GatewayHostName: "localhost", AuthScheme: AuthSchemeSAS, APIVersion: "2022-08-03"}
	if o.Metrics == nil {
		o.Metrics = NewWorkloadMetrics(prometheus.NewRegistry())
	}
	if o.MinBackoff == 0 {
		o.MinBackoff, o.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	}
	c, err := NewWorkloadClient(id, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &workloadFixture{w: w, ca: ca, id: id, key: key, c: c, m: o.Metrics}
}

func (f *workloadFixture) errCount(op, reason string) float64 {
	return testutil.ToFloat64(f.m.errors.WithLabelValues(op, reason))
}

func TestWorkloadSignAndBundle(t *testing.T) {
	f := newWorkloadFixture(t, WorkloadOptions{})
	ctx := context.Background()
	data := StringToSign(f.id, time.Unix(1795888340, 0))
	digest, err := f.c.Sign(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := base64.StdEncoding.EncodeToString(digest), f.w.ExpectedDigest(string(data)); got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
	reqs := f.w.SignRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d sign requests", len(reqs))
	}
	r := reqs[0]
	if r.KeyID != "primary" || r.Algo != "HMACSHA256" || r.APIVersion != "2018-06-28" || r.ContentType != "application/json" || string(r.Data) != string(data) {
		t.Fatalf("sign request %+v", r)
	}
	b, err := f.c.TrustBundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(f.ca.PEM()) {
		t.Fatal("bundle differs")
	}
	if _, err := TLSConfig(b, "localhost"); err != nil {
		t.Fatal(err)
	}
}

func TestWorkloadRetries(t *testing.T) {
	tests := []struct {
		name      string
		fault     edgetest.Fault
		wantCalls int64
		reason    string
		ok        bool
	}{
		{"500 twice then ok", edgetest.Fault{Status: 500, Times: 2}, 3, reasonStatus5xx, true},
		{"429 once then ok", edgetest.Fault{Status: 429, Times: 1}, 2, reasonStatus429, true},
		{"close twice then ok", edgetest.Fault{CloseConn: true, Times: 2}, 3, reasonConnection, true},
		{"hang once then ok", edgetest.Fault{Hang: 30 * time.Second, Times: 1}, 2, reasonTimeout, true},
		{"500 forever", edgetest.Fault{Status: 500}, 4, reasonStatus5xx, false},
		{"close forever", edgetest.Fault{CloseConn: true}, 4, reasonConnection, false},
		{"403 no retry", edgetest.Fault{Status: 403}, 1, reasonStatus4xx, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newWorkloadFixture(t, WorkloadOptions{Timeout: 300 * time.Millisecond, MaxAttempts: 4})
			f.w.SetFault(edgetest.RouteSign, tt.fault)
			_, err := f.c.Sign(context.Background(), []byte("x"))
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
			if got := f.w.SignCalls(); got != tt.wantCalls {
				t.Errorf("sign calls = %d, want %d", got, tt.wantCalls)
			}
			if f.errCount("sign", tt.reason) == 0 {
				t.Errorf("no error counted with reason %s", tt.reason)
			}
			if tt.fault.Status == 403 && !strings.Contains(err.Error(), "injected status 403") {
				t.Errorf("daemon message missing: %v", err)
			}
		})
	}
}

func TestWorkloadNotFound(t *testing.T) {
	f := newWorkloadFixture(t, WorkloadOptions{})
	f.c.id.GenerationID = "999"
	_, err := f.c.Sign(context.Background(), []byte("x"))
	var we *WorkloadError
	if !errors.As(err, &we) || we.Status != 404 || we.Temporary || !strings.Contains(err.Error(), "module sec-mod with generation 999 not found") {
		t.Fatalf("err = %v", err)
	}
	if f.w.SignCalls() != 1 {
		t.Fatalf("404 retried: %d calls", f.w.SignCalls())
	}
}

func TestWorkloadTrustBundleFaults(t *testing.T) {
	f := newWorkloadFixture(t, WorkloadOptions{MaxAttempts: 3})
	f.w.SetFault(edgetest.RouteTrustBundle, edgetest.Fault{Status: 500})
	if _, err := f.c.TrustBundle(context.Background()); err == nil {
		t.Fatal("500 bundle accepted")
	}
	if f.w.TrustBundleCalls() != 3 {
		t.Fatalf("calls = %d", f.w.TrustBundleCalls())
	}
	f.w.ClearFaults()
	f.w.SetGarbageTrustBundle(true)
	b, err := f.c.TrustBundle(context.Background())
	if err != nil {
		t.Fatal(err) // the fetch works; parsing must refuse it
	}
	if cfg, err := TLSConfig(b, "localhost"); err == nil || cfg != nil {
		t.Fatal("garbage bundle accepted")
	}
}

func TestWorkloadConcurrencyBounded(t *testing.T) {
	f := newWorkloadFixture(t, WorkloadOptions{MaxConcurrent: 3})
	var wg sync.WaitGroup
	errs := make(chan error, 30)
	for range 30 {
		wg.Go(func() {
			if _, err := f.c.Sign(context.Background(), []byte("x")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if m := f.w.MaxInFlight(); m > 3 {
		t.Fatalf("max in flight %d > 3", m)
	}
}

func TestWorkloadCancelStopsRetrying(t *testing.T) {
	f := newWorkloadFixture(t, WorkloadOptions{MinBackoff: time.Hour, MaxBackoff: time.Hour})
	f.w.SetFault(edgetest.RouteSign, edgetest.Fault{Status: 500})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for f.w.SignCalls() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := f.c.Sign(ctx, []byte("x"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
}

func TestWorkloadNoSocket(t *testing.T) {
	u, _ := url.Parse("unix:///nonexistent/workload.sock")
	c, err := NewWorkloadClient(Identity{WorkloadURI: u, ModuleID: "m", GenerationID: "1"},
		WorkloadOptions{MaxAttempts: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Sign(context.Background(), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestClassifyPermission(t *testing.T) {
	u, _ := url.Parse("unix:///var/run/iotedge/workload.sock")
	err := &url.Error{Op: "Post", URL: "http://workload/x", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}}
	we := classifyTransport(u, err)
	if we.Reason != reasonPermission || we.Temporary || !strings.Contains(we.Error(), "permission denied on workload socket") ||
		!strings.Contains(we.Error(), "iotedge#5693") {
		t.Fatalf("%+v: %v", we, we)
	}
}

func TestWorkloadSocketPermission(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores socket permissions")
	}
	f := newWorkloadFixture(t, WorkloadOptions{MaxAttempts: 3})
	if err := os.Chmod(f.w.SocketPath(), 0); err != nil {
		t.Fatal(err)
	}
	_, err := f.c.Sign(context.Background(), []byte("x"))
	if err == nil || !strings.Contains(err.Error(), "permission denied on workload socket") {
		t.Fatalf("err = %v", err)
	}
	if f.w.SignCalls() != 0 {
		t.Fatal("request reached the daemon")
	}
}

func TestWorkloadHTTPAndBodyBound(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/prefix/trust-bundle" || r.URL.Query().Get("api-version") != "2018-06-28" {
			http.Error(w, `{"message":"bad path"}`, 404)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"certificate":"%s"}`, strings.Repeat("A", maxWorkloadBody))
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/prefix/")
	c, err := NewWorkloadClient(Identity{WorkloadURI: u, ModuleID: "m", GenerationID: "1"}, WorkloadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.TrustBundle(context.Background())
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}
