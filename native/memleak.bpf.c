// SPDX-License-Identifier: MIT
/*
 * LeakTools allocation tracer: outstanding allocations of one process (uprobes on its allocator)
 * or of the kernel (kmem/percpu tracepoints), with user or kernel stacks.
 *
 * Differences from libbpf-tools memleak, on purpose:
 *  - pending calls live in a per-thread stack ordered by the stack pointer, so a nested
 *    malloc -> mmap cannot clobber the outer call's size, and only the outermost allocator call
 *    of a thread is recorded (the allocator's own mmap/munmap/free calls are its business);
 *  - the direct caller is the return probe's instruction pointer (the kernel sets it to the return
 *    address before the handlers run), so it is known without frame pointers, and the stack is taken
 *    on return too: only successful, recorded allocations pay for it;
 *  - user stacks are walked here, not by bpf_get_stackid: the walk follows a frame pointer only where one
 *    can be (just above the last frame), so code built without frame pointers costs no faulting reads, and
 *    stacks are keyed by a 64-bit hash, so two stacks never collide into one entry;
 *  - every loss (map full, stack map full, missed return, ring-buffer reserve) is counted.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "memleak.h"

char LICENSE[] SEC("license") = "Dual MIT/GPL";

const volatile struct memleak_config memleak_settings = {
	.min_size = 0,
	.max_size = (__u64)-1,
	.target_tgid = 0,
	.sample_rate = 1,
	.stream_events = 0,
	.capture_stacks = 1,
	.track_outstanding = 1,
	.page_size = 4096,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct memleak_alloc_key);
	__type(value, struct memleak_alloc_info);
	__uint(max_entries, 1 << 20);
} outstanding SEC(".maps");

/* Every distinct stack once, keyed by its 64-bit hash (see intern_stack). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, struct memleak_stack);
	__uint(max_entries, 1 << 15);
} stacks SEC(".maps");

/* Where a stack is assembled before it is interned: too big for the 512-byte BPF stack. */
struct stack_scratch {
	__u32 busy;       /* set while in use: a program preempted or interrupted on this CPU must not share it */
	__u32 reserved;
	__u64 last_key;   /* the last stack interned on this CPU: allocations in a loop repeat it (entries stay) */
	struct memleak_stack stack;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct stack_scratch);
	__uint(max_entries, 1);
} stack_scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, MEMLEAK_STAT_COUNT);
} stats SEC(".maps");

/* The traced processes (user mode), key = tgid: see the process tree programs at the end. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct memleak_process);
	__uint(max_entries, 1 << 14);
} traced SEC(".maps");

/* Forks, execs and exits of traced processes, for user space (rare: no staging, no wakeup; it polls). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 16);
} process_events SEC(".maps");

/*
 * Process images are numbered per CPU (the build's BPF target has no atomic fetch-and-add): the count of images
 * this CPU handed out, shifted above the CPU number, so numbers are unique across CPUs. The target's first image is 0.
 */
#define IMAGE_CPU_BITS 12
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} image_count SEC(".maps");

static __always_inline __u32 next_image(void)
{
	__u32 zero = 0;
	__u32 *count = bpf_map_lookup_elem(&image_count, &zero);
	if (!count)
		return 0;
	*count += 1;   /* the sched_process_* programs do not nest on a CPU */
	return *count << IMAGE_CPU_BITS | (bpf_get_smp_processor_id() & ((1u << IMAGE_CPU_BITS) - 1));
}

/* Per CPU: the scheduler tick (jiffies) at which the clock was last read, and what it read then. */
struct clock_cache {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct clock_cache);
	__uint(max_entries, 1);
} clock_cache SEC(".maps");

/*
 * The recorded mappings (mmap, mremap) by start address, with their length: a munmap or mremap of part of one
 * finds it here and splits or trims its record in "outstanding". Only the process's own mmap calls are recorded
 * (the allocator's are nested), so this stays small and a scan of it is cheap; munmap of a whole recorded
 * mapping, the usual case, takes one lookup and no scan.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct memleak_alloc_key);
	__type(value, __u64);
	__uint(max_entries, 1 << 14);
} mappings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

#define FRAME_NESTED 1u   /* called from inside another allocator call of the same thread */
#define FRAME_SKIP 2u     /* sampled out or outside the size filter: do not record */
/* MEMLEAK_MAX_DEPTH is a power of two; the mask is for the verifier, depth is checked before. */
#define FRAME_INDEX_MASK (MEMLEAK_MAX_DEPTH - 1)

struct pending_frame {
	__u64 sp;        /* stack pointer at entry; nested calls have a lower one */
	__u64 size;
	__u64 arg;       /* old pointer (realloc, mremap) or out-pointer (posix_memalign) */
	__u64 arg2;      /* mremap: the old size */
	__u32 flags;
	__u32 generation; /* the attach cookie of the probe that pushed it (see probe_generation) */
};

/* Masks in a way clang cannot drop, so the verifier sees the bound (depth is checked before). */
static __always_inline __u64 frame_index(__u64 index)
{
	asm volatile("%0 &= %1" : "+r"(index) : "i"(FRAME_INDEX_MASK));
	return index;
}

struct pending_state {
	__u32 depth;
	__u32 reserved;
	struct pending_frame frames[MEMLEAK_MAX_DEPTH];
};

/* Task-local: no hash update/delete per call, freed with the thread. */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending_state);
} pending SEC(".maps");

static __always_inline void stat_add(__u32 index, __u64 n)
{
	__u64 *value = bpf_map_lookup_elem(&stats, &index);
	if (value)
		*value += n;
}

/*
 * Whether the current process is traced; *image is its current image (0 in kernel mode). User mode: a process of
 * the "traced" map (the probes may be attached to every process that maps the library: see the process tree below).
 */
static __always_inline bool is_target(__u32 *image)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	*image = 0;
	if (memleak_settings.target_tgid != 0) {
		struct memleak_process *process = bpf_map_lookup_elem(&traced, &tgid);
		if (!process)
			return false;
		*image = process->image;
		return true;
	}
	return tgid != memleak_settings.ignored_tgid;
}

static __always_inline struct memleak_alloc_key alloc_key(__u64 address, __u32 image)
{
	struct memleak_alloc_key key = {
		.address = address,
		.tgid = memleak_settings.target_tgid != 0 ? bpf_get_current_pid_tgid() >> 32 : 0,
		.image = image,
	};
	return key;
}

