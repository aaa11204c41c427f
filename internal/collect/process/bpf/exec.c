// SPDX-License-Identifier: GPL-2.0
/* Process lifecycle events for the azureiotsecurity ProcessCreate and
 * ProcessTerminate collectors: sched_process_fork/exec/exit BTF
 * tracepoints → one ring buffer. Everything the payload needs is read
 * in-kernel at the event, so short-lived processes lose nothing to a
 * /proc race; argv is capped at ARGS_MAX bytes and flagged when cut. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

#define ARGS_MAX 4096
#define FILENAME_MAX 256

enum event_type {
	EVENT_EXEC = 1,
	EVENT_EXIT = 2,
	EVENT_FORK = 3,
};

enum event_flags {
	FLAG_ARGS_TRUNCATED = 1,
	FLAG_ARGS_UNREADABLE = 2,
};

struct event {
	u64 ktime_ns;       /* bpf_ktime_get_boot_ns at the event */
	u64 start_boot_ns;  /* task start, CLOCK_BOOTTIME as in /proc/<pid>/stat */
	u64 cgroup_id;
	u32 type;
	u32 pid;            /* tgid */
	u32 tid;
	u32 ppid;           /* parent tgid */
	u32 uid;
	u32 exit_code;      /* wait status: exit code << 8 | signal */
	u32 args_len;       /* bytes of args copied */
	u32 flags;
	u8 comm[16];
	u8 filename[FILENAME_MAX];
	u8 args[ARGS_MAX];
};

/* bpf2go -type event needs the struct referenced. */
const struct event *unused_event __attribute__((unused));

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Scratch space: an event is too big for the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* Events the ring buffer could not take, per CPU: the reader never
 * blocks the kernel, so a full ring drops and counts. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

#define HEADER_LEN __builtin_offsetof(struct event, filename)
#define EXEC_FIXED_LEN __builtin_offsetof(struct event, args)

static __always_inline struct event *new_event(u32 type, struct task_struct *t)
{
	u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->ktime_ns = bpf_ktime_get_boot_ns();
	e->start_boot_ns = BPF_CORE_READ(t, group_leader, start_boottime);
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->type = type;
	e->pid = BPF_CORE_READ(t, tgid);
	e->tid = BPF_CORE_READ(t, pid);
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->uid = (u32)bpf_get_current_uid_gid();
	e->exit_code = 0;
	e->args_len = 0;
	e->flags = 0;
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
	return e;
}

/* The reader drains the ring on its own every poll period (see
 * ebpfBackend), so an event wakes it only when this much is pending: a
 * storm then costs a wakeup per WAKE_BYTES, not one per event, and the
 * reader still runs long before the 4 MiB ring could fill. */
#define WAKE_BYTES (256 << 10)

static __always_inline void submit(struct event *e, u64 len)
{
	u64 flags = BPF_RB_NO_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + len >= WAKE_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_output(&events, e, len, flags)) {
		u32 zero = 0;
		u64 *n = bpf_map_lookup_elem(&drops, &zero);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct event *e = new_event(EVENT_EXEC, p);
	if (!e)
		return 0;
	bpf_probe_read_kernel_str(&e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));

	unsigned long start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long end = BPF_CORE_READ(p, mm, arg_end);
	u64 len = end > start ? end - start : 0;
	if (len > ARGS_MAX) {
		len = ARGS_MAX;
		e->flags |= FLAG_ARGS_TRUNCATED;
	}
	/* Keep the bound visible to the verifier. */
	len &= (2 * ARGS_MAX - 1);
	if (len > ARGS_MAX)
		len = ARGS_MAX;
	if (len > 0 && bpf_probe_read_user(&e->args, len, (void *)start) != 0) {
		e->flags |= FLAG_ARGS_UNREADABLE;
		len = 0;
	}
	e->args_len = len;
	submit(e, EXEC_FIXED_LEN + len);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_exit, struct task_struct *p)
{
	/* Only the last thread of a process ends the process. */
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0;
	struct event *e = new_event(EVENT_EXIT, p);
	if (!e)
		return 0;
	e->exit_code = BPF_CORE_READ(p, exit_code);
	submit(e, HEADER_LEN);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(handle_fork, struct task_struct *parent, struct task_struct *child)
{
	/* New threads are not new processes. */
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0;
	struct event *e = new_event(EVENT_FORK, child);
	if (!e)
		return 0;
	e->ppid = BPF_CORE_READ(parent, tgid);
	submit(e, HEADER_LEN);
	return 0;
}
