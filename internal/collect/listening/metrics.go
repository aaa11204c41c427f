package listening

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

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
		listeners: promreg.MustAdopt(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_listening_ports_sockets",
			Help: "Listening sockets in the last ListeningPorts snapshot.",
		})),
		unattributed: promreg.MustAdopt(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_listening_ports_unattributed_sockets",
			Help: "Listening sockets of the last snapshot whose process was not found (missing CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH, or closed meanwhile).",
		})),
		changes: promreg.MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_listening_ports_changes_total",
			Help: "Listeners reported as added or removed.",
		}, []string{"change"})),
		sources: promreg.MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_listening_ports_snapshots_total",
			Help: "Snapshots taken, by socket source (proc_net when sock_diag failed).",
		}, []string{"source"})),
		triggers: promreg.MustAdopt(reg, prometheus.NewCounter(prometheus.CounterOpts{
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