static __always_inline struct pending_state *pending_state(bool create)
{
	struct task_struct *task = bpf_get_current_task_btf();
	return bpf_task_storage_get(&pending, task, 0, create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

/*
 * A sampled trace (Find-MemoryLeak -SampleRate, LeakTools.Tracing.SampledProbes) attaches its probes window by
 * window, each window's links with its own cookie; a call that entered through an earlier window's probe and
 * returned after they were detached leaves its frame behind, which the next window drops without counting a loss.
 * Always 0 in a continuous trace.
 */
static __always_inline __u32 probe_generation(void *ctx)
{
	return (__u32)bpf_get_attach_cookie(ctx);
}

/*
 * Argument n of a user-space allocator call, where the probe site finds it. The probe planner may place a probe past
 * a register copy that moved an argument (mimalloc's malloc: mov %rdi,%rsi, then a load into rdi): the upper half of
 * the attach cookie then names the register, 4 bits per argument, 1 + its index in
 * LeakTools.Tracing.ProbeSiteSelector.MovableRegisters; 0 keeps the argument's own register. Costs one helper call.
 */
static __always_inline __u64 site_arg(struct pt_regs *ctx, int n, __u64 own)
{
#if defined(__TARGET_ARCH_x86)
	/*
	 * One load per case, each in its own asm: clang merges plain loads into one at a computed offset, which the
	 * verifier refuses for ctx. pt_regs is the kernel's user ABI on x86-64: its layout does not change.
	 */
#define SITE_REG(reg) ({ __u64 value; asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(value) : "r"(ctx), "i"(__builtin_offsetof(struct pt_regs, reg))); value; })
	switch ((bpf_get_attach_cookie(ctx) >> (32 + 4 * n)) & 0xf) {
	case 1: return SITE_REG(di);
	case 2: return SITE_REG(si);
	case 3: return SITE_REG(dx);
	case 4: return SITE_REG(cx);
	case 5: return SITE_REG(r8);
	case 6: return SITE_REG(r9);
	case 7: return SITE_REG(ax);
	case 8: return SITE_REG(bx);
	case 9: return SITE_REG(bp);
	case 10: return SITE_REG(r10);
	case 11: return SITE_REG(r11);
	case 12: return SITE_REG(r12);
	case 13: return SITE_REG(r13);
	case 14: return SITE_REG(r14);
	case 15: return SITE_REG(r15);
	}
#undef SITE_REG
#endif
	return own;   /* other architectures: sites are always at the entry (the selector decodes x86 only) */
}

/*
 * The uprobe programs' arguments (BPF_KPROBE's typed parameters and the families' PT_REGS_PARMn) are read through
 * site_arg. No program reads more than three.
 */
#undef PT_REGS_PARM1
#undef PT_REGS_PARM2
#undef PT_REGS_PARM3
#define PT_REGS_PARM1(x) site_arg((struct pt_regs *)(x), 0, __PT_REGS_CAST(x)->__PT_PARM1_REG)
#define PT_REGS_PARM2(x) site_arg((struct pt_regs *)(x), 1, __PT_REGS_CAST(x)->__PT_PARM2_REG)
#define PT_REGS_PARM3(x) site_arg((struct pt_regs *)(x), 2, __PT_REGS_CAST(x)->__PT_PARM3_REG)

/*
 * Drops frames whose call must have returned already (their sp is below the current one), and frames an earlier
 * sampling window left behind.
 */
static __always_inline void prune_returned(struct pending_state *state, __u64 sp, __u32 generation)
{
	for (int i = 0; i < MEMLEAK_MAX_DEPTH; i++) {
		__u32 depth = state->depth;
		if (depth == 0 || depth > MEMLEAK_MAX_DEPTH)
			break;
		struct pending_frame *top = &state->frames[frame_index(depth - 1)];
		if (top->generation == generation) {
			if (top->sp >= sp)
				break;
			stat_add(MEMLEAK_STAT_MISSED_RETURNS, 1);
		}
		state->depth = depth - 1;
	}
	if (state->depth > MEMLEAK_MAX_DEPTH)
		state->depth = 0;
}

/*
 * Streamed events are staged per CPU and written to the ring MEMLEAK_STAGE_EVENTS at a time. Written one by one,
 * each event was a cache line the reader's CPU had taken over, fetched back in every traced call; a batch writes
 * its lines in one go. A stage is flushed when full, by the next event once its oldest event is a millisecond old,
 * and by user space through memleak__flush (run on every CPU, BPF_F_TEST_RUN_ON_CPU), so a quiet CPU's events
 * still arrive. Batches from different CPUs reach the ring out of order: user space sorts by timestamp.
 */
#define STAGE_MAX_AGE_NS 1000000ULL
#ifndef barrier
#define barrier() asm volatile("" ::: "memory")   /* the busy flag is set before, and cleared after, the stage's writes */
#endif

struct event_stage {
	__u32 busy;       /* set while in use: a program interrupting this one on the same CPU writes directly */
	__u32 count;
	__u64 oldest_ns;
	struct memleak_event events[MEMLEAK_STAGE_EVENTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct event_stage);
	__uint(max_entries, 1);
} event_stage SEC(".maps");

/* No write wakes the reader (a wakeup is an irq_work each): it reads the ring in its flush rounds. */
/* Writes out a stage the caller holds (busy set). */
static __always_inline void flush_stage(struct event_stage *stage)
{
	__u32 count = stage->count;
	if (count == 0)
		return;
	if (count > MEMLEAK_STAGE_EVENTS)
		count = MEMLEAK_STAGE_EVENTS;
	if (bpf_ringbuf_output(&events, stage->events, count * sizeof(struct memleak_event), BPF_RB_NO_WAKEUP) != 0)
		stat_add(MEMLEAK_STAT_RINGBUF_DROPS, count);
	stage->count = 0;
}

static __always_inline void fill_event(struct memleak_event *event, enum memleak_function fn, __u64 now, __u64 address,
				       __u64 size, __u64 caller, __u64 stack_key, __u64 previous_address)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 tid = (__u32)pid_tgid;
	__u64 pid = pid_tgid >> 32;
	event->timestamp_ns = now;
	event->address = address;
	event->size = size;
	event->caller = caller;
	event->stack_key = stack_key;
	event->previous_address = previous_address;
	event->ids = tid | pid << MEMLEAK_EVENT_ID_BITS | (__u64)fn << (2 * MEMLEAK_EVENT_ID_BITS);
}

static __always_inline void emit(enum memleak_function fn, __u64 address, __u64 size, __u64 caller, __u64 stack_key,
				 __u64 previous_address)
{
	if (!memleak_settings.stream_events)
		return;
	__u32 zero = 0;
	struct event_stage *stage = bpf_map_lookup_elem(&event_stage, &zero);
	if (!stage || stage->busy) {
		/* Interrupted another program on this CPU halfway through its event: this one goes straight out. */
		struct memleak_event event;
		fill_event(&event, fn, bpf_ktime_get_ns(), address, size, caller, stack_key, previous_address);
		if (bpf_ringbuf_output(&events, &event, sizeof(event), BPF_RB_NO_WAKEUP) != 0)
			stat_add(MEMLEAK_STAT_RINGBUF_DROPS, 1);
		return;
	}
	stage->busy = 1;
	barrier();
	/* Stamped while the stage is held: a flush round that found it free has seen every event stamped before. */
	__u64 now = bpf_ktime_get_ns();
	__u32 index = stage->count;
	if (index >= MEMLEAK_STAGE_EVENTS) {   /* cannot happen: a full stage is written out at once */
		flush_stage(stage);
		index = 0;
	}
	if (index == 0)
		stage->oldest_ns = now;
	fill_event(&stage->events[index & (MEMLEAK_STAGE_EVENTS - 1)], fn, now, address, size, caller, stack_key,
		   previous_address);
	stage->count = index + 1;
	if (index + 1 == MEMLEAK_STAGE_EVENTS || now - stage->oldest_ns >= STAGE_MAX_AGE_NS)
		flush_stage(stage);
	barrier();
	stage->busy = 0;
}

/* Run by user space on each CPU in turn: writes out what that CPU has staged. Returns 1 when the stage was in use. */
SEC("raw_tp")
int memleak__flush(void *ctx)
{
	__u32 zero = 0;
	struct event_stage *stage = bpf_map_lookup_elem(&event_stage, &zero);
	if (!stage)
		return 0;
	if (stage->busy)
		return 1;
	stage->busy = 1;
	barrier();
	flush_stage(stage);
	barrier();
	stage->busy = 0;
	return 0;
}

/* ---------------------------------------------------------------- stacks */

/*
 * A frame pointer is followed only when it lies at or above the end of the last frame and at most this far
 * from it. Code built without frame pointers uses rbp for anything (a counter, a heap pointer); following
 * such a value faults (a page-fault exception per allocation, the most expensive part of bpf_get_stackid
 * on such code) or reads junk.
 */
#define MAX_FRAME_BYTES (1 << 20)

static __always_inline __u64 hash_step(__u64 hash, __u64 value)
{
	hash ^= value;
	hash *= 0x9e3779b97f4a7c15ULL;
	return hash ^ (hash >> 29);
}

/* murmur3's 64-bit finalizer, so that keys differing in one frame differ in every bit. */
static __always_inline __u64 hash_finish(__u64 hash)
{
	hash ^= hash >> 33;
	hash *= 0xff51afd7ed558ccdULL;
	hash ^= hash >> 33;
	hash *= 0xc4ceb9fe1a85ec53ULL;
	hash ^= hash >> 33;
	return hash | 1;   /* never 0: 0 means "no stack" */
}

static __always_inline struct stack_scratch *scratch_acquire(void)
{
	__u32 zero = 0;
	struct stack_scratch *scratch = bpf_map_lookup_elem(&stack_scratch, &zero);
	if (!scratch || scratch->busy) {
		stat_add(MEMLEAK_STAT_STACK_ERRORS, 1);
		return NULL;
	}
	scratch->busy = 1;
	return scratch;
}

/*
 * Stores the scratch stack (its first depth frames, hashed frame by frame into hash) under its key unless it is
 * there already (the usual case: stacks repeat), releases the scratch space, and returns the key (0: not kept).
 */
static __always_inline __u64 intern_stack(struct stack_scratch *scratch, __u64 hash, __u32 depth)
{
	scratch->stack.depth = depth;
	__u64 key = hash_finish(hash_step(hash, depth | (__u64)scratch->stack.end << 32));
	if (key != scratch->last_key && !bpf_map_lookup_elem(&stacks, &key)) {
		long err = bpf_map_update_elem(&stacks, &key, &scratch->stack, BPF_NOEXIST);
		if (err == -7 /* E2BIG: full */ || err == -12 /* ENOMEM */) {
			stat_add(MEMLEAK_STAT_STACK_MAP_FULL, 1);
			key = 0;
		} else if (err != 0 && err != -17 /* EEXIST: another CPU stored it first */) {
			stat_add(MEMLEAK_STAT_STACK_ERRORS, 1);
			key = 0;
		}
	}
	if (key)
		scratch->last_key = key;
	scratch->busy = 0;
	return key;
}

/* ---------------------------------------------------------------- unwind tables */

/* Every unwind map is memory-mapped and written in place by user space (Unwinding/UnwindTableLoader.cs). */

/* Rows of every module's table, back to back (user space writes them through a memory map). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 21);   /* user space sizes it (MemleakSettings) */
} unwind_rows SEC(".maps");

