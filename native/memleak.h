/* SPDX-License-Identifier: MIT */
/*
 * Shared between the eBPF programs (memleak.bpf.c, allocount.bpf.c) and user space.
 * User space mirrors these structs in src/LeakCmdlets/Bpf/MemleakAbi.cs: change both together.
 * Fixed-width types only, explicit padding, no implicit holes.
 */
#ifndef __LEAKTOOLS_MEMLEAK_H
#define __LEAKTOOLS_MEMLEAK_H

/*
 * Every traced allocator function, described once. Adding one: a row here, its BPF program(s) in memleak.bpf.c
 * (named after the row), and the same row in src/LeakCmdlets/Tracing/AllocatorProbe.cs (MemleakAbiTests compares
 * the two tables). X(ID, name, space, semantics, arguments, return_probe):
 *  ID          enum memleak_function member MEMLEAK_FN_<ID>; the row order is the enum order.
 *  name        user space: the symbol probed, programs memleak__<name>_enter and memleak__<name>_return;
 *              kernel: the tp_btf tracepoint, program memleak__<name>.
 *  space       USER (uprobes on the target's allocator) or KERNEL (tracepoints).
 *  semantics   what a call does to blocks: MEMLEAK_SEMANTICS_<semantics>.
 *  arguments   the arguments the entry program reads (user: the calling convention's registers, in order;
 *              kernel: the tracepoint's fields), as a string. User space: the n-th name is the n-th argument
 *              register (rdi, rsi, rdx, ...), and their count is all the probe site must keep intact (a site may
 *              move past instructions that write later ones); list up to the last register the program reads.
 *  return_probe 1 when a return probe completes the call (allocations: the result is known there), 0 when all is
 *              done at entry (frees: that saves a trap).
 * The C API comes first, then the kernel's tracepoints, then the allocator families: C++ operator new/delete in all
 * their variants (libstdc++'s call malloc; jemalloc, tcmalloc and mimalloc define their own), jemalloc's *allocx,
 * tcmalloc's tc_* and mimalloc's mi_*. Only the functions the traced allocator defines are probed; where several
 * names share one address (tcmalloc's malloc is tc_malloc) the probe is named after the first row.
 */
