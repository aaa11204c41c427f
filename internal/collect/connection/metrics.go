package connection

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the label values of the dropped counter.
const (
	dropKernelRing = "kernel_ring_full"   // eBPF ring buffer full
	dropSocket     = "socket_overrun"     // audit netlink ENOBUFS
	dropQueueFull  = "backend_queue_full" // backend → engine queue full
	dropMalformed  = "malformed"          // undecodable kernel message
	dropNoAddress  = "address_unknown"    // the socket was gone before its peer was read
)

// Filter reasons, the label values of the filtered counter.
const (
	filterLoopback = "loopback"
	filterSelf     = "self"
)

// metrics are the package's series; one set per registerer.
type metrics struct {
	backend  *prometheus.GaugeVec
	lossy    prometheus.Gauge
	dropped  *prometheus.CounterVec
	events   *prometheus.CounterVec
	filtered *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		backend: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "azureiotsecurity_connection_backend_info",
			Help: "1 for the connection-event backend in use, 0 for the others.",
		}, []string{"backend"}),
		lossy: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_connection_backend_lossy",
			Help: "1 while the connection backend in use misses short connections (sock_diag polling).",
		}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_connection_events_dropped_total",
			Help: "Connection events lost before the pipeline, by reason.",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_connection_kernel_events_total",
			Help: "New connections seen, by backend and direction, before filtering.",
		}, []string{"backend", "direction"}),
		filtered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_connection_events_filtered_total",
			Help: "Connections left out by configuration (loopback, the module's own), by reason.",
		}, []string{"reason"}),
	}
	m.backend = promreg.MustAdopt(reg, m.backend)
	m.lossy = promreg.MustAdopt(reg, m.lossy)
	m.dropped = promreg.MustAdopt(reg, m.dropped)
	m.events = promreg.MustAdopt(reg, m.events)
	m.filtered = promreg.MustAdopt(reg, m.filtered)
	for _, r := range []string{dropKernelRing, dropSocket, dropQueueFull, dropMalformed, dropNoAddress} {
		m.dropped.WithLabelValues(r)
	}
	for _, r := range []string{filterLoopback, filterSelf} {
		m.filtered.WithLabelValues(r)
	}
	return m
}

func (m *metrics) drop(reason string) { m.dropped.WithLabelValues(reason).Inc() }

func (m *metrics) dropN(reason string, n uint64) {
	if n > 0 {
		m.dropped.WithLabelValues(reason).Add(float64(n))
	}
}

func (m *metrics) setBackend(name string) {
	for _, b := range chainOrder {
		v := 0.0
		if b == name {
			v = 1
		}
		m.backend.WithLabelValues(b).Set(v)
	}
	if name == BackendPoll {
		m.lossy.Set(1)
	} else {
		m.lossy.Set(0)
	}
}
