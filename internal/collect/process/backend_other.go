//go:build !linux

package process

import "context"

// The kernel backends exist only on Linux; elsewhere they refuse, and the
// chain ends at the /proc poller (which then finds no /proc).

type ebpfBackend struct{ m *metrics }

func (*ebpfBackend) Name() string { return BackendEBPF }
func (*ebpfBackend) Run(context.Context, chan<- rawEvent) error {
	return refuse("eBPF needs Linux")
}

type cnBackend struct {
	m   *metrics
	enr enricher
}

func (*cnBackend) Name() string { return BackendProcCn }
func (*cnBackend) Run(context.Context, chan<- rawEvent) error {
	return refuse("the proc connector needs Linux")
}
