package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestAdoptKeepsTheFirstCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "x_total", Help: "x"}
	first := MustAdopt(reg, prometheus.NewCounterVec(opts, []string{"reason"}))
	first.WithLabelValues("a").Add(3)
	again := MustAdopt(reg, prometheus.NewCounterVec(opts, []string{"reason"}))
	if again != first {
		t.Fatal("a collector built again got a new series instead of the registered one")
	}
	if _, err := Adopt(nil, prometheus.NewCounter(opts)); err != nil {
		t.Fatalf("nil registerer: %v", err)
	}
}

func TestAdoptConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	MustAdopt(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "y_total", Help: "y"}, []string{"a"}))
	_, err := Adopt(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "y_total", Help: "y"}, []string{"b"}))
	if err == nil || !strings.Contains(err.Error(), "register metrics") {
		t.Fatalf("conflicting description: err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MustAdopt did not panic on a conflict")
		}
	}()
	MustAdopt(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "y_total", Help: "y"}, []string{"b"}))
}
