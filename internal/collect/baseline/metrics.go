package baseline

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	results      *prometheus.CounterVec
	customErrors *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_baseline_results_total",
			Help: "OSBaseline check results, by result (pass, fail, err, not_applicable) and source (builtin, custom).",
		}, []string{"result", "source"}),
		customErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_baseline_custom_checks_errors_total",
			Help: "Snapshots whose custom checks file was not used, by reason (config, read, hash, parse).",
		}, []string{"reason"}),
	}
	for _, r := range []string{"pass", "fail", "err", "not_applicable"} {
		for _, s := range []string{sourceBuiltin, sourceCustom} {
			m.results.WithLabelValues(r, s).Add(0)
		}
	}
	for _, r := range []string{"config", "read", "hash", "parse"} {
		m.customErrors.WithLabelValues(r).Add(0)
	}
	if reg == nil {
		return m, nil
	}
	// The runner builds a new collector each time the event is switched
	// back on; the counters carry on.
	var err error
	if m.results, err = promreg.Adopt(reg, m.results); err != nil {
		return nil, err
	}
	if m.customErrors, err = promreg.Adopt(reg, m.customErrors); err != nil {
		return nil, err
	}
	return m, nil
}
