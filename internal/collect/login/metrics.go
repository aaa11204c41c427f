package login

import (
	promreg "github.com/azureiotsecurity/azureiotsecurity/internal/metrics"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the Login collector. Labels are the closed set of sources,
// pre-created so that every series exists from the start.
type metrics struct {
	records      *prometheus.CounterVec
	malformed    *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	incomplete   prometheus.Counter
	auditDropped prometheus.Counter
	// auditOverruns counts receive-buffer overruns of our audit socket:
	// the kernel dropped an unknown number of records for us.
	auditOverruns prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		records: promreg.MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_records_total",
			Help: "Login, logout and failed-login records read, by source.",
		}, []string{"source"})),
		malformed: promreg.MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_malformed_records_total",
			Help: "Records skipped as malformed, by source.",
		}, []string{"source"})),
		duplicates: promreg.MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_duplicate_records_total",
			Help: "Records merged into a login another record already reported, by source.",
		}, []string{"source"})),
		incomplete: promreg.MustAdopt(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_incomplete_total",
			Help: "Logouts not reported because no source named the user.",
		})),
		auditDropped: promreg.MustAdopt(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_audit_records_dropped_total",
			Help: "Audit records dropped because the collector's queue was full.",
		})),
		auditOverruns: promreg.MustAdopt(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_login_audit_overruns_total",
			Help: "Overruns of the login collector's audit socket, each losing one or more records.",
		})),
	}
	for _, s := range allSources {
		m.records.WithLabelValues(string(s)).Add(0)
		m.malformed.WithLabelValues(string(s)).Add(0)
		m.duplicates.WithLabelValues(string(s)).Add(0)
	}
	return m
}
