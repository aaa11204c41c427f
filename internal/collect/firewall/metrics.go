package firewall

import (
	"errors"
	"fmt"

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
	if reg == nil {
		return m, nil
	}
	// The runner builds a new collector each time the event is switched
	// back on; the series carry on.
	if err := reg.Register(m.rules); err != nil {
		var old prometheus.AlreadyRegisteredError
		ok := errors.As(err, &old)
		if !ok {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		if m.rules, ok = old.ExistingCollector.(*prometheus.GaugeVec); !ok {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	if err := reg.Register(m.changes); err != nil {
		var old prometheus.AlreadyRegisteredError
		ok := errors.As(err, &old)
		if !ok {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
		if m.changes, ok = old.ExistingCollector.(*prometheus.CounterVec); !ok {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
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
