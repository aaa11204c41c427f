package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Adopt registers c on reg, or returns the collector already registered
// with the same description: the runner builds a collector again each
// time its event is switched back on, and its series must carry on
// rather than fail or start over. A nil reg (tests) keeps c unregistered.
func Adopt[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("register metrics: %w", err)
}

// MustAdopt is Adopt for descriptions fixed in the code, where a
// conflict is a programming error.
func MustAdopt[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	c, err := Adopt(reg, c)
	if err != nil {
		panic(err)
	}
	return c
}
