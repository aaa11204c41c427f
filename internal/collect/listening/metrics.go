package listening

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the ListeningPorts collector; label values are closed sets,
// pre-created so that every series exists from the start.
type metrics struct {
	listeners    prometheus.Gauge
	unattributed prometheus.Gauge
	changes      *prometheus.CounterVec
	sources      *prometheus.CounterVec
	triggers     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		listeners: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_listening_ports_sockets",
			Help: "Listening sockets in the last ListeningPorts snapshot.",
		})),
		unattributed: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_listening_ports_unattributed_sockets",
			Help: "Listening sockets of the last snapshot whose process was not found (missing CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH, or closed meanwhile).",
		})),
		changes: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_listening_ports_changes_total",
			Help: "Listeners reported as added or removed.",
		}, []string{"change"})),
		sources: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_listening_ports_snapshots_total",
			Help: "Snapshots taken, by socket source (proc_net when sock_diag failed).",
		}, []string{"source"})),
		triggers: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_listening_ports_change_triggers_total",
			Help: "Out-of-schedule snapshots requested because the listening set changed.",
		})),
	}
	for _, c := range []string{ChangeAdded, ChangeRemoved} {
		m.changes.WithLabelValues(c).Add(0)
	}
	for _, s := range []string{sourceSockDiag, sourceProcNet} {
		m.sources.WithLabelValues(s).Add(0)
	}
	return m
}

func (m *metrics) source(s string) { m.sources.WithLabelValues(s).Inc() }

func (m *metrics) snapshot(listeners, added, removed int) {
	m.listeners.Set(float64(listeners))
	m.changes.WithLabelValues(ChangeAdded).Add(float64(added))
	m.changes.WithLabelValues(ChangeRemoved).Add(float64(removed))
}

// register registers c, or returns the collector already registered: the
// runner builds a new collector each time ListeningPorts is switched on.
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
		panic(fmt.Sprintf("listening: register metric: %v", err)) // conflicting descriptors: a bug
	}
	return c
}