#define MEMLEAK_ALLOCATOR_FUNCTIONS(X) \
	X(MALLOC,           malloc,              USER,   ALLOCATES,   "size",                             1) \
	X(CALLOC,           calloc,              USER,   ALLOCATES,   "nmemb, size",                      1) \
	X(REALLOC,          realloc,             USER,   REALLOCATES, "ptr, size",                        1) \
	X(REALLOCARRAY,     reallocarray,        USER,   REALLOCATES, "ptr, nmemb, size",                 1) \
	X(FREE,             free,                USER,   FREES,       "ptr",                              0) \
	X(POSIX_MEMALIGN,   posix_memalign,      USER,   ALLOCATES,   "memptr, alignment, size",          1) \
	X(ALIGNED_ALLOC,    aligned_alloc,       USER,   ALLOCATES,   "alignment, size",                  1) \
	X(MEMALIGN,         memalign,            USER,   ALLOCATES,   "alignment, size",                  1) \
	X(VALLOC,           valloc,              USER,   ALLOCATES,   "size",                             1) \
	X(PVALLOC,          pvalloc,             USER,   ALLOCATES,   "size",                             1) \
	X(MMAP,             mmap,                USER,   MAPS,        "addr, length",                     1) \
	X(MUNMAP,           munmap,              USER,   UNMAPS,      "addr, length",                     0) \
	X(MREMAP,           mremap,              USER,   REMAPS,      "old_address, old_size, new_size",  1) \
	X(KMALLOC,          kmalloc,             KERNEL, ALLOCATES,   "call_site, ptr, bytes_alloc",      0) \
	X(KFREE,            kfree,               KERNEL, FREES,       "call_site, ptr",                   0) \
	X(KMEM_CACHE_ALLOC, kmem_cache_alloc,    KERNEL, ALLOCATES,   "call_site, ptr, s->size",          0) \
	X(KMEM_CACHE_FREE,  kmem_cache_free,     KERNEL, FREES,       "call_site, ptr",                   0) \
	X(PAGE_ALLOC,       mm_page_alloc,       KERNEL, ALLOCATES,   "page, order",                      0) \
	X(PAGE_FREE,        mm_page_free,        KERNEL, FREES,       "page",                             0) \
	X(PERCPU_ALLOC,     percpu_alloc_percpu, KERNEL, ALLOCATES,   "call_site, ptr, bytes_alloc",      0) \
	X(PERCPU_FREE,      percpu_free_percpu,  KERNEL, FREES,       "ptr",                              0) \
	X(OPERATOR_NEW,                          _Znwm,                               USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ARRAY,                    _Znam,                               USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_NOTHROW,                  _ZnwmRKSt9nothrow_t,                 USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ARRAY_NOTHROW,            _ZnamRKSt9nothrow_t,                 USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ALIGNED,                  _ZnwmSt11align_val_t,                USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ARRAY_ALIGNED,            _ZnamSt11align_val_t,                USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ALIGNED_NOTHROW,          _ZnwmSt11align_val_tRKSt9nothrow_t,  USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_NEW_ARRAY_ALIGNED_NOTHROW,    _ZnamSt11align_val_tRKSt9nothrow_t,  USER,   ALLOCATES,   "size",                             1) \
	X(OPERATOR_DELETE,                       _ZdlPv,                              USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY,                 _ZdaPv,                              USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_SIZED,                 _ZdlPvm,                             USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY_SIZED,           _ZdaPvm,                             USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_NOTHROW,               _ZdlPvRKSt9nothrow_t,                USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY_NOTHROW,         _ZdaPvRKSt9nothrow_t,                USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ALIGNED,               _ZdlPvSt11align_val_t,               USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY_ALIGNED,         _ZdaPvSt11align_val_t,               USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_SIZED_ALIGNED,         _ZdlPvmSt11align_val_t,              USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY_SIZED_ALIGNED,   _ZdaPvmSt11align_val_t,              USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ALIGNED_NOTHROW,       _ZdlPvSt11align_val_tRKSt9nothrow_t, USER,   FREES,       "ptr",                              0) \
	X(OPERATOR_DELETE_ARRAY_ALIGNED_NOTHROW, _ZdaPvSt11align_val_tRKSt9nothrow_t, USER,   FREES,       "ptr",                              0) \
	X(MALLOCX,                               mallocx,                             USER,   ALLOCATES,   "size",                             1) \
	X(RALLOCX,                               rallocx,                             USER,   REALLOCATES, "ptr, size",                        1) \
	X(XALLOCX,                               xallocx,                             USER,   RESIZES,     "ptr, size",                        1) \
	X(SDALLOCX,                              sdallocx,                            USER,   FREES,       "ptr",                              0) \
	X(DALLOCX,                               dallocx,                             USER,   FREES,       "ptr",                              0) \
	X(TC_MALLOC,                             tc_malloc,                           USER,   ALLOCATES,   "size",                             1) \
	X(TC_MALLOC_SKIP_NEW_HANDLER,            tc_malloc_skip_new_handler,          USER,   ALLOCATES,   "size",                             1) \
	X(TC_CALLOC,                             tc_calloc,                           USER,   ALLOCATES,   "nmemb, size",                      1) \
	X(TC_REALLOC,                            tc_realloc,                          USER,   REALLOCATES, "ptr, size",                        1) \
	X(TC_MEMALIGN,                           tc_memalign,                         USER,   ALLOCATES,   "alignment, size",                  1) \
	X(TC_POSIX_MEMALIGN,                     tc_posix_memalign,                   USER,   ALLOCATES,   "memptr, alignment, size",          1) \
	X(TC_VALLOC,                             tc_valloc,                           USER,   ALLOCATES,   "size",                             1) \
	X(TC_PVALLOC,                            tc_pvalloc,                          USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEW,                                tc_new,                              USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEWARRAY,                           tc_newarray,                         USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEW_NOTHROW,                        tc_new_nothrow,                      USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEWARRAY_NOTHROW,                   tc_newarray_nothrow,                 USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEW_ALIGNED,                        tc_new_aligned,                      USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEWARRAY_ALIGNED,                   tc_newarray_aligned,                 USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEW_ALIGNED_NOTHROW,                tc_new_aligned_nothrow,              USER,   ALLOCATES,   "size",                             1) \
	X(TC_NEWARRAY_ALIGNED_NOTHROW,           tc_newarray_aligned_nothrow,         USER,   ALLOCATES,   "size",                             1) \
	X(TC_FREE,                               tc_free,                             USER,   FREES,       "ptr",                              0) \
	X(TC_FREE_SIZED,                         tc_free_sized,                       USER,   FREES,       "ptr",                              0) \
	X(TC_CFREE,                              tc_cfree,                            USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE,                             tc_delete,                           USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY,                        tc_deletearray,                      USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE_SIZED,                       tc_delete_sized,                     USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY_SIZED,                  tc_deletearray_sized,                USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE_NOTHROW,                     tc_delete_nothrow,                   USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY_NOTHROW,                tc_deletearray_nothrow,              USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE_ALIGNED,                     tc_delete_aligned,                   USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY_ALIGNED,                tc_deletearray_aligned,              USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE_SIZED_ALIGNED,               tc_delete_sized_aligned,             USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY_SIZED_ALIGNED,          tc_deletearray_sized_aligned,        USER,   FREES,       "ptr",                              0) \
	X(TC_DELETE_ALIGNED_NOTHROW,             tc_delete_aligned_nothrow,           USER,   FREES,       "ptr",                              0) \
	X(TC_DELETEARRAY_ALIGNED_NOTHROW,        tc_deletearray_aligned_nothrow,      USER,   FREES,       "ptr",                              0) \
	X(MI_MALLOC,                             mi_malloc,                           USER,   ALLOCATES,   "size",                             1) \
	X(MI_ZALLOC,                             mi_zalloc,                           USER,   ALLOCATES,   "size",                             1) \
	X(MI_MALLOC_SMALL,                       mi_malloc_small,                     USER,   ALLOCATES,   "size",                             1) \
	X(MI_ZALLOC_SMALL,                       mi_zalloc_small,                     USER,   ALLOCATES,   "size",                             1) \
	X(MI_NEW,                                mi_new,                              USER,   ALLOCATES,   "size",                             1) \
	X(MI_NEW_NOTHROW,                        mi_new_nothrow,                      USER,   ALLOCATES,   "size",                             1) \
	X(MI_VALLOC,                             mi_valloc,                           USER,   ALLOCATES,   "size",                             1) \
	X(MI_PVALLOC,                            mi_pvalloc,                          USER,   ALLOCATES,   "size",                             1) \
	X(MI_MALLOC_ALIGNED,                     mi_malloc_aligned,                   USER,   ALLOCATES,   "size",                             1) \
	X(MI_ZALLOC_ALIGNED,                     mi_zalloc_aligned,                   USER,   ALLOCATES,   "size",                             1) \
	X(MI_NEW_ALIGNED,                        mi_new_aligned,                      USER,   ALLOCATES,   "size",                             1) \
	X(MI_NEW_ALIGNED_NOTHROW,                mi_new_aligned_nothrow,              USER,   ALLOCATES,   "size",                             1) \
	X(MI_CALLOC,                             mi_calloc,                           USER,   ALLOCATES,   "count, size",                      1) \
	X(MI_MALLOCN,                            mi_mallocn,                          USER,   ALLOCATES,   "count, size",                      1) \
	X(MI_NEW_N,                              mi_new_n,                            USER,   ALLOCATES,   "count, size",                      1) \
	X(MI_CALLOC_ALIGNED,                     mi_calloc_aligned,                   USER,   ALLOCATES,   "count, size",                      1) \
	X(MI_MEMALIGN,                           mi_memalign,                         USER,   ALLOCATES,   "alignment, size",                  1) \
	X(MI_ALIGNED_ALLOC,                      mi_aligned_alloc,                    USER,   ALLOCATES,   "alignment, size",                  1) \
	X(MI_POSIX_MEMALIGN,                     mi_posix_memalign,                   USER,   ALLOCATES,   "memptr, alignment, size",          1) \
	X(MI_REALLOC,                            mi_realloc,                          USER,   REALLOCATES, "ptr, size",                        1) \
	X(MI_REZALLOC,                           mi_rezalloc,                         USER,   REALLOCATES, "ptr, size",                        1) \
	X(MI_REALLOC_ALIGNED,                    mi_realloc_aligned,                  USER,   REALLOCATES, "ptr, size",                        1) \
	X(MI_REZALLOC_ALIGNED,                   mi_rezalloc_aligned,                 USER,   REALLOCATES, "ptr, size",                        1) \
	X(MI_REALLOCN,                           mi_reallocn,                         USER,   REALLOCATES, "ptr, count, size",                 1) \
	X(MI_RECALLOC,                           mi_recalloc,                         USER,   REALLOCATES, "ptr, count, size",                 1) \
	X(MI_FREE,                               mi_free,                             USER,   FREES,       "ptr",                              0) \
	X(MI_CFREE,                              mi_cfree,                            USER,   FREES,       "ptr",                              0) \
	X(MI_FREE_SIZE,                          mi_free_size,                        USER,   FREES,       "ptr",                              0) \
	X(MI_FREE_ALIGNED,                       mi_free_aligned,                     USER,   FREES,       "ptr",                              0) \
	X(MI_FREE_SIZE_ALIGNED,                  mi_free_size_aligned,                USER,   FREES,       "ptr",                              0)

