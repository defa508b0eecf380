/* SPDX-License-Identifier: MIT */
/*
 * Shared between the eBPF programs (memleak.bpf.c, allocount.bpf.c) and user space.
 * User space mirrors these structs in src/LeakCmdlets/Bpf/MemleakAbi.cs: change both together.
 * Fixed-width types only, explicit padding, no implicit holes.
 */
#ifndef __LEAKTOOLS_MEMLEAK_H
#define __LEAKTOOLS_MEMLEAK_H

/* Same order as LeakTools.Tracing.AllocatorFunction. */
enum memleak_function {
	MEMLEAK_FN_MALLOC = 0,
	MEMLEAK_FN_CALLOC,
	MEMLEAK_FN_REALLOC,
	MEMLEAK_FN_REALLOCARRAY,
	MEMLEAK_FN_FREE,
	MEMLEAK_FN_POSIX_MEMALIGN,
	MEMLEAK_FN_ALIGNED_ALLOC,
	MEMLEAK_FN_MEMALIGN,
	MEMLEAK_FN_VALLOC,
	MEMLEAK_FN_PVALLOC,
	MEMLEAK_FN_MMAP,
	MEMLEAK_FN_MUNMAP,
	MEMLEAK_FN_MREMAP,
	MEMLEAK_FN_KMALLOC,
	MEMLEAK_FN_KFREE,
	MEMLEAK_FN_KMEM_CACHE_ALLOC,
	MEMLEAK_FN_KMEM_CACHE_FREE,
	MEMLEAK_FN_PAGE_ALLOC,
	MEMLEAK_FN_PAGE_FREE,
	MEMLEAK_FN_PERCPU_ALLOC,
	MEMLEAK_FN_PERCPU_FREE,
	MEMLEAK_FN_COUNT,
};

/* Counters in the per-CPU "stats" array; user space sums over CPUs. Losses are never silent. */
enum memleak_stat {
	MEMLEAK_STAT_ALLOCS = 0,        /* allocations recorded (in the outstanding map, when it is kept) */
	MEMLEAK_STAT_FREES,             /* outstanding allocations removed by a free (without the map: every free) */
	MEMLEAK_STAT_UNKNOWN_FREES,     /* frees of addresses we never saw (ignored; only known with the map) */
	MEMLEAK_STAT_FAILED_ALLOCS,     /* NULL / MAP_FAILED / non-zero posix_memalign: not recorded */
	MEMLEAK_STAT_MAP_FULL,          /* outstanding map full: allocation lost */
	MEMLEAK_STAT_STACK_MAP_FULL,    /* stack map full: stack lost, caller kept */
	MEMLEAK_STAT_STACK_ERRORS,      /* bpf_get_stack failures (kernel mode) */
	MEMLEAK_STAT_MISSED_RETURNS,    /* a pending call whose return never arrived */
	MEMLEAK_STAT_RINGBUF_DROPS,     /* bpf_ringbuf_reserve failed: event lost */
	MEMLEAK_STAT_NESTING_OVERFLOW,  /* allocator calls nested deeper than MEMLEAK_MAX_DEPTH */
	MEMLEAK_STAT_PENDING_ERRORS,    /* no per-thread pending storage could be created */
	MEMLEAK_STAT_SAMPLED_OUT,       /* allocations skipped by the sample rate */
	MEMLEAK_STAT_FILTERED_OUT,      /* allocations outside [min_size, max_size] */
	MEMLEAK_STAT_NESTED_CALLS,      /* allocator calls made by the allocator itself (not recorded) */
	MEMLEAK_STAT_HITS_BASE,         /* + memleak_function: probe hits per function (entry side) */
	MEMLEAK_STAT_COUNT = MEMLEAK_STAT_HITS_BASE + MEMLEAK_FN_COUNT,
};

#define MEMLEAK_MAX_DEPTH 4            /* pending allocator calls per thread (nesting) */
#define MEMLEAK_MAX_STACK_DEPTH 127    /* frames kept per stack */

/* allocount: per-CPU hit counters, index = function * 2 + (0 entry, 1 return). */
#define ALLOCOUNT_SLOTS (MEMLEAK_FN_COUNT * 2)

/* Value of the "outstanding" hash map, key = address (__u64). 40 bytes. */
struct memleak_alloc_info {
	__u64 size;
	__u64 timestamp_ns;   /* CLOCK_MONOTONIC, read at most once per scheduler tick: up to a tick early */
	__u64 caller;         /* the allocator call's return address: the direct caller, always known */
	__u64 stack_key;      /* key in the "stacks" map, 0 when none */
	__u32 tid;
	__u32 reserved;
};

/*
 * Value of the "stacks" hash map. The key is a 64-bit hash of the frames, so two stacks never share an entry
 * by accident (the kernel's stack-trace map hashes to 32 bits and loses one of two colliding stacks).
 * User stacks: frames[0] is the direct caller, then the frame-pointer chain. Kernel stacks: innermost first.
 * 1024 bytes.
 */
struct memleak_stack {
	__u32 depth;          /* frames used */
	__u32 reserved;
	__u64 frames[MEMLEAK_MAX_STACK_DEPTH];
};

/*
 * Streamed event (stream mode), 56 bytes. A ring-buffer record holds 1 to MEMLEAK_STAGE_EVENTS of them, oldest
 * first (memleak.bpf.c stages them per CPU). A free's size is the freed block's when the outstanding map is kept, 0 otherwise (user space then knows it
 * from the streamed allocation). Process and thread ids fit in 22 bits (PID_MAX_LIMIT is 4,194,304), so
 * they share "ids" with the function: tid | pid << 22 | function << 44.
 */
#define MEMLEAK_EVENT_ID_BITS 22
#define MEMLEAK_STAGE_EVENTS 16        /* events staged per CPU and written to the ring together (a power of two) */
struct memleak_event {
	__u64 timestamp_ns;
	__u64 address;
	__u64 size;
	__u64 caller;
	__u64 stack_key;        /* 0 when none */
	__u64 previous_address; /* realloc, reallocarray, mremap: the block this one replaced (0 when none) */
	__u64 ids;
};

/*
 * Settings fixed before load: the only object in .rodata ("const volatile struct memleak_config memleak_settings"),
 * so user space writes it at offset 0 of the .rodata map's initial value. 40 bytes.
 */
struct memleak_config {
	__u64 min_size;
	__u64 max_size;
	__u32 target_tgid;      /* 0 = any process (kernel mode) */
	__u32 sample_rate;      /* record 1 in N allocations; 0 or 1 = all */
	__u8 stream_events;     /* emit struct memleak_event into the "events" ring buffer */
	__u8 capture_stacks;    /* stacks into "stacks" */
	__u8 track_outstanding; /* keep the "outstanding" map (a pure stream does without: two hash operations a pair) */
	__u8 reserved;
	__u32 ignored_tgid;     /* kernel mode: the tracer's own process (reading its maps allocates) */
	__u64 page_size;        /* mm_page_alloc: bytes per order-0 page */
};

/*
 * Kernel mode keys: slab objects by address, pages by struct page address (vmemmap), per-CPU chunks by
 * their per-CPU pointer tagged into their own key space (they are small offsets, kernel pointers start 0xff).
 */
#define MEMLEAK_KEY_TAG_SHIFT 56
#define MEMLEAK_KEY_TAG_PERCPU 2ULL

#endif /* __LEAKTOOLS_MEMLEAK_H */
