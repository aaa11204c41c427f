//go:build !linux

package connection

import "context"

// The eBPF backend exists only on Linux; elsewhere it refuses.
type ebpfBackend struct{ m *metrics }

func (*ebpfBackend) Name() string { return BackendEBPF }
func (*ebpfBackend) Run(context.Context, chan<- rawConn) error {
	return refuse("eBPF needs Linux")
}
