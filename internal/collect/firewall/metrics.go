package firewall

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

type metrics struct {
	rules   *prometheus.GaugeVec
	changes *prometheus.CounterVec
}

var frameworks = []string{FrameworkNftables, FrameworkIptablesLegacy}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rules: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "azureiotsecurity_firewall_rules",
			Help: "Rules and base-chain policies in the last firewall snapshot, by framework.",
		}, []string{"framework"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_firewall_changes_total",
			Help: "Firewall rules reported as added or removed.",
		}, []string{"change"}),
	}
	for _, f := range frameworks {
		m.rules.WithLabelValues(f).Set(0)
	}
	for _, v := range []string{ChangeAdded, ChangeRemoved} {
		m.changes.WithLabelValues(v).Add(0)
	}
	// The runner builds a new collector each time the event is switched
	// back on; the series carry on.
	var err error
	if m.rules, err = promreg.Adopt(reg, m.rules); err != nil {
		return nil, err
	}
	if m.changes, err = promreg.Adopt(reg, m.changes); err != nil {
		return nil, err
	}
	return m, nil
}

// observe records a snapshot; a backend that failed keeps its last count.
func (m *metrics) observe(cur []event.FirewallRule, failed map[string]bool, reported []event.FirewallRule) {
	counts := map[string]int{}
	for _, it := range cur {
		counts[it.ExtraDetails["Framework"]]++
	}
	for _, f := range frameworks {
		if !failed[f] {
			m.rules.WithLabelValues(f).Set(float64(counts[f]))
		}
	}
	for _, it := range reported {
		if ch := it.ExtraDetails[event.ChangeKey]; ch != "" {
			m.changes.WithLabelValues(ch).Inc()
		}
	}
}
