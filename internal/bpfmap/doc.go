// Package bpfmap holds what every eBPF backend of the module needs around
// its ring buffer: the kernel's per-CPU drop counters and the clock that
// turns the kernel's boot-time stamps into wall time.
package bpfmap
