package edgetest

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

// Route names a workload API route for fault injection.
type Route string

// Workload routes.
const (
	RouteSign        Route = "sign"
	RouteTrustBundle Route = "trust-bundle"
)

// Fault describes an injected misbehaviour of one route. Hang is applied
// first (sleep until the client gives up, the workload closes, or Hang
// elapses), then CloseConn (hijack and close without any HTTP reply, what
// aziot-edged does beyond 10 concurrent requests), else Status (reply with
// that code and {"message":...}), else the normal answer.
type Fault struct {
	Status    int
	Hang      time.Duration
	CloseConn bool
	Times     int // apply to the next Times requests only; 0 = until cleared
}

// SetFault installs f for route r, replacing any earlier fault.
func (w *Workload) SetFault(r Route, f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults[r] = &f
}

// ClearFaults removes all faults and the garbage-bundle switch.
func (w *Workload) ClearFaults() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = map[Route]*Fault{}
	w.garbage = false
}

// SetGarbageTrustBundle makes /trust-bundle return 200 with a PEM
// CERTIFICATE block whose content is not a certificate (x509 parsing fails).
func (w *Workload) SetGarbageTrustBundle(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.garbage = on
}

// takeFault returns the active fault for r (consuming one use) or nil.
func (w *Workload) takeFault(r Route) *Fault {
	w.mu.Lock()
	defer w.mu.Unlock()
	f := w.faults[r]
	if f == nil {
		return nil
	}
	c := *f
	if f.Times > 0 {
		f.Times--
		if f.Times == 0 {
			delete(w.faults, r)
		}
	}
	return &c
}

// applyFault runs f and reports whether the request has been dealt with.
func (w *Workload) applyFault(f *Fault, rw http.ResponseWriter, r *http.Request) bool {
	if f == nil {
		return false
	}
	if f.Hang > 0 {
		// Consume the body so net/http notices the client going away.
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		t := time.NewTimer(f.Hang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			panic(http.ErrAbortHandler)
		case <-w.done:
			panic(http.ErrAbortHandler) // no reply at all
		case <-t.C:
		}
	}
	if f.CloseConn {
		if hj, ok := rw.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // aborts the connection without a reply
	}
	if f.Status != 0 {
		writeJSON(rw, f.Status, map[string]string{"message": fmt.Sprintf("edgetest: injected status %d", f.Status)})
		return true
	}
	return false
}
