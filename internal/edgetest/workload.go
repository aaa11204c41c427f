package edgetest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// WorkloadConfig configures NewWorkload.
type WorkloadConfig struct {
	Dir          string // directory for workload.sock (tests: t.TempDir())
	ModuleID     string
	GenerationID string
	Key          []byte // raw module primary key (not base64)
	TrustBundle  []byte // PEM returned by /trust-bundle
	// Throttle, if > 0, closes requests beyond this many concurrent ones
	// without an HTTP reply, like aziot-edged (10 per module socket).
	// They are still counted in MaxInFlight. 0 = unlimited.
	Throttle int
	Logger   *logrus.Entry
}

// SignRequest is one recorded sign call.
type SignRequest struct {
	ModuleID, GenerationID string
	APIVersion             string
	ContentType            string
	KeyID, Algo            string
	Data                   []byte // base64-decoded data
}

// Workload is a fake aziot-edged workload API on a unix socket.
type Workload struct {
	cfg  WorkloadConfig
	path string
	ln   net.Listener
	srv  *http.Server
	log  *logrus.Entry
	done chan struct{}
	wg   sync.WaitGroup // handlers

	mu       sync.Mutex
	faults   map[Route]*Fault
	garbage  bool
	bundle   []byte
	signReqs []SignRequest
	closed   bool

	signCalls, bundleCalls, inflight, maxInflight, throttled atomic.Int64
}

// NewWorkload listens on cfg.Dir/workload.sock and serves until Close.
func NewWorkload(cfg WorkloadConfig) (*Workload, error) {
	if cfg.Dir == "" || cfg.ModuleID == "" || cfg.GenerationID == "" || len(cfg.Key) == 0 {
		return nil, errors.New("edgetest: WorkloadConfig needs Dir, ModuleID, GenerationID and Key")
	}
	path := filepath.Join(cfg.Dir, "workload.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	w := &Workload{cfg: cfg, path: path, ln: ln, log: orSilent(cfg.Logger).WithField("component", "workload"),
		done: make(chan struct{}), faults: map[Route]*Fault{}, bundle: append([]byte(nil), cfg.TrustBundle...)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /modules/{m}/genid/{g}/sign", w.handleSign)
	mux.HandleFunc("GET /trust-bundle", w.handleTrustBundle)
	w.srv = &http.Server{Handler: w.track(mux), ReadHeaderTimeout: 10 * time.Second, ErrorLog: nil}
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

// SocketPath is the filesystem path of the unix socket.
func (w *Workload) SocketPath() string { return w.path }

// URI is the IOTEDGE_WORKLOADURI value, "unix://" + SocketPath().
func (w *Workload) URI() string { return "unix://" + w.path }

// Close stops serving, aborts hanging requests and waits for all handlers.
func (w *Workload) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	close(w.done)
	err := w.srv.Close()
	w.wg.Wait()
	return err
}

// SetTrustBundle replaces the PEM served by /trust-bundle.
func (w *Workload) SetTrustBundle(pem []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bundle = append([]byte(nil), pem...)
}

// SignCalls counts sign requests received (including faulted ones).
func (w *Workload) SignCalls() int64 { return w.signCalls.Load() }

// TrustBundleCalls counts trust-bundle requests received (including faulted ones).
func (w *Workload) TrustBundleCalls() int64 { return w.bundleCalls.Load() }

// InFlight is the number of requests being handled now.
func (w *Workload) InFlight() int64 { return w.inflight.Load() }

// MaxInFlight is the highest number of concurrently handled requests seen
// (aziot-edged allows 10 per module socket).
func (w *Workload) MaxInFlight() int64 { return w.maxInflight.Load() }

// Throttled counts requests closed because of WorkloadConfig.Throttle.
func (w *Workload) Throttled() int64 { return w.throttled.Load() }

// SignRequests returns a copy of the recorded successful-to-decode sign requests.
func (w *Workload) SignRequests() []SignRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]SignRequest(nil), w.signReqs...)
}

// ExpectedDigest is the digest the workload returns for data (the string to
// sign): base64(HMAC-SHA256(Key, data)).
func (w *Workload) ExpectedDigest(data string) string { return SASSignature(w.cfg.Key, data) }

func (w *Workload) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			writeJSON(rw, http.StatusServiceUnavailable, map[string]string{"message": "closing"})
			return
		}
		w.wg.Add(1)
		w.mu.Unlock()
		defer w.wg.Done()
		n := w.inflight.Add(1)
		defer w.inflight.Add(-1)
		for {
			m := w.maxInflight.Load()
			if n <= m || w.maxInflight.CompareAndSwap(m, n) {
				break
			}
		}
		if t := w.cfg.Throttle; t > 0 && n > int64(t) {
			w.throttled.Add(1)
			w.applyFault(&Fault{CloseConn: true}, rw, r)
			return
		}
		next.ServeHTTP(rw, r)
	})
}

func (w *Workload) handleSign(rw http.ResponseWriter, r *http.Request) {
	w.signCalls.Add(1)
	if w.applyFault(w.takeFault(RouteSign), rw, r) {
		return
	}
	av := r.URL.Query().Get("api-version")
	if av == "" {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "api-version is required"})
		return
	}
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		writeJSON(rw, http.StatusUnsupportedMediaType, map[string]string{"message": "content type must be application/json"})
		return
	}
	m, g := r.PathValue("m"), r.PathValue("g")
	if m != w.cfg.ModuleID || g != w.cfg.GenerationID {
		writeJSON(rw, http.StatusNotFound, map[string]string{"message": fmt.Sprintf("module %s with generation %s not found", m, g)})
		return
	}
	var req struct {
		KeyID string `json:"keyId"`
		Algo  string `json:"algo"`
		Data  string `json:"data"`
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "invalid JSON body: " + err.Error()})
		return
	}
	data, err := base64.StdEncoding.DecodeString(req.Data)
	if err != nil || req.Data == "" {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "data must be non-empty base64"})
		return
	}
	w.mu.Lock()
	w.signReqs = append(w.signReqs, SignRequest{ModuleID: m, GenerationID: g, APIVersion: av, ContentType: ct,
		KeyID: req.KeyID, Algo: req.Algo, Data: data})
	w.mu.Unlock()
	w.log.WithField("data", string(data)).Debug("sign")
	writeJSON(rw, http.StatusOK, map[string]string{"digest": SASSignature(w.cfg.Key, string(data))})
}

func (w *Workload) handleTrustBundle(rw http.ResponseWriter, r *http.Request) {
	w.bundleCalls.Add(1)
	if w.applyFault(w.takeFault(RouteTrustBundle), rw, r) {
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		writeJSON(rw, http.StatusBadRequest, map[string]string{"message": "api-version is required"})
		return
	}
	w.mu.Lock()
	cert := string(w.bundle)
	if w.garbage {
		cert = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"
	}
	w.mu.Unlock()
	writeJSON(rw, http.StatusOK, map[string]string{"certificate": cert})
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_, _ = rw.Write(b)
}

func orSilent(l *logrus.Entry) *logrus.Entry {
	if l != nil {
		return l
	}
	lg := logrus.New()
	lg.SetOutput(io.Discard)
	return logrus.NewEntry(lg)
}