/* What a call does to blocks (the semantics column). */
enum memleak_semantics {
	MEMLEAK_SEMANTICS_ALLOCATES = 0,   /* returns a new block (or fails) */
	MEMLEAK_SEMANTICS_FREES,           /* releases a block */
	MEMLEAK_SEMANTICS_REALLOCATES,     /* replaces a block (NULL: allocates; size 0: frees) */
	MEMLEAK_SEMANTICS_MAPS,            /* returns a new mapping (or MAP_FAILED) */
	MEMLEAK_SEMANTICS_UNMAPS,          /* releases a mapping */
	MEMLEAK_SEMANTICS_REMAPS,          /* replaces a mapping (or MAP_FAILED) */
	MEMLEAK_SEMANTICS_RESIZES,         /* resizes a block in place and returns its new size (jemalloc's xallocx) */
};

enum memleak_function {
#define MEMLEAK_FN_ENUM(id, name, space, semantics, arguments, return_probe) MEMLEAK_FN_##id,
	MEMLEAK_ALLOCATOR_FUNCTIONS(MEMLEAK_FN_ENUM)
#undef MEMLEAK_FN_ENUM
	MEMLEAK_FN_COUNT,
};

/* Which TraceLoss counter a stat rolls into (the loss column of MEMLEAK_STATS). */
enum memleak_loss {
	MEMLEAK_LOSS_NONE = 0,            /* not a loss: a count, or a deliberate skip */
	MEMLEAK_LOSS_MAP_FULL,            /* TraceLoss.MapFull */
	MEMLEAK_LOSS_STACKS_LOST,         /* TraceLoss.StacksLost */
	MEMLEAK_LOSS_MISSED_RETURNS,      /* TraceLoss.MissedReturns: calls whose outcome is unknown */
	MEMLEAK_LOSS_RING_BUFFER_DROPS,   /* TraceLoss.RingBufferDrops */
	MEMLEAK_LOSS_MISMATCHED_RECORDS,  /* TraceLoss.MismatchedRecords: counted by user space, not here */
};

