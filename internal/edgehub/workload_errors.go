package edgehub

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
)

// Error reasons, the "reason" label of the workload error counter.
const (
	reasonTimeout    = "timeout"
	reasonConnection = "connection"
	reasonPermission = "permission"
	reasonNoSocket   = "no_socket"
	reasonStatus5xx  = "status_5xx"
	reasonStatus429  = "status_429"
	reasonStatus4xx  = "status_4xx"
	reasonDecode     = "decode"
	reasonRequest    = "request"
)

// WorkloadError is a failed workload API request.
type WorkloadError struct {
	Op        string // "sign" or "trust_bundle"
	Status    int    // HTTP status, 0 if none was received
	Message   string // the daemon's {"message"}
	Reason    string // metric reason label
	Temporary bool   // worth retrying
	Err       error  // transport error, if any
}

func (e *WorkloadError) Error() string {
	s := "workload " + e.Op + ": "
	switch {
	case e.Status != 0 && e.Message != "":
		s += fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	case e.Status != 0:
		s += fmt.Sprintf("HTTP %d", e.Status)
	default:
		s += e.Reason
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *WorkloadError) Unwrap() error { return e.Err }

// statusError maps a non-2xx response.
func statusError(status int, body []byte) *WorkloadError {
	var msg struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &msg)
	e := &WorkloadError{Status: status, Message: msg.Message}
	switch {
	case status == 429:
		e.Reason, e.Temporary = reasonStatus429, true
	case status >= 500:
		e.Reason, e.Temporary = reasonStatus5xx, true
	default:
		e.Reason = reasonStatus4xx
		switch status {
		case 403:
			e.Err = errors.New("the daemon refused this process (its PID is not in the module's container)")
		case 404:
			e.Err = errors.New("the daemon does not know this module id / generation id")
		}
	}
	return e
}

// classifyTransport maps a transport error (no HTTP response).
func classifyTransport(uri *url.URL, err error) *WorkloadError {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.EACCES) || errors.Is(err, os.ErrPermission):
		return &WorkloadError{Reason: reasonPermission, Err: fmt.Errorf(
			"permission denied on workload socket %s: the socket's owner or mode is wrong for this user (see Azure/iotedge#5693): %w", uri, err)}
	case errors.Is(err, syscall.ENOENT):
		return &WorkloadError{Reason: reasonNoSocket, Temporary: true, Err: fmt.Errorf(
			"workload socket %s does not exist (is the socket bind-mounted?): %w", uri, err)}
	case errors.As(err, &ne) && ne.Timeout():
		return &WorkloadError{Reason: reasonTimeout, Temporary: true, Err: err}
	default:
		// Resets, EOF (the daemon closes without a reply when throttling),
		// refused connections: all worth retrying.
		return &WorkloadError{Reason: reasonConnection, Temporary: true, Err: err}
	}
}

// WorkloadMetrics are the workload client's Prometheus metrics.
type WorkloadMetrics struct {
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
}

// NewWorkloadMetrics creates the metrics and registers them on reg (nil:
// not registered). Registering twice on one registry reuses the collectors.
func NewWorkloadMetrics(reg prometheus.Registerer) *WorkloadMetrics {
	return &WorkloadMetrics{
		requests: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_workload_api_requests_total",
			Help: "Workload API HTTP requests sent, by operation (each retry counts).",
		}, []string{"operation"})),
		errors: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_workload_api_errors_total",
			Help: "Workload API request failures, by operation and reason.",
		}, []string{"operation", "reason"})),
	}
}

// register registers c, or returns the collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A conflicting descriptor is a programming error in this module.
		panic(fmt.Sprintf("edgehub: register metric: %v", err))
	}
	return c
}
