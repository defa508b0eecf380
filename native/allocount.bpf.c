// SPDX-License-Identifier: MIT
/*
 * The benchmark floor: the cheapest useful probe, a per-CPU hit counter, attached at exactly the
 * sites (and with the same entry/return pairs) that memleak.bpf.c uses. The attach cookie carries
 * the enum memleak_function value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "memleak.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, ALLOCOUNT_SLOTS);
} counts SEC(".maps");

static __always_inline int count(void *ctx, __u32 is_return)
{
	__u32 index = (__u32)bpf_get_attach_cookie(ctx) * 2 + is_return;
	__u64 *value = bpf_map_lookup_elem(&counts, &index);
	if (value)
		*value += 1;
	return 0;
}

SEC("uprobe")
int allocount__entry(struct pt_regs *ctx) { return count(ctx, 0); }

SEC("uretprobe")
int allocount__return(struct pt_regs *ctx) { return count(ctx, 1); }