/*
 * Counters in the per-CPU "stats" array; user space sums over CPUs. Losses are never silent. Adding one: a row
 * here, and the same member (with its loss) in MemleakAbi.Stat (MemleakAbiTests compares them); it then reaches
 * TracerStatistics and, through its loss column, TraceLoss and the cmdlets' warning. X(ID, loss):
 */
#define MEMLEAK_STATS(X) \
	X(ALLOCS,           NONE)            /* allocations recorded (in the outstanding map, when it is kept) */ \
	X(FREES,            NONE)            /* outstanding allocations removed by a free (without the map: every free) */ \
	X(UNKNOWN_FREES,    NONE)            /* frees of addresses we never saw (ignored; only known with the map) */ \
	X(FAILED_ALLOCS,    NONE)            /* NULL / MAP_FAILED / non-zero posix_memalign: not recorded */ \
	X(MAP_FULL,         MAP_FULL)        /* outstanding map full: allocation lost */ \
	X(STACK_MAP_FULL,   STACKS_LOST)     /* stack map full: stack lost, caller kept */ \
	X(STACK_ERRORS,     STACKS_LOST)     /* bpf_get_stack failures (kernel mode), scratch space in use */ \
	X(MISSED_RETURNS,   MISSED_RETURNS)  /* a pending call whose return never arrived */ \
	X(RINGBUF_DROPS,    RING_BUFFER_DROPS) /* bpf_ringbuf_output failed: event lost */ \
	X(NESTING_OVERFLOW, MISSED_RETURNS)  /* allocator calls nested deeper than MEMLEAK_MAX_DEPTH */ \
	X(PENDING_ERRORS,   MISSED_RETURNS)  /* no per-thread pending storage could be created */ \
	X(SAMPLED_OUT,      NONE)            /* allocations skipped by the sample rate */ \
	X(FILTERED_OUT,     NONE)            /* allocations outside [min_size, max_size] */ \
	X(NESTED_CALLS,     NONE)            /* allocator calls made by the allocator itself (not recorded) */ \
	X(PROCESS_EVENT_DROPS, RING_BUFFER_DROPS) /* process_events ring full: a fork, exec or exit not told */