/* Page index of every module: first row in force at the page's start | rows to search << 32. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
	__uint(max_entries, 1 << 17);
} unwind_pages SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct memleak_unwind_module);
	__uint(max_entries, MEMLEAK_UNWIND_MAX_MODULES);
} unwind_modules SEC(".maps");

/* Two halves of MEMLEAK_UNWIND_MAX_MAPPINGS entries; unwind_state says which one is current. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct memleak_unwind_mapping);
	__uint(max_entries, 2 * MEMLEAK_UNWIND_MAX_MAPPINGS);
} unwind_mappings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct memleak_unwind_state);
	__uint(max_entries, 1);
} unwind_state SEC(".maps");

/* The highest canonical user address + 1 (x86-64, 4-level and 5-level paging alike never hand out more to a process here). */
#define USER_ADDRESS_END 0x0000800000000000ULL
/* Offsets in the ucontext that __restore_rt's rsp points at: uc_mcontext.gregs[REG_RBP], [REG_RSP], [REG_RIP]. */
#define UCONTEXT_RBP 120
#define UCONTEXT_RSP 160
#define UCONTEXT_RIP 168

/* The walk's state between frames (bpf_loop's context). */
struct unwind_walk {
	__u64 pc;             /* the current frame's pc: a return address, or an interrupted pc after a signal frame */
	__u64 sp;             /* its stack pointer (the CFA of the frame below) */
	__u64 bp;             /* its rbp */
	__u64 hash;
	struct stack_scratch *scratch;   /* frames and depth: kept in the map value, where the verifier does not track each depth apart */
	__u64 mapping_start, mapping_end, mapping_bias;   /* the last mapping found: frames cluster in one module */
	__u32 mapping_module;
	__u32 mappings_base;  /* first index of the current half of unwind_mappings */
	__u32 mappings_count;
	__u32 end;            /* enum memleak_stack_end */
	__u8 after_signal;    /* pc is an interrupted pc: look it up as it is, not pc - 1 */
	__u8 used_frame_pointer;
	__u8 found_mapping;
	__u8 frame_pointers_only;   /* another process of the tree: the tables describe the target's address space only */
};

/*
 * The binary searches below run a fixed number of halvings and choose each half without a branch: a branch per
 * step would give the verifier two paths per step to explore, in every frame.
 */
#define BELOW_MASK(a, b) ((__u64)((__s64)((a) - (b)) >> 63))   /* all ones when a < b (both below 2^63) */

/* Finds the executable mapping that holds walk->pc (binary search of the sorted list). False when none does. */
static __always_inline bool unwind_find_mapping(struct unwind_walk *walk)
{
	__u64 pc = walk->pc;
	if (walk->frame_pointers_only) {
		walk->mapping_module = 0;   /* no table: each step is a validated frame-pointer step */
		return true;
	}
	if (walk->found_mapping && pc >= walk->mapping_start && pc < walk->mapping_end)
		return true;
	__u32 count = walk->mappings_count;
	if (count == 0 || count > MEMLEAK_UNWIND_MAX_MAPPINGS)
		return false;
	__u32 low = walk->mappings_base;
	/* 10 halvings cover MEMLEAK_UNWIND_MAX_MAPPINGS (512); once count is 1 the rest look at the same entry. */
#pragma unroll
	for (int step = 0; step < 10; step++) {
		__u32 half = count >> 1;
		__u32 index = low + half;
		struct memleak_unwind_mapping *mapping = bpf_map_lookup_elem(&unwind_mappings, &index);
		if (!mapping)
			return false;
		low += half & ~(__u32)BELOW_MASK(pc, mapping->start);
		count -= half;
	}
	struct memleak_unwind_mapping *mapping = bpf_map_lookup_elem(&unwind_mappings, &low);
	if (!mapping || pc < mapping->start || pc >= mapping->end)
		return false;
	walk->mapping_start = mapping->start;
	walk->mapping_end = mapping->end;
	walk->mapping_bias = mapping->bias;
	walk->mapping_module = mapping->module;
	walk->found_mapping = 1;
	return true;
}

/* The row in force at address (a module address) of module (index + 1); kind UNKNOWN when none is. */
static __always_inline __u64 unwind_find_row(__u32 module, __u64 address)
{
	__u64 unknown = (__u64)MEMLEAK_UNWIND_UNKNOWN << 56;
	__u32 module_index = module - 1;
	struct memleak_unwind_module *table = bpf_map_lookup_elem(&unwind_modules, &module_index);
	if (!table || address < table->page_base)
		return unknown;
	__u64 page = (address - table->page_base) >> MEMLEAK_UNWIND_PAGE_SHIFT;
	if (page >= table->page_count)
		return unknown;
	__u32 page_index = table->first_page + (__u32)page;
	__u64 *entry = bpf_map_lookup_elem(&unwind_pages, &page_index);
	if (!entry)
		return unknown;
	__u32 low = (__u32)*entry, count = *entry >> 32;
	/* A page holds at most 4097 rows (one per byte, and the one in force at its start): 13 halvings. */
#pragma unroll
	for (int step = 0; step < 13; step++) {
		__u32 half = count >> 1;
		__u32 index = low + half;
		__u64 *row = bpf_map_lookup_elem(&unwind_rows, &index);
		if (!row)
			return unknown;
		low += half & ~(__u32)BELOW_MASK(address, (__u64)(__u32)*row);
		count -= half;
	}
	__u64 *row = bpf_map_lookup_elem(&unwind_rows, &low);
	if (!row || (__u32)*row > address)
		return unknown;
	return *row;
}

/*
 * One step by frame pointer, for code no table covers: only when rbp lies just above the stack pointer (the
 * frame it would point at is ours to read), as capture_user_stack always required. Returns false to end the walk.
 */
static __always_inline bool unwind_frame_pointer_step(struct unwind_walk *walk, __u64 *cfa, __u64 *return_address, __u64 *bp)
{
	__u64 fp = walk->bp;
	if (fp < walk->sp || fp - walk->sp > MAX_FRAME_BYTES || (fp & 7)) {
		walk->end = MEMLEAK_STACK_END_UNKNOWN_CODE;
		return false;
	}
	__u64 frame[2];   /* saved frame pointer, return address */
	if (bpf_probe_read_user(frame, sizeof(frame), (void *)fp) != 0) {
		walk->end = MEMLEAK_STACK_END_READ_FAULT;
		return false;
	}
	*cfa = fp + 16;
	*bp = frame[0];
	*return_address = frame[1];
	walk->used_frame_pointer = 1;
	return true;
}

/*
 * bpf_loop callback: from the current frame (pc, sp, bp) to its caller's, which is recorded once it is known to be
 * a return address into an executable mapping of the target. Returns 1 to end the walk (walk->end says why).
 */
