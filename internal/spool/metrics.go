package spool

import (
	"os"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

type storeMetrics struct {
	degraded    prometheus.Gauge
	writeErrors prometheus.Counter
	readErrors  prometheus.Counter
	quarantined *prometheus.CounterVec
}

// newStoreMetrics registers the spool's metrics; evictions and other
// drops are counted by the pipeline's azureiotsecurity_events_dropped_total.
func newStoreMetrics(reg prometheus.Registerer, st *Store) *storeMetrics {
	m := &storeMetrics{
		degraded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "azureiotsecurity_spool_degraded",
			Help: "1 while new events are kept in memory because the spool cannot be written.",
		}),
		writeErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_spool_write_errors_total",
			Help: "Spool writes that failed (full or read-only volume, I/O error).",
		}),
		readErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "azureiotsecurity_spool_read_errors_total",
			Help: "Spool reads that failed.",
		}),
		quarantined: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "azureiotsecurity_spool_quarantined_total",
			Help: "Damaged spool parts moved aside: whole files (file) or records failing their checksum (record).",
		}, []string{"part"}),
	}
	m.quarantined.WithLabelValues("file")
	m.quarantined.WithLabelValues("record")
	if reg == nil {
		return m
	}
	reg.MustRegister(m.degraded, m.writeErrors, m.readErrors, m.quarantined)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "azureiotsecurity_spool_file_bytes",
		Help: "Size of the spool file on disk.",
	}, func() float64 {
		fi, err := os.Stat(filepath.Join(st.opt.Dir, FileName))
		if err != nil {
			return 0
		}
		return float64(fi.Size())
	}))
	for _, c := range []queue.Class{queue.Operational, queue.High, queue.Low} {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "azureiotsecurity_spool_events",
			Help:        "Events waiting in the spool on disk (not in flight), per queue.",
			ConstLabels: prometheus.Labels{"queue": c.String()},
		}, func() float64 {
			if d := st.spool(); d != nil {
				return float64(d.Len(c))
			}
			return 0
		}))
	}
	return m
}
