package process

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// Drop reasons, the label values of the dropped counter.
const (
	dropKernelRing = "kernel_ring_full"   // eBPF ring buffer full
	dropSocket     = "socket_overrun"     // netlink ENOBUFS (proc connector, audit)
	dropQueueFull  = "backend_queue_full" // backend → engine queue full
	dropMalformed  = "malformed"          // undecodable kernel message
)

// metrics are the package's series; one set per registerer.
type metrics struct {
	backend *prometheus.GaugeVec
	dropped *prometheus.CounterVec
	events  *prometheus.CounterVec
	table   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		backend: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "azureiotsecurity_process_backend_info",
			Help: "1 for the process-event backend in use, 0 for the others.",
		}, []string{"backend"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_process_events_dropped_total",
			Help: "Process events lost before the pipeline, by reason.",
		}, []string{"reason"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_process_kernel_events_total",
			Help: "Process events received from the kernel, by backend and kind.",
		}, []string{"backend", "kind"}),
		table: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_process_table_entries",
			Help: "Processes held in the correlation table.",
		}),
	}
	m.backend = promreg.MustAdopt(reg, m.backend)
	m.dropped = promreg.MustAdopt(reg, m.dropped)
	m.events = promreg.MustAdopt(reg, m.events)
	m.table = promreg.MustAdopt(reg, m.table)
	for _, r := range []string{dropKernelRing, dropSocket, dropQueueFull, dropMalformed} {
		m.dropped.WithLabelValues(r)
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
}