static long unwind_step(__u64 index, void *context)
{
	struct unwind_walk *walk = context;
	if (!unwind_find_mapping(walk)) {
		walk->end = MEMLEAK_STACK_END_UNKNOWN_CODE;
		return 1;
	}
	/* The pc has passed every check: it is a frame (frame 0, the direct caller, is recorded already). */
	if (index > 0) {
		struct memleak_stack *stack = &walk->scratch->stack;
		__u32 depth = stack->depth;
		if (depth >= MEMLEAK_MAX_STACK_DEPTH) {
			walk->end = MEMLEAK_STACK_END_DEPTH_LIMIT;
			return 1;
		}
		stack->frames[depth] = walk->pc;
		walk->hash = hash_step(walk->hash, walk->pc);
		stack->depth = depth + 1;
	}

	__u64 cfa, return_address, bp = walk->bp;
	__u64 row = walk->mapping_module
		? unwind_find_row(walk->mapping_module, walk->pc - walk->mapping_bias - (walk->after_signal ? 0 : 1))
		: (__u64)MEMLEAK_UNWIND_UNKNOWN << 56;
	__u8 kind = row >> 56;
	__u64 offset = (__u16)(row >> 32);
	__s64 rbp_slot = (__s8)(row >> 48);
	walk->after_signal = 0;
	switch (kind) {
	case MEMLEAK_UNWIND_RSP:
	case MEMLEAK_UNWIND_RBP:
	case MEMLEAK_UNWIND_PLT:
		if (kind == MEMLEAK_UNWIND_RSP)
			cfa = walk->sp + offset;
		else if (kind == MEMLEAK_UNWIND_RBP)
			cfa = walk->bp + offset;
		else
			cfa = walk->sp + 8 + (((walk->pc - walk->mapping_bias) & 15) >= 11 ? 8 : 0);
		if (cfa <= walk->sp || cfa - walk->sp > MAX_FRAME_BYTES) {
			walk->end = MEMLEAK_STACK_END_BAD_FRAME;
			return 1;
		}
		if (rbp_slot == -2) {
			__u64 slots[2];   /* saved rbp at CFA-16, return address at CFA-8: the usual prologue, one read */
			if (bpf_probe_read_user(slots, sizeof(slots), (void *)(cfa - 16)) != 0) {
				walk->end = MEMLEAK_STACK_END_READ_FAULT;
				return 1;
			}
			bp = slots[0];
			return_address = slots[1];
		} else {
			if (bpf_probe_read_user(&return_address, sizeof(return_address), (void *)(cfa - 8)) != 0 ||
			    (rbp_slot != 0 && bpf_probe_read_user(&bp, sizeof(bp), (void *)(cfa + rbp_slot * 8)) != 0)) {
				walk->end = MEMLEAK_STACK_END_READ_FAULT;
				return 1;
			}
		}
		break;
	case MEMLEAK_UNWIND_SIGNAL: {
		/* The handler returned into __restore_rt with rsp at the ucontext: the interrupted registers are there. */
		__u64 registers[7];   /* gregs[REG_RBP .. REG_RIP] */
		if (bpf_probe_read_user(registers, sizeof(registers), (void *)(walk->sp + UCONTEXT_RBP)) != 0) {
			walk->end = MEMLEAK_STACK_END_READ_FAULT;
			return 1;
		}
		bp = registers[0];
		cfa = registers[(UCONTEXT_RSP - UCONTEXT_RBP) / 8];
		return_address = registers[(UCONTEXT_RIP - UCONTEXT_RBP) / 8];
		if (cfa == 0 || cfa >= USER_ADDRESS_END) {
			walk->end = MEMLEAK_STACK_END_BAD_FRAME;
			return 1;
		}
		walk->after_signal = 1;
		break;
	}
	case MEMLEAK_UNWIND_END:
		walk->end = MEMLEAK_STACK_END_END_OF_STACK;
		return 1;
	default:
		if (!unwind_frame_pointer_step(walk, &cfa, &return_address, &bp))
			return 1;
		break;
	}
	if (return_address == 0) {
		/* Some outermost frames (hand-written thread starts) end with a zero return address instead of CFI. */
		walk->end = MEMLEAK_STACK_END_END_OF_STACK;
		return 1;
	}
	if (return_address < 4096 || return_address >= USER_ADDRESS_END) {
		walk->end = MEMLEAK_STACK_END_BAD_FRAME;
		return 1;
	}
	walk->pc = return_address;
	walk->sp = cfa;
	walk->bp = bp;
	return 0;
}

/*
 * The user stack of an allocation, taken in its return probe: the direct caller (the probe's instruction pointer,
 * always right), then each caller the unwind tables find (a validated frame-pointer step where a module has no
 * table), interned in "stacks" with the reason the walk ended. Returns the key, 0 when the stack was not kept (the
 * event and the outstanding entry still carry the caller).
 */
static __always_inline __u64 capture_user_stack(struct pt_regs *ctx, __u64 caller, __u64 caller_sp)
{
	if (!memleak_settings.capture_stacks || caller == 0)
		return 0;
	struct stack_scratch *scratch = scratch_acquire();
	if (!scratch)
		return 0;
	__u32 zero = 0;
	struct memleak_unwind_state *state = bpf_map_lookup_elem(&unwind_state, &zero);
	struct unwind_walk walk = {
		.pc = caller,
		/* At a return, rsp is one slot above the entry's and the callee has restored rbp: the caller's own. */
		.sp = caller_sp,
		.bp = PT_REGS_FP(ctx),
		.hash = hash_step(0, caller),
		.scratch = scratch,
		.end = MEMLEAK_STACK_END_DEPTH_LIMIT,
	};
	/*
	 * The tables hold the target's own mappings. Another process of its tree (a child after its exec has other code
	 * at those addresses; one before it, the same) is walked by validated frame pointers, as before the tables.
	 */
	walk.frame_pointers_only = memleak_settings.target_tgid != 0 &&
		(__u32)(bpf_get_current_pid_tgid() >> 32) != memleak_settings.target_tgid;
	if (state) {
		walk.mappings_base = state->active ? MEMLEAK_UNWIND_MAX_MAPPINGS : 0;
		walk.mappings_count = state->count;
	}
	scratch->stack.frames[0] = caller;
	scratch->stack.depth = 1;
	/* One step per frame after the caller, and one more to tell a complete stack from one cut at the limit. */
	bpf_loop(MEMLEAK_MAX_STACK_DEPTH + 1, unwind_step, &walk, 0);
	scratch->stack.end = walk.end | (walk.used_frame_pointer ? MEMLEAK_UNWINDER_MIXED : MEMLEAK_UNWINDER_TABLES) << 8;
	return intern_stack(scratch, walk.hash, scratch->stack.depth);
}

/* Kernel stacks: the kernel's unwinder (ORC), skipping our own frames. */
static __always_inline __u64 capture_kernel_stack(void *ctx, __u64 skip)
{
	if (!memleak_settings.capture_stacks)
		return 0;
	struct stack_scratch *scratch = scratch_acquire();
	if (!scratch)
		return 0;
	scratch->stack.end = 0;
	long bytes = bpf_get_stack(ctx, scratch->stack.frames, sizeof(scratch->stack.frames), skip & BPF_F_SKIP_FIELD_MASK);
	if (bytes <= 0) {
		scratch->busy = 0;
		stat_add(MEMLEAK_STAT_STACK_ERRORS, 1);
		return 0;
	}
	__u32 depth = bytes / sizeof(__u64);
	__u64 hash = 0;
#pragma clang loop unroll(disable)
	for (int i = 0; i < MEMLEAK_MAX_STACK_DEPTH; i++) {
		if (i >= depth)
			break;
		hash = hash_step(hash, scratch->stack.frames[i]);
	}
	return intern_stack(scratch, hash, depth);
}

/* ---------------------------------------------------------------- outstanding allocations */

/*
 * CLOCK_MONOTONIC to within a scheduler tick. Reading the clock costs ~30 ns under this class of hypervisor
 * clock source, a sixth of what recording an allocation costs; ages are reported from half a second up, so the
 * clock is read once per tick per CPU and allocations within a tick share the reading.
 */
static __always_inline __u64 tick_now_ns(void)
{
	__u32 zero = 0;
	struct clock_cache *cache = bpf_map_lookup_elem(&clock_cache, &zero);
	if (!cache)
		return bpf_ktime_get_ns();
	__u64 tick = bpf_jiffies64();
	if (tick != cache->jiffies) {
		cache->jiffies = tick;
		cache->ns = bpf_ktime_get_ns();
	}
	return cache->ns;
}

static __always_inline void record(__u64 address, __u32 image, __u64 size, __u64 caller, __u64 stack_key)
{
	if (!memleak_settings.track_outstanding) {
		stat_add(MEMLEAK_STAT_ALLOCS, 1);
		return;
	}
	struct memleak_alloc_info info = {
		.size = size,
		.timestamp_ns = tick_now_ns(),
		.caller = caller,
		.stack_key = stack_key,
		.tid = (__u32)bpf_get_current_pid_tgid(),
	};
	struct memleak_alloc_key key = alloc_key(address, image);
	if (bpf_map_update_elem(&outstanding, &key, &info, BPF_ANY) == 0)
		stat_add(MEMLEAK_STAT_ALLOCS, 1);
	else
		stat_add(MEMLEAK_STAT_MAP_FULL, 1);
}

/* Removes a block; returns its size (0 when unknown; only looked up when events need it). */
static __always_inline __u64 release(__u64 address, __u32 image)
{
	if (!memleak_settings.track_outstanding) {
		stat_add(MEMLEAK_STAT_FREES, 1);
		return 0;
	}
	struct memleak_alloc_key key = alloc_key(address, image);
	if (!memleak_settings.stream_events) {
		if (bpf_map_delete_elem(&outstanding, &key) == 0)
			stat_add(MEMLEAK_STAT_FREES, 1);
		else
			stat_add(MEMLEAK_STAT_UNKNOWN_FREES, 1);
		return 0;
	}
	struct memleak_alloc_info *info = bpf_map_lookup_elem(&outstanding, &key);
	if (!info) {
		stat_add(MEMLEAK_STAT_UNKNOWN_FREES, 1);
		return 0;
	}
	__u64 size = info->size;
	if (bpf_map_delete_elem(&outstanding, &key) == 0)
		stat_add(MEMLEAK_STAT_FREES, 1);
	return size;
}

static __always_inline bool sampled_in(__u64 size)
{
	if (size < memleak_settings.min_size || size > memleak_settings.max_size) {
		stat_add(MEMLEAK_STAT_FILTERED_OUT, 1);
		return false;
	}
	if (memleak_settings.sample_rate > 1 && bpf_get_prandom_u32() % memleak_settings.sample_rate != 0) {
		stat_add(MEMLEAK_STAT_SAMPLED_OUT, 1);
		return false;
	}
	return true;
}

/* ---------------------------------------------------------------- mappings: partial munmap and mremap */

#define MAX_UNMAP_OVERLAPS 8   /* recorded mappings one munmap can trim; more are left as they are */

