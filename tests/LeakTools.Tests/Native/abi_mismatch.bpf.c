// SPDX-License-Identifier: MIT
/*
 * An eBPF object whose maps are named like memleak.bpf.c's, all as memleak.h declares them except the value of
 * "outstanding", which is 8 bytes short: what a stale build would load. The map-size check must reject it.
 * Built by the test project (LeakTools.Tests.csproj).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "memleak.h"

struct short_alloc_info {
	__u64 size;
	__u64 timestamp_ns;
	__u64 caller;
	__u64 stack_key;      /* no tid: 32 bytes instead of 40 */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct memleak_alloc_key);
	__type(value, struct short_alloc_info);
	__uint(max_entries, 1024);
} outstanding SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct memleak_stack);
	__uint(max_entries, 1024);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, MEMLEAK_STAT_COUNT);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct memleak_process);
	__uint(max_entries, 16);
} traced SEC(".maps");

char LICENSE[] SEC("license") = "Dual MIT/GPL";