enum memleak_stat {
#define MEMLEAK_STAT_ENUM(id, loss) MEMLEAK_STAT_##id,
	MEMLEAK_STATS(MEMLEAK_STAT_ENUM)
#undef MEMLEAK_STAT_ENUM
	MEMLEAK_STAT_HITS_BASE,         /* + memleak_function: probe hits per function (entry side) */
	MEMLEAK_STAT_COUNT = MEMLEAK_STAT_HITS_BASE + MEMLEAK_FN_COUNT,
};

#define MEMLEAK_MAX_DEPTH 4            /* pending allocator calls per thread (nesting) */
#define MEMLEAK_MAX_STACK_DEPTH 128    /* frames kept per stack */

/* allocount: per-CPU hit counters, index = function * 2 + (0 entry, 1 return). */
#define ALLOCOUNT_SLOTS (MEMLEAK_FN_COUNT * 2)

/*
 * Key of the "outstanding" map, 16 bytes. A forked child starts with its parent's address space, so an address
 * alone does not name a block once a process tree is traced; the image tells the blocks of an image that exec
 * replaced (dead with its address space) from the new image's.
 */
struct memleak_alloc_key {
	__u64 address;
	__u32 tgid;           /* 0 in kernel mode */
	__u32 image;          /* the process image that made the block (struct memleak_process); 0 in kernel mode */
};

/* Value of the "outstanding" hash map, key = struct memleak_alloc_key. 40 bytes. */
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
 * User stacks: frames[0] is the direct caller, then the callers the unwind tables (or a frame-pointer step) found.
 * Kernel stacks: innermost first.
 * 1032 bytes.
 */
struct memleak_stack {
	__u32 depth;          /* frames used */
	__u32 end;            /* user stacks: enum memleak_stack_end | enum memleak_unwinder << 8; kernel stacks: 0 */
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
	__u8 follow_children;   /* user mode: a traced process's forked children are traced too (else only counted) */
	__u32 ignored_tgid;     /* kernel mode: the tracer's own process (reading its maps allocates) */
	__u64 page_size;        /* mm_page_alloc: bytes per order-0 page */
};

/*
 * Process tree (user mode). The "traced" hash map (key: tgid) holds the processes whose allocator calls are
 * recorded: user space puts the target in before attaching, the sched_process_fork/exec/exit programs keep it
 * current, and each change is told to user space through the "process_events" ring.
 */
struct memleak_process {
	__u32 image;          /* unique in the session: the target's first image is 0, every fork and exec takes the next */
	__u32 reserved;
};

enum memleak_process_event_kind {
	MEMLEAK_PROCESS_FORK = 1,        /* a traced process forked a child, now traced (image: the child's) */
	MEMLEAK_PROCESS_EXEC = 2,        /* a traced process exec'd (previous_image: the image whose blocks died) */
	MEMLEAK_PROCESS_EXIT = 3,        /* the last thread of a traced process exited */
	MEMLEAK_PROCESS_UNTRACED_FORK = 4, /* a traced process forked a child that is not followed */
};

/* One record of the "process_events" ring, 48 bytes. */
struct memleak_process_event {
	__u64 timestamp_ns;   /* CLOCK_MONOTONIC */
	__u32 kind;           /* enum memleak_process_event_kind */
	__u32 tgid;
	__u32 parent_tgid;    /* fork: the forking process; otherwise 0 */
	__u32 image;          /* fork, exec: the new image; exit: the last one; untraced fork: 0 */
	__u32 previous_image; /* exec: the replaced image; fork: the parent's */
	__u32 reserved;
	char comm[16];        /* the process's name (exec: the new one) */
};

