package connection

// Regenerate the committed eBPF object and its Go binding after editing
// bpf/conn.c (needs clang and libbpf-dev; plain builds need neither):
//
//go:generate go run github.com/cilium/ebpf/cmd/bpf2go -cc clang -cflags "-O2 -g -Wall -Werror" -target bpfel -type event connbpf bpf/conn.c
