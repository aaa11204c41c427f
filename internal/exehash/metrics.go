package exehash

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// skipLabels maps skip reasons to the closed label values of skipped_total.
var skipLabels = map[string]string{
	SkipTooLarge:   "too_large",
	SkipNotRegular: "not_regular",
	SkipChanged:    "changed",
}

type metrics struct {
	hits, misses, errors, bytes prometheus.Counter
	skipped                     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "azureiotsecurity", Subsystem: "exehash", Name: name, Help: help,
		})
	}
	m := metrics{
		hits:   counter("cache_hits_total", "Executable digests served from the cache."),
		misses: counter("cache_misses_total", "Executable digest requests that read the file."),
		errors: counter("errors_total", "Executables that could not be opened or read."),
		bytes:  counter("read_bytes_total", "Bytes read to compute executable digests."),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "azureiotsecurity", Subsystem: "exehash", Name: "skipped_total",
			Help: "Executables not hashed, by reason.",
		}, []string{"reason"}),
	}
	for _, l := range skipLabels {
		m.skipped.WithLabelValues(l).Add(0)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.errors, m.bytes, m.skipped} {
		if err := reg.Register(c); err != nil {
			return metrics{}, fmt.Errorf("exehash metrics: %w", err)
		}
	}
	return m, nil
}