/* Keys are those of "outstanding" (address, tgid, image): a forked child has its own copy of each mapping. */
struct unmap_search {
	struct memleak_alloc_key range;   /* address = start of the range; tgid and image = the calling process */
	__u64 end;
	__u32 found;
	__u32 reserved;
	__u64 starts[MAX_UNMAP_OVERLAPS];
};

static long find_overlap(struct bpf_map *map, struct memleak_alloc_key *key, __u64 *length, struct unmap_search *search)
{
	if (key->tgid != search->range.tgid || key->image != search->range.image)
		return 0;
	__u64 end = key->address + *length;
	if (key->address < search->end && search->range.address < end) {
		__u32 i = search->found;
		if (i >= MAX_UNMAP_OVERLAPS)
			return 1;
		search->starts[i] = key->address;
		search->found = i + 1;
	}
	return 0;
}

static __always_inline void record_mapping(__u64 start, __u32 image, __u64 length)
{
	if (!memleak_settings.track_outstanding)
		return;
	struct memleak_alloc_key key = alloc_key(start, image);
	bpf_map_update_elem(&mappings, &key, &length, BPF_ANY);
}

/*
 * [start, start + length) is no longer mapped: every recorded mapping it overlaps loses those bytes. What is left
 * before the range keeps the record (its size trimmed); what is left after it becomes a record of its own with
 * the same stack and time. Returns the bytes that were recorded and are now gone.
 */
static __always_inline __u64 unmap_range(__u64 start, __u32 image, __u64 length)
{
	if (length == 0)
		return 0;
	__u64 end = start + length;
	struct memleak_alloc_key key = alloc_key(start, image);
	/* The usual case: exactly one whole recorded mapping. */
	__u64 *known = bpf_map_lookup_elem(&mappings, &key);
	if (known && *known == length) {
		__u64 size = *known;
		bpf_map_delete_elem(&mappings, &key);
		release(start, image);
		return size;
	}
	struct unmap_search search = { .range = key, .end = end };
	bpf_for_each_map_elem(&mappings, find_overlap, &search, 0);
	__u64 gone = 0;
	for (int i = 0; i < MAX_UNMAP_OVERLAPS; i++) {
		if (i >= search.found)
			break;
		struct memleak_alloc_key first = alloc_key(search.starts[i], image);
		struct memleak_alloc_info *info = bpf_map_lookup_elem(&outstanding, &first);
		if (!info) {
			bpf_map_delete_elem(&mappings, &first);
			continue;
		}
		struct memleak_alloc_info kept = *info;
		__u64 last = first.address + kept.size;
		__u64 head = start > first.address ? start - first.address : 0;
		__u64 tail = last > end ? last - end : 0;
		gone += kept.size - head - tail;
		if (head) {
			info->size = head;
			bpf_map_update_elem(&mappings, &first, &head, BPF_ANY);
		} else {
			bpf_map_delete_elem(&outstanding, &first);
			bpf_map_delete_elem(&mappings, &first);
			if (!tail)
				stat_add(MEMLEAK_STAT_FREES, 1);
		}
		if (tail) {
			struct memleak_alloc_key after = alloc_key(end, image);
			kept.size = tail;
			if (bpf_map_update_elem(&outstanding, &after, &kept, BPF_ANY) == 0)
				bpf_map_update_elem(&mappings, &after, &tail, BPF_ANY);
			else
				stat_add(MEMLEAK_STAT_MAP_FULL, 1);
		}
	}
	if (search.found == 0)
		return release(start, image);   /* not a recorded mapping (e.g. a block of another allocator function) */
	return gone;
}

/*
 * For the unit tests of the split (tests/LeakTools.Tests/Tracing/MappingSplitTests.cs), run through BPF_PROG_TEST_RUN:
 * op 0 records a mapping as mmap's return does, op 1 unmaps a range as munmap's entry does and returns the bytes
 * that were recorded there. Not loaded unless a test asks ("?": no autoload); never attached.
 */
struct memleak_mapping_test {
	__u64 op;
	__u64 address;
	__u64 length;
};

SEC("?syscall")
int memleak__mapping_test(struct memleak_mapping_test *args)
{
	__u64 address = args->address;
	__u64 length = args->length;
	if (args->op == 0) {
		struct memleak_alloc_info info = { .size = length, .caller = address };
		struct memleak_alloc_key key = alloc_key(address, 0);
		bpf_map_update_elem(&outstanding, &key, &info, BPF_ANY);
		record_mapping(address, 0, length);
		return 0;
	}
	return (int)unmap_range(address, 0, length);
}

/* ---------------------------------------------------------------- user space: entry / return */

/* The semantics column of MEMLEAK_ALLOCATOR_FUNCTIONS. fn is a constant in every caller: this folds away. */
static __always_inline enum memleak_semantics semantics_of(enum memleak_function fn)
{
	switch (fn) {
#define SEMANTICS_CASE(id, name, space, semantics, arguments, return_probe) \
	case MEMLEAK_FN_##id: return MEMLEAK_SEMANTICS_##semantics;
	MEMLEAK_ALLOCATOR_FUNCTIONS(SEMANTICS_CASE)
#undef SEMANTICS_CASE
	default: return MEMLEAK_SEMANTICS_ALLOCATES;
	}
}

/* realloc, reallocarray, mremap, xallocx: the call replaces (or resizes) the block its argument names. */
static __always_inline bool replaces_block(enum memleak_function fn)
{
	enum memleak_semantics semantics = semantics_of(fn);
	return semantics == MEMLEAK_SEMANTICS_REALLOCATES || semantics == MEMLEAK_SEMANTICS_REMAPS ||
	       semantics == MEMLEAK_SEMANTICS_RESIZES;
}

/* posix_memalign and its copies: the result goes through an out-pointer, the return value is an error number. */
static __always_inline bool returns_through_pointer(enum memleak_function fn)
{
	return fn == MEMLEAK_FN_POSIX_MEMALIGN || fn == MEMLEAK_FN_TC_POSIX_MEMALIGN || fn == MEMLEAK_FN_MI_POSIX_MEMALIGN;
}

static __always_inline int alloc_enter2(struct pt_regs *ctx, enum memleak_function fn, __u64 size, __u64 arg, __u64 arg2)
{
	__u32 image;
	if (!is_target(&image))
		return 0;
	stat_add(MEMLEAK_STAT_HITS_BASE + fn, 1);

	struct pending_state *state = pending_state(true);
	if (!state) {
		stat_add(MEMLEAK_STAT_PENDING_ERRORS, 1);
		return 0;
	}
	__u64 sp = PT_REGS_SP(ctx);
	__u32 generation = probe_generation(ctx);
	prune_returned(state, sp, generation);

	__u32 depth = state->depth;
	if (depth >= MEMLEAK_MAX_DEPTH) {
		stat_add(MEMLEAK_STAT_NESTING_OVERFLOW, 1);
		return 0;
	}
	struct pending_frame *frame = &state->frames[frame_index(depth)];
	frame->sp = sp;
	frame->size = size;
	frame->arg = arg;
	frame->arg2 = arg2;
	frame->flags = 0;
	frame->generation = generation;
	if (depth > 0) {
		frame->flags = FRAME_NESTED;
		stat_add(MEMLEAK_STAT_NESTED_CALLS, 1);
	} else {
		bool record_it = replaces_block(fn) ? (size == 0 || sampled_in(size)) : sampled_in(size);
		if (!record_it)
			frame->flags = FRAME_SKIP;
	}
	state->depth = depth + 1;
	return 0;
}

static __always_inline int alloc_enter(struct pt_regs *ctx, enum memleak_function fn, __u64 size, __u64 arg)
{
	return alloc_enter2(ctx, fn, size, arg, 0);
}