/*
 * Unwind tables (docs/engine.md, "Unwind tables"): user space builds one table per module from its DWARF call
 * frame information and writes it into the unwind_* maps; capture_user_stack walks them. A row is 8 bytes:
 * address (the module's own virtual address, 32 bits) | CFA offset << 32 | rbp slot (s8, in 8-byte units from the
 * CFA, 0: not saved) << 48 | kind << 56. The return address is always at CFA-8.
 */
enum memleak_unwind_kind {
	MEMLEAK_UNWIND_RSP = 0,       /* CFA = rsp + offset */
	MEMLEAK_UNWIND_RBP,           /* CFA = rbp + offset */
	MEMLEAK_UNWIND_PLT,           /* CFA = rsp + 8, + 8 from the 16-byte stub's offset 11 */
	MEMLEAK_UNWIND_SIGNAL,        /* __restore_rt: the interrupted registers are in the ucontext at rsp */
	MEMLEAK_UNWIND_END,           /* return address undefined: the outermost frame */
	MEMLEAK_UNWIND_UNKNOWN,       /* no rule the walk can follow */
};

/* Why a user stack ended (the low byte of memleak_stack.end). */
enum memleak_stack_end {
	MEMLEAK_STACK_END_NONE = 0,          /* not recorded (kernel stacks) */
	MEMLEAK_STACK_END_END_OF_STACK,      /* the outermost frame (_start, clone): the stack is complete */
	MEMLEAK_STACK_END_UNKNOWN_CODE,      /* a pc no table covers and no frame pointer leads on from */
	MEMLEAK_STACK_END_DEPTH_LIMIT,       /* MEMLEAK_MAX_STACK_DEPTH frames, and more above */
	MEMLEAK_STACK_END_READ_FAULT,        /* the stack could not be read where the rules pointed */
	MEMLEAK_STACK_END_BAD_FRAME,         /* the next frame failed a check (CFA not above the last, too far, not a user address) */
};

/* How the walk went (the second byte of memleak_stack.end). */
enum memleak_unwinder {
	MEMLEAK_UNWINDER_TABLES = 1,         /* every step by the unwind tables */
	MEMLEAK_UNWINDER_MIXED,              /* some steps by a validated frame pointer (code without a table) */
};

#define MEMLEAK_UNWIND_MAX_MAPPINGS 512   /* executable mappings of the target (per half of unwind_mappings) */
#define MEMLEAK_UNWIND_MAX_MODULES 1024   /* tables per session */
#define MEMLEAK_UNWIND_PAGE_SHIFT 12      /* bytes of code per page-index entry */

/* Element of unwind_mappings: one executable mapping of the target, sorted by start. 32 bytes. */
struct memleak_unwind_mapping {
	__u64 start;
	__u64 end;
	__u64 bias;           /* start minus the module address it maps: pc - bias is a table address */
	__u32 module;         /* index in unwind_modules + 1; 0: no table (a frame-pointer step, or the end) */
	__u32 reserved;
};

/* Element of unwind_modules: where one module's page index lies. 16 bytes. */
struct memleak_unwind_module {
	__u32 first_page;     /* index in unwind_pages of the entry for page_base */
	__u32 page_count;
	__u32 page_base;      /* module address of the first indexed page */
	__u32 reserved;
};

/*
 * unwind_state[0]: which half of unwind_mappings is current and how many entries it has. User space fills the
 * other half, then switches with one 8-byte write, so a walk never sees a half-written list. 8 bytes.
 */
struct memleak_unwind_state {
	__u32 active;         /* 0 or 1 */
	__u32 count;
};

/*
 * Kernel mode keys: slab objects by address, pages by struct page address (vmemmap), per-CPU chunks by
 * their per-CPU pointer tagged into their own key space (they are small offsets, kernel pointers start 0xff).
 */
#define MEMLEAK_KEY_TAG_SHIFT 56
#define MEMLEAK_KEY_TAG_PERCPU 2ULL

#endif /* __LEAKTOOLS_MEMLEAK_H */
