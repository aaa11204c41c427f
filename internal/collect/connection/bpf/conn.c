// SPDX-License-Identifier: GPL-2.0
/* TCP connection events for the azureiotsecurity ConnectionCreate
 * collector, from the sock:inet_sock_set_state BTF tracepoint (kprobes,
 * fentry and BPF-LSM are not available on every target kernel; this
 * tracepoint is).
 *
 * The transitions that end a handshake, SYN_SENT→ESTABLISHED (outbound)
 * and SYN_RECV→ESTABLISHED (inbound), run in softirq context, where the
 * current task is whoever the CPU interrupted. So the owner is taken
 * where the task is right: at CLOSE→SYN_SENT (inside connect()) keyed by
 * socket, and at CLOSE→LISTEN (inside listen()) keyed by local port, and
 * joined when the handshake completes. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
#define TCP_LISTEN 10

enum direction {
	DIR_OUT = 1,
	DIR_IN = 2,
};

enum flags {
	FLAG_OWNER_UNKNOWN = 1, /* no connect()/listen() seen for this socket */
};

struct owner {
	u32 pid; /* tgid */
	u32 tid;
	u32 uid;
	u32 pad;
	u8 comm[16];
};

struct event {
	u64 ktime_ns; /* bpf_ktime_get_boot_ns at the handshake's end */
	u32 pid;
	u32 tid;
	u32 uid;
	u16 family;
	u16 sport; /* local port, host order */
	u16 dport; /* remote port, host order */
	u8 direction;
	u8 flags;
	u8 comm[16];
	u8 saddr[16]; /* local address: 4 bytes for AF_INET, else 16 */
	u8 daddr[16]; /* remote address */
	u32 pad;
};

/* bpf2go -type event needs the struct referenced. */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Sockets between connect() and the end of the handshake. LRU: a socket
 * whose handshake never ends (no SYN_SENT→CLOSE seen) ages out. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct owner);
} connecting SEC(".maps");

/* Listening ports and who put them in LISTEN, keyed by network
 * namespace and port: containers with their own network reuse ports. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u64);
	__type(value, struct owner);
} listeners SEC(".maps");

static __always_inline u64 listen_key(struct sock *sk)
{
	u64 ns = 0;
	if (bpf_core_field_exists(sk->__sk_common.skc_net))
		ns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
	return ns << 16 | BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* Events the ring buffer could not take, per CPU: the reader never
 * blocks the kernel, so a full ring drops and counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

static __always_inline void current_owner(struct owner *o)
{
	u64 id = bpf_get_current_pid_tgid();
	o->pid = id >> 32;
	o->tid = (u32)id;
	o->uid = (u32)bpf_get_current_uid_gid();
	o->pad = 0;
	bpf_get_current_comm(&o->comm, sizeof(o->comm));
}

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&drops, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline void emit(struct sock *sk, u16 family, u8 dir, struct owner *o)
{
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_drop();
		return;
	}
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->family = family;
	e->direction = dir;
	e->pad = 0;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	/* bpf_core_read with explicit sizes: BPF_CORE_READ_INTO would copy
	 * sizeof(*e->saddr), one byte. */
	if (family == AF_INET) {
		bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
	} else {
		bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
	}
	if (o) {
		e->pid = o->pid;
		e->tid = o->tid;
		e->uid = o->uid;
		e->flags = 0;
		__builtin_memcpy(e->comm, o->comm, sizeof(e->comm));
	} else {
		e->pid = 0;
		e->tid = 0;
		e->uid = 0;
		e->flags = FLAG_OWNER_UNKNOWN;
		__builtin_memset(e->comm, 0, sizeof(e->comm));
	}
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(handle_set_state, struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family != AF_INET && family != AF_INET6)
		return 0;
	u64 key = (u64)sk;
	struct owner o;

	if (newstate == TCP_SYN_SENT) {
		current_owner(&o);
		bpf_map_update_elem(&connecting, &key, &o, BPF_ANY);
		return 0;
	}
	if (newstate == TCP_LISTEN) {
		u64 lk = listen_key(sk);
		current_owner(&o);
		bpf_map_update_elem(&listeners, &lk, &o, BPF_ANY);
		return 0;
	}
	if (oldstate == TCP_LISTEN) {
		u64 lk = listen_key(sk);
		bpf_map_delete_elem(&listeners, &lk);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT) {
		struct owner *c = bpf_map_lookup_elem(&connecting, &key);
		if (newstate == TCP_ESTABLISHED)
			emit(sk, family, DIR_OUT, c);
		bpf_map_delete_elem(&connecting, &key);
		return 0;
	}
	if (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		u64 lk = listen_key(sk);
		emit(sk, family, DIR_IN, bpf_map_lookup_elem(&listeners, &lk));
	}
	return 0;
}