static __always_inline int alloc_return(struct pt_regs *ctx, enum memleak_function fn)
{
	__u32 image;
	if (!is_target(&image))
		return 0;
	struct pending_state *state = pending_state(false);
	if (!state)
		return 0;
	/* After ret the stack pointer is one slot above the entry's. */
	__u64 sp = PT_REGS_SP(ctx) - 8;
	prune_returned(state, sp, probe_generation(ctx));
	__u32 depth = state->depth;
	if (depth == 0 || depth > MEMLEAK_MAX_DEPTH)
		return 0;
	struct pending_frame *frame = &state->frames[frame_index(depth - 1)];
	if (frame->sp != sp)
		return 0;   /* not ours (e.g. its entry overflowed the nesting depth) */
	state->depth = depth - 1;
	if (frame->flags & FRAME_NESTED)
		return 0;

	bool record_it = !(frame->flags & FRAME_SKIP);
	__u64 rc = PT_REGS_RC(ctx);
	__u64 size = frame->size;
	/* Set to the return address by the kernel before return probes run: the direct caller. */
	__u64 caller = PT_REGS_IP(ctx);
	__u64 address = rc;

	enum memleak_semantics semantics = semantics_of(fn);
	if (returns_through_pointer(fn)) {
		if ((int)rc != 0) {
			stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
			return 0;
		}
		address = 0;
		if (bpf_probe_read_user(&address, sizeof(address), (void *)frame->arg) != 0 || address == 0) {
			stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
			return 0;
		}
	} else if (semantics == MEMLEAK_SEMANTICS_MAPS) {
		if (rc == (__u64)-1) {
			stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
			return 0;
		}
	} else if (semantics == MEMLEAK_SEMANTICS_REMAPS) {
		if (rc == (__u64)-1) {
			stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
			return 0;
		}
		/* The old range, whole or part of a recorded mapping, is gone; the new one is recorded below. */
		if (memleak_settings.track_outstanding)
			unmap_range(frame->arg, image, frame->arg2);
		else
			release(frame->arg, image);
	} else if (semantics == MEMLEAK_SEMANTICS_RESIZES) {
		/* xallocx(ptr, size, extra, flags): the block stays where it is and the result is its new size. */
		address = frame->arg;
		size = rc;
		release(address, image);
	} else if (semantics == MEMLEAK_SEMANTICS_REALLOCATES) {
		if (rc == 0) {
			if (size == 0 && frame->arg != 0) {
				/* realloc(p, 0) frees p and returns NULL */
				emit(MEMLEAK_FN_FREE, frame->arg, release(frame->arg, image), caller, 0, 0);
			} else if (size != 0) {
				stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
			}
			return 0;
		}
		if (frame->arg != 0)
			release(frame->arg, image);
	} else if (rc == 0) {
		stat_add(MEMLEAK_STAT_FAILED_ALLOCS, 1);
		return 0;
	}
	if (record_it) {
		/* The caller's frames are as they were at entry: rsp is one slot up (ret popped it), rbp restored. */
		__u64 stack_key = capture_user_stack(ctx, caller, PT_REGS_SP(ctx));
		record(address, image, size, caller, stack_key);
		if (semantics == MEMLEAK_SEMANTICS_MAPS || semantics == MEMLEAK_SEMANTICS_REMAPS)
			record_mapping(address, image, size);
		emit(fn, address, size, caller, stack_key, replaces_block(fn) ? frame->arg : 0);
	}
	return 0;
}

static __always_inline int free_enter(struct pt_regs *ctx, enum memleak_function fn, __u64 address, __u64 length)
{
	__u32 image;
	if (!is_target(&image))
		return 0;
	stat_add(MEMLEAK_STAT_HITS_BASE + fn, 1);
	struct pending_state *state = pending_state(false);
	if (state) {
		prune_returned(state, PT_REGS_SP(ctx), probe_generation(ctx));
		if (state->depth > 0) {
			/* the allocator freeing its own memory (realloc, free -> munmap) */
			stat_add(MEMLEAK_STAT_NESTED_CALLS, 1);
			return 0;
		}
	}
	if (address == 0)
		return 0;
	__u64 size = semantics_of(fn) == MEMLEAK_SEMANTICS_UNMAPS && memleak_settings.track_outstanding
		? unmap_range(address, image, length) : release(address, image);
	if (memleak_settings.stream_events) {
		/* Who freed it is shown only with stacks; reading user memory is a good part of a free's cost. */
		__u64 caller = 0;
		if (memleak_settings.capture_stacks)
			bpf_probe_read_user(&caller, sizeof(caller), (void *)PT_REGS_SP(ctx));
		emit(fn, address, size, caller, 0, 0);
	}
	return 0;
}

/* nmemb * size, or all ones on overflow (the call then fails and nothing is recorded). */
static __always_inline __u64 checked_product(__u64 nmemb, __u64 size)
{
	if (size == 0)
		return 0;
	__u64 limit = (__u64)-1 / size;
	asm volatile("" : "+r"(limit));   /* keep clang from turning this into a 128-bit multiply */
	if (nmemb > limit)
		return (__u64)-1;
	return nmemb * size;
}

SEC("uprobe")
int BPF_KPROBE(memleak__malloc_enter, size_t size) { return alloc_enter(ctx, MEMLEAK_FN_MALLOC, size, 0); }
SEC("uretprobe")
int BPF_KRETPROBE(memleak__malloc_return) { return alloc_return(ctx, MEMLEAK_FN_MALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__calloc_enter, size_t nmemb, size_t size)
{
	__u64 total = checked_product(nmemb, size);
	return alloc_enter(ctx, MEMLEAK_FN_CALLOC, total, 0);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__calloc_return) { return alloc_return(ctx, MEMLEAK_FN_CALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__realloc_enter, void *ptr, size_t size)
{
	return alloc_enter(ctx, MEMLEAK_FN_REALLOC, size, (__u64)ptr);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__realloc_return) { return alloc_return(ctx, MEMLEAK_FN_REALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__reallocarray_enter, void *ptr, size_t nmemb, size_t size)
{
	__u64 total = checked_product(nmemb, size);
	return alloc_enter(ctx, MEMLEAK_FN_REALLOCARRAY, total, (__u64)ptr);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__reallocarray_return) { return alloc_return(ctx, MEMLEAK_FN_REALLOCARRAY); }

SEC("uprobe")
int BPF_KPROBE(memleak__free_enter, void *ptr) { return free_enter(ctx, MEMLEAK_FN_FREE, (__u64)ptr, 0); }

SEC("uprobe")
int BPF_KPROBE(memleak__posix_memalign_enter, void **memptr, size_t alignment, size_t size)
{
	return alloc_enter(ctx, MEMLEAK_FN_POSIX_MEMALIGN, size, (__u64)memptr);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__posix_memalign_return) { return alloc_return(ctx, MEMLEAK_FN_POSIX_MEMALIGN); }

SEC("uprobe")
int BPF_KPROBE(memleak__aligned_alloc_enter, size_t alignment, size_t size)
{
	return alloc_enter(ctx, MEMLEAK_FN_ALIGNED_ALLOC, size, 0);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__aligned_alloc_return) { return alloc_return(ctx, MEMLEAK_FN_ALIGNED_ALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__memalign_enter, size_t alignment, size_t size)
{
	return alloc_enter(ctx, MEMLEAK_FN_MEMALIGN, size, 0);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__memalign_return) { return alloc_return(ctx, MEMLEAK_FN_MEMALIGN); }

SEC("uprobe")
int BPF_KPROBE(memleak__valloc_enter, size_t size) { return alloc_enter(ctx, MEMLEAK_FN_VALLOC, size, 0); }
SEC("uretprobe")
int BPF_KRETPROBE(memleak__valloc_return) { return alloc_return(ctx, MEMLEAK_FN_VALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__pvalloc_enter, size_t size) { return alloc_enter(ctx, MEMLEAK_FN_PVALLOC, size, 0); }
SEC("uretprobe")
int BPF_KRETPROBE(memleak__pvalloc_return) { return alloc_return(ctx, MEMLEAK_FN_PVALLOC); }

SEC("uprobe")
int BPF_KPROBE(memleak__mmap_enter, void *address, size_t length)
{
	return alloc_enter(ctx, MEMLEAK_FN_MMAP, length, 0);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__mmap_return) { return alloc_return(ctx, MEMLEAK_FN_MMAP); }

SEC("uprobe")
int BPF_KPROBE(memleak__munmap_enter, void *address, size_t length)
{
	return free_enter(ctx, MEMLEAK_FN_MUNMAP, (__u64)address, length);
}

SEC("uprobe")
int BPF_KPROBE(memleak__mremap_enter, void *old_address, size_t old_size, size_t new_size)
{
	return alloc_enter2(ctx, MEMLEAK_FN_MREMAP, new_size, (__u64)old_address, old_size);
}
SEC("uretprobe")
int BPF_KRETPROBE(memleak__mremap_return) { return alloc_return(ctx, MEMLEAK_FN_MREMAP); }

/*
 * The allocator families (the rows after the kernel's in MEMLEAK_ALLOCATOR_FUNCTIONS): one entry program, and for
 * allocations a return program, per row, named after it. Sizes are read from the argument registers the row lists.
 */
#define ALLOC_PROBES(name, id, size, arg) \
	SEC("uprobe") int BPF_KPROBE(memleak__##name##_enter) { return alloc_enter(ctx, MEMLEAK_FN_##id, size, arg); } \
	SEC("uretprobe") int BPF_KRETPROBE(memleak__##name##_return) { return alloc_return(ctx, MEMLEAK_FN_##id); }
#define FREE_PROBE(name, id) \
	SEC("uprobe") int BPF_KPROBE(memleak__##name##_enter) { return free_enter(ctx, MEMLEAK_FN_##id, PT_REGS_PARM1(ctx), 0); }

ALLOC_PROBES(_Znwm, OPERATOR_NEW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_Znam, OPERATOR_NEW_ARRAY, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnwmRKSt9nothrow_t, OPERATOR_NEW_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnamRKSt9nothrow_t, OPERATOR_NEW_ARRAY_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnwmSt11align_val_t, OPERATOR_NEW_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnamSt11align_val_t, OPERATOR_NEW_ARRAY_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnwmSt11align_val_tRKSt9nothrow_t, OPERATOR_NEW_ALIGNED_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(_ZnamSt11align_val_tRKSt9nothrow_t, OPERATOR_NEW_ARRAY_ALIGNED_NOTHROW, PT_REGS_PARM1(ctx), 0)
FREE_PROBE(_ZdlPv, OPERATOR_DELETE)
FREE_PROBE(_ZdaPv, OPERATOR_DELETE_ARRAY)
FREE_PROBE(_ZdlPvm, OPERATOR_DELETE_SIZED)
FREE_PROBE(_ZdaPvm, OPERATOR_DELETE_ARRAY_SIZED)
FREE_PROBE(_ZdlPvRKSt9nothrow_t, OPERATOR_DELETE_NOTHROW)
FREE_PROBE(_ZdaPvRKSt9nothrow_t, OPERATOR_DELETE_ARRAY_NOTHROW)
FREE_PROBE(_ZdlPvSt11align_val_t, OPERATOR_DELETE_ALIGNED)
FREE_PROBE(_ZdaPvSt11align_val_t, OPERATOR_DELETE_ARRAY_ALIGNED)
FREE_PROBE(_ZdlPvmSt11align_val_t, OPERATOR_DELETE_SIZED_ALIGNED)
FREE_PROBE(_ZdaPvmSt11align_val_t, OPERATOR_DELETE_ARRAY_SIZED_ALIGNED)
FREE_PROBE(_ZdlPvSt11align_val_tRKSt9nothrow_t, OPERATOR_DELETE_ALIGNED_NOTHROW)
FREE_PROBE(_ZdaPvSt11align_val_tRKSt9nothrow_t, OPERATOR_DELETE_ARRAY_ALIGNED_NOTHROW)
ALLOC_PROBES(mallocx, MALLOCX, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(rallocx, RALLOCX, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(xallocx, XALLOCX, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
FREE_PROBE(sdallocx, SDALLOCX)
FREE_PROBE(dallocx, DALLOCX)
ALLOC_PROBES(tc_malloc, TC_MALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_malloc_skip_new_handler, TC_MALLOC_SKIP_NEW_HANDLER, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_calloc, TC_CALLOC, checked_product(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)), 0)
ALLOC_PROBES(tc_realloc, TC_REALLOC, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(tc_memalign, TC_MEMALIGN, PT_REGS_PARM2(ctx), 0)
ALLOC_PROBES(tc_posix_memalign, TC_POSIX_MEMALIGN, PT_REGS_PARM3(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(tc_valloc, TC_VALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_pvalloc, TC_PVALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_new, TC_NEW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_newarray, TC_NEWARRAY, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_new_nothrow, TC_NEW_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_newarray_nothrow, TC_NEWARRAY_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_new_aligned, TC_NEW_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_newarray_aligned, TC_NEWARRAY_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_new_aligned_nothrow, TC_NEW_ALIGNED_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(tc_newarray_aligned_nothrow, TC_NEWARRAY_ALIGNED_NOTHROW, PT_REGS_PARM1(ctx), 0)
FREE_PROBE(tc_free, TC_FREE)
FREE_PROBE(tc_free_sized, TC_FREE_SIZED)
FREE_PROBE(tc_cfree, TC_CFREE)
FREE_PROBE(tc_delete, TC_DELETE)
FREE_PROBE(tc_deletearray, TC_DELETEARRAY)
FREE_PROBE(tc_delete_sized, TC_DELETE_SIZED)
FREE_PROBE(tc_deletearray_sized, TC_DELETEARRAY_SIZED)
FREE_PROBE(tc_delete_nothrow, TC_DELETE_NOTHROW)
FREE_PROBE(tc_deletearray_nothrow, TC_DELETEARRAY_NOTHROW)
FREE_PROBE(tc_delete_aligned, TC_DELETE_ALIGNED)
FREE_PROBE(tc_deletearray_aligned, TC_DELETEARRAY_ALIGNED)
FREE_PROBE(tc_delete_sized_aligned, TC_DELETE_SIZED_ALIGNED)
FREE_PROBE(tc_deletearray_sized_aligned, TC_DELETEARRAY_SIZED_ALIGNED)
FREE_PROBE(tc_delete_aligned_nothrow, TC_DELETE_ALIGNED_NOTHROW)
FREE_PROBE(tc_deletearray_aligned_nothrow, TC_DELETEARRAY_ALIGNED_NOTHROW)
ALLOC_PROBES(mi_malloc, MI_MALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_zalloc, MI_ZALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_malloc_small, MI_MALLOC_SMALL, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_zalloc_small, MI_ZALLOC_SMALL, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_new, MI_NEW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_new_nothrow, MI_NEW_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_valloc, MI_VALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_pvalloc, MI_PVALLOC, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_malloc_aligned, MI_MALLOC_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_zalloc_aligned, MI_ZALLOC_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_new_aligned, MI_NEW_ALIGNED, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_new_aligned_nothrow, MI_NEW_ALIGNED_NOTHROW, PT_REGS_PARM1(ctx), 0)
ALLOC_PROBES(mi_calloc, MI_CALLOC, checked_product(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)), 0)
ALLOC_PROBES(mi_mallocn, MI_MALLOCN, checked_product(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)), 0)
ALLOC_PROBES(mi_new_n, MI_NEW_N, checked_product(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)), 0)
ALLOC_PROBES(mi_calloc_aligned, MI_CALLOC_ALIGNED, checked_product(PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx)), 0)
ALLOC_PROBES(mi_memalign, MI_MEMALIGN, PT_REGS_PARM2(ctx), 0)
ALLOC_PROBES(mi_aligned_alloc, MI_ALIGNED_ALLOC, PT_REGS_PARM2(ctx), 0)
ALLOC_PROBES(mi_posix_memalign, MI_POSIX_MEMALIGN, PT_REGS_PARM3(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_realloc, MI_REALLOC, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_rezalloc, MI_REZALLOC, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_realloc_aligned, MI_REALLOC_ALIGNED, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_rezalloc_aligned, MI_REZALLOC_ALIGNED, PT_REGS_PARM2(ctx), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_reallocn, MI_REALLOCN, checked_product(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx)), PT_REGS_PARM1(ctx))
ALLOC_PROBES(mi_recalloc, MI_RECALLOC, checked_product(PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx)), PT_REGS_PARM1(ctx))
FREE_PROBE(mi_free, MI_FREE)
FREE_PROBE(mi_cfree, MI_CFREE)
FREE_PROBE(mi_free_size, MI_FREE_SIZE)
FREE_PROBE(mi_free_aligned, MI_FREE_ALIGNED)
FREE_PROBE(mi_free_size_aligned, MI_FREE_SIZE_ALIGNED)

/* ---------------------------------------------------------------- kernel mode: tracepoints */

/*
 * BTF-typed tracepoints (tp_btf): no tracefs needed. The arguments are the TP_PROTO's, as 64-bit slots.
 * Where the prototype changed between kernels, the trace_event_raw_* struct of the same event changed with it,
 * so CO-RE existence checks on those structs pick the right slot on the running kernel.
 */

/*
 * A constant-offset context load that clang cannot merge across CO-RE branches (it would load from a computed
 * offset, which the verifier rejects); the verifier then never visits the branch the running kernel does not take.
 */
#define CTX_ARG(ctx, n) ({ __u64 __v; asm volatile("%0 = *(u64 *)(%1 + %2)" : "=r"(__v) : "r"(ctx), "i"((n) * 8)); __v; })

/* Before 6.0, kmem_cache_alloc/kmalloc shared the kmem_alloc class: (call_site, ptr, bytes_req, bytes_alloc, gfp). */
/* Since 5.19 percpu_alloc_percpu starts with call_site and ends with bytes_alloc, gfp_flags. */
struct trace_event_raw_percpu_alloc_percpu___since519 {
	unsigned long call_site;
	size_t bytes_alloc;
} __attribute__((preserve_access_index));

static __always_inline int kernel_alloc(void *ctx, enum memleak_function fn, __u64 key, __u64 size, __u64 call_site)
{
	__u32 image;
	if (!is_target(&image))
		return 0;
	stat_add(MEMLEAK_STAT_HITS_BASE + fn, 1);
	if (key == 0 || !sampled_in(size))
		return 0;
	/* Skip our own two frames: this program and bpf_trace_runN (the tp_btf glue). */
	__u64 stack_key = capture_kernel_stack(ctx, 2);
	record(key, image, size, call_site, stack_key);
	emit(fn, key, size, call_site, stack_key, 0);
	return 0;
}

static __always_inline int kernel_free(void *ctx, enum memleak_function fn, __u64 key, __u64 call_site)
{
	__u32 image;
	if (!is_target(&image))
		return 0;
	stat_add(MEMLEAK_STAT_HITS_BASE + fn, 1);
	if (key == 0)
		return 0;
	__u64 size = release(key, image);
	emit(fn, key, size, call_site, 0, 0);
	return 0;
}

/* kmalloc(call_site, ptr, bytes_req, bytes_alloc, gfp_flags[, node]): same slots before and after 6.0. */
SEC("tp_btf/kmalloc")
int memleak__kmalloc(__u64 *ctx)
{
	return kernel_alloc(ctx, MEMLEAK_FN_KMALLOC, ctx[1], ctx[3], ctx[0]);
}

SEC("tp_btf/kfree")
int memleak__kfree(__u64 *ctx)
{
	return kernel_free(ctx, MEMLEAK_FN_KFREE, ctx[1], ctx[0]);
}

/* 6.0+: (call_site, ptr, struct kmem_cache *s, gfp_flags, node); before: (call_site, ptr, bytes_req, bytes_alloc, gfp). */
SEC("tp_btf/kmem_cache_alloc")
int memleak__kmem_cache_alloc(__u64 *ctx)
{
	__u64 size;
	if (bpf_core_type_exists(struct trace_event_raw_kmem_cache_alloc)) {
		struct kmem_cache *cache = (struct kmem_cache *)ctx[2];
		size = BPF_CORE_READ(cache, size);
	} else {
		size = CTX_ARG(ctx, 3);
	}
	return kernel_alloc(ctx, MEMLEAK_FN_KMEM_CACHE_ALLOC, ctx[1], size, ctx[0]);
}

SEC("tp_btf/kmem_cache_free")
int memleak__kmem_cache_free(__u64 *ctx)
{
	return kernel_free(ctx, MEMLEAK_FN_KMEM_CACHE_FREE, ctx[1], ctx[0]);
}

/*
 * Pages are keyed by their struct page pointer (vmemmap, apart from slab addresses). The verifier forbids
 * arithmetic on that trusted pointer, so it is used as it is.
 */
/* mm_page_alloc(struct page *page, unsigned int order, gfp_t, int migratetype) */
SEC("tp_btf/mm_page_alloc")
int memleak__mm_page_alloc(__u64 *ctx)
{
	if (ctx[0] == 0)
		return 0;   /* failed allocation */
	__u32 order = (__u32)ctx[1];
	return kernel_alloc(ctx, MEMLEAK_FN_PAGE_ALLOC, ctx[0], memleak_settings.page_size << (order & 31), 0);
}

/* mm_page_free(struct page *page, unsigned int order) */
SEC("tp_btf/mm_page_free")
int memleak__mm_page_free(__u64 *ctx)
{
	return kernel_free(ctx, MEMLEAK_FN_PAGE_FREE, ctx[0], 0);
}

static __always_inline __u64 percpu_key(__u64 ptr)
{
	return ptr | (MEMLEAK_KEY_TAG_PERCPU << MEMLEAK_KEY_TAG_SHIFT);
}

/* 5.19+: (call_site, reserved, is_atomic, size, align, base_addr, off, ptr, bytes_alloc, gfp_flags);
 * before: (reserved, is_atomic, size, align, base_addr, off, ptr). */
SEC("tp_btf/percpu_alloc_percpu")
int memleak__percpu_alloc_percpu(__u64 *ctx)
{
	__u64 ptr, size, site = 0;
	if (bpf_core_field_exists(struct trace_event_raw_percpu_alloc_percpu___since519, bytes_alloc)) {
		site = CTX_ARG(ctx, 0);
		ptr = CTX_ARG(ctx, 7);
		size = CTX_ARG(ctx, 8);
	} else {
		ptr = CTX_ARG(ctx, 6);
		size = CTX_ARG(ctx, 2);
	}
	if (ptr == 0)
		return 0;
	return kernel_alloc(ctx, MEMLEAK_FN_PERCPU_ALLOC, percpu_key(ptr), size, site);
}

/* percpu_free_percpu(base_addr, off, ptr) */
SEC("tp_btf/percpu_free_percpu")
int memleak__percpu_free_percpu(__u64 *ctx)
{
	if (ctx[2] == 0)
		return 0;
	return kernel_free(ctx, MEMLEAK_FN_PERCPU_FREE, percpu_key(ctx[2]), 0);
}

/* ---------------------------------------------------------------- user space: the process tree */

/*
 * These keep the "traced" map current, so the probes' filter (is_target) follows the target's children from
 * their first instruction: the map is updated in the parent's fork, before the child can run. Threads share their
 * process's entry. Loaded in user mode only; they cost every fork, exec and exit on the machine one hash lookup.
 */

static __always_inline void tell_process_event(__u32 kind, __u32 tgid, __u32 parent_tgid, __u32 image, __u32 previous_image)
{
	struct memleak_process_event *event = bpf_ringbuf_reserve(&process_events, sizeof(*event), 0);
	if (!event) {
		stat_add(MEMLEAK_STAT_PROCESS_EVENT_DROPS, 1);
		return;
	}
	event->timestamp_ns = bpf_ktime_get_ns();
	event->kind = kind;
	event->tgid = tgid;
	event->parent_tgid = parent_tgid;
	event->image = image;
	event->previous_image = previous_image;
	event->reserved = 0;
	bpf_get_current_comm(event->comm, sizeof(event->comm));
	bpf_ringbuf_submit(event, BPF_RB_NO_WAKEUP);
}

/* sched_process_fork(struct task_struct *parent, struct task_struct *child), in the parent, before the child runs. */
SEC("tp_btf/sched_process_fork")
int memleak__sched_process_fork(__u64 *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx[0];
	struct task_struct *child = (struct task_struct *)ctx[1];
	__u32 parent_tgid = BPF_CORE_READ(parent, tgid);
	struct memleak_process *process = bpf_map_lookup_elem(&traced, &parent_tgid);
	if (!process)
		return 0;
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	if (child_tgid != (__u32)BPF_CORE_READ(child, pid))
		return 0;   /* a new thread: traced with its process */
	if (!memleak_settings.follow_children) {
		tell_process_event(MEMLEAK_PROCESS_UNTRACED_FORK, child_tgid, parent_tgid, 0, process->image);
		return 0;
	}
	struct memleak_process child_process = { .image = next_image() };
	if (bpf_map_update_elem(&traced, &child_tgid, &child_process, BPF_ANY) != 0) {
		tell_process_event(MEMLEAK_PROCESS_UNTRACED_FORK, child_tgid, parent_tgid, 0, process->image);
		return 0;
	}
	tell_process_event(MEMLEAK_PROCESS_FORK, child_tgid, parent_tgid, child_process.image, process->image);
	return 0;
}

/* sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm), in p, on the new image. */
SEC("tp_btf/sched_process_exec")
int memleak__sched_process_exec(__u64 *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct memleak_process *process = bpf_map_lookup_elem(&traced, &tgid);
	if (!process)
		return 0;
	__u32 previous = process->image;
	/* The old image's blocks died with its address space: new ones are keyed apart from them. */
	process->image = next_image();
	tell_process_event(MEMLEAK_PROCESS_EXEC, tgid, 0, process->image, previous);
	return 0;
}

/* sched_process_exit(struct task_struct *p[, bool group_dead]), per thread: the process ends with its last one. */
SEC("tp_btf/sched_process_exit")
int memleak__sched_process_exit(__u64 *ctx)
{
	struct task_struct *task = (struct task_struct *)ctx[0];
	__u32 tgid = BPF_CORE_READ(task, tgid);
	struct memleak_process *process = bpf_map_lookup_elem(&traced, &tgid);
	if (!process || BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 image = process->image;
	bpf_map_delete_elem(&traced, &tgid);
	tell_process_event(MEMLEAK_PROCESS_EXIT, tgid, 0, image, 0);
	return 0;
}

/* ---------------------------------------------------------------- user space: -Command's stop at its entry point */

/*
 * Unwind tables describe mappings user space has read, and ld.so maps a launched program's libraries after its
 * exec: allocations made before user space looks again would keep their direct caller alone. So the program's
 * entry point (ELF e_entry, reached once ld.so has mapped the libraries it needs) gets this probe, which stops the
 * target once (SIGSTOP); user space publishes the tables and sends SIGCONT (Targets/TargetLauncher.cs).
 * entry_stop[0] is set once fired (and by user space when it gives up waiting), so a later pass through the
 * same code (a re-exec of the same file) runs on.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
} entry_stop SEC(".maps");

#define SIGNAL_STOP 19   /* SIGSTOP */

SEC("?uprobe")
int memleak__stop_at_entry(struct pt_regs *ctx)
{
	__u32 zero = 0;
	__u32 *done = bpf_map_lookup_elem(&entry_stop, &zero);
	if (!done || *done || (__u32)(bpf_get_current_pid_tgid() >> 32) != memleak_settings.target_tgid)
		return 0;
	*done = 1;
	bpf_send_signal(SIGNAL_STOP);
	return 0;
}
