// SPDX-License-Identifier: MIT
/*
 * Prints the layout of every struct user space shares with the kernel or the eBPF programs, as the C compiler
 * sees it, one "<C# type>.<C# field> <offset>" or "<C# type> <size>" line each, for MemleakAbiTests to compare
 * with the C# mirrors. memleak.h's structs come from the header itself; the kernel's (union bpf_attr,
 * struct statx) from the running kernel's BTF (native/build/vmlinux.h), since distribution headers lag behind;
 * the system call numbers of this machine's architecture from its kernel headers.
 * With the argument "tables" it prints memleak.h's tables instead, one tab-separated row each:
 * "function <value> <ID> <name> <space> <semantics> <semantics value> <arguments> <return probe>" and
 * "stat <value> <ID> <loss> <loss value>".
 * Built by the test project (LeakTools.Tests.csproj).
 */
#include "vmlinux.h"
#include "memleak.h"
#include <asm/unistd.h>   /* only #defines: the system call numbers of the architecture compiled for */

extern int printf(const char *format, ...);
extern int strcmp(const char *a, const char *b);

#define offsetof(type, member) __builtin_offsetof(type, member)
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#define ROUND_UP_8(n) (((n) + 7) / 8 * 8)

#define SIZE(mirror, size) printf("%s %zu\n", mirror, (size_t)(size))
#define FIELD(mirror, type, member) printf("%s %zu\n", mirror, offsetof(type, member))
#define CONSTANT(mirror, value) printf("%s %llu\n", mirror, (unsigned long long)(value))

#define MEMLEAK_SPACE_USER "User"
#define MEMLEAK_SPACE_KERNEL "Kernel"
#define FUNCTION_ROW(id, name, space, semantics, arguments, return_probe) \
	printf("function\t%d\t%s\t%s\t%s\t%s\t%d\t%s\t%d\n", MEMLEAK_FN_##id, #id, #name, MEMLEAK_SPACE_##space, #semantics, \
	       MEMLEAK_SEMANTICS_##semantics, arguments, return_probe);
#define STAT_ROW(id, loss) printf("stat\t%d\t%s\t%s\t%d\n", MEMLEAK_STAT_##id, #id, #loss, MEMLEAK_LOSS_##loss);

static int print_tables(void)
{
	MEMLEAK_ALLOCATOR_FUNCTIONS(FUNCTION_ROW)
	MEMLEAK_STATS(STAT_ROW)
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "tables") == 0)
		return print_tables();

	SIZE("MemleakAbi.Config", sizeof(struct memleak_config));
	FIELD("MemleakAbi.Config.MinSize", struct memleak_config, min_size);
	FIELD("MemleakAbi.Config.MaxSize", struct memleak_config, max_size);
	FIELD("MemleakAbi.Config.TargetTgid", struct memleak_config, target_tgid);
	FIELD("MemleakAbi.Config.SampleRate", struct memleak_config, sample_rate);
	FIELD("MemleakAbi.Config.StreamEvents", struct memleak_config, stream_events);
	FIELD("MemleakAbi.Config.CaptureStacks", struct memleak_config, capture_stacks);
	FIELD("MemleakAbi.Config.TrackOutstanding", struct memleak_config, track_outstanding);
	FIELD("MemleakAbi.Config.FollowChildren", struct memleak_config, follow_children);
	FIELD("MemleakAbi.Config.IgnoredTgid", struct memleak_config, ignored_tgid);
	FIELD("MemleakAbi.Config.PageSize", struct memleak_config, page_size);

	SIZE("MemleakAbi.AllocInfo", sizeof(struct memleak_alloc_info));
	FIELD("MemleakAbi.AllocInfo.Size", struct memleak_alloc_info, size);
	FIELD("MemleakAbi.AllocInfo.TimestampNs", struct memleak_alloc_info, timestamp_ns);
	FIELD("MemleakAbi.AllocInfo.Caller", struct memleak_alloc_info, caller);
	FIELD("MemleakAbi.AllocInfo.StackKey", struct memleak_alloc_info, stack_key);
	FIELD("MemleakAbi.AllocInfo.Tid", struct memleak_alloc_info, tid);
	FIELD("MemleakAbi.AllocInfo.Reserved", struct memleak_alloc_info, reserved);

	SIZE("MemleakAbi.AllocKey", sizeof(struct memleak_alloc_key));
	FIELD("MemleakAbi.AllocKey.Address", struct memleak_alloc_key, address);
	FIELD("MemleakAbi.AllocKey.Tgid", struct memleak_alloc_key, tgid);
	FIELD("MemleakAbi.AllocKey.Image", struct memleak_alloc_key, image);

	SIZE("MemleakAbi.Process", sizeof(struct memleak_process));
	FIELD("MemleakAbi.Process.Image", struct memleak_process, image);
	FIELD("MemleakAbi.Process.Reserved", struct memleak_process, reserved);

	SIZE("MemleakAbi.ProcessEvent", sizeof(struct memleak_process_event));
	FIELD("MemleakAbi.ProcessEvent.TimestampNs", struct memleak_process_event, timestamp_ns);
	FIELD("MemleakAbi.ProcessEvent.Kind", struct memleak_process_event, kind);
	FIELD("MemleakAbi.ProcessEvent.Tgid", struct memleak_process_event, tgid);
	FIELD("MemleakAbi.ProcessEvent.ParentTgid", struct memleak_process_event, parent_tgid);
	FIELD("MemleakAbi.ProcessEvent.Image", struct memleak_process_event, image);
	FIELD("MemleakAbi.ProcessEvent.PreviousImage", struct memleak_process_event, previous_image);
	FIELD("MemleakAbi.ProcessEvent.Reserved", struct memleak_process_event, reserved);
	FIELD("MemleakAbi.ProcessEvent.Comm", struct memleak_process_event, comm);
	CONSTANT("MemleakAbi.ProcessEvent.CommBytes", sizeof(((struct memleak_process_event *)0)->comm));

	SIZE("MemleakAbi.Stack", sizeof(struct memleak_stack));
	FIELD("MemleakAbi.Stack.Depth", struct memleak_stack, depth);
	FIELD("MemleakAbi.Stack.End", struct memleak_stack, end);
	FIELD("MemleakAbi.Stack.Frames", struct memleak_stack, frames);

	SIZE("MemleakAbi.Event", sizeof(struct memleak_event));
	FIELD("MemleakAbi.Event.TimestampNs", struct memleak_event, timestamp_ns);
	FIELD("MemleakAbi.Event.Address", struct memleak_event, address);
	FIELD("MemleakAbi.Event.Size", struct memleak_event, size);
	FIELD("MemleakAbi.Event.Caller", struct memleak_event, caller);
	FIELD("MemleakAbi.Event.StackKey", struct memleak_event, stack_key);
	FIELD("MemleakAbi.Event.PreviousAddress", struct memleak_event, previous_address);
	FIELD("MemleakAbi.Event.Ids", struct memleak_event, ids);

	SIZE("MemleakAbi.UnwindMapping", sizeof(struct memleak_unwind_mapping));
	FIELD("MemleakAbi.UnwindMapping.Start", struct memleak_unwind_mapping, start);
	FIELD("MemleakAbi.UnwindMapping.End", struct memleak_unwind_mapping, end);
	FIELD("MemleakAbi.UnwindMapping.Bias", struct memleak_unwind_mapping, bias);
	FIELD("MemleakAbi.UnwindMapping.Module", struct memleak_unwind_mapping, module);
	FIELD("MemleakAbi.UnwindMapping.Reserved", struct memleak_unwind_mapping, reserved);
	SIZE("MemleakAbi.UnwindModule", sizeof(struct memleak_unwind_module));
	FIELD("MemleakAbi.UnwindModule.FirstPage", struct memleak_unwind_module, first_page);
	FIELD("MemleakAbi.UnwindModule.PageCount", struct memleak_unwind_module, page_count);
	FIELD("MemleakAbi.UnwindModule.PageBase", struct memleak_unwind_module, page_base);
	FIELD("MemleakAbi.UnwindModule.Reserved", struct memleak_unwind_module, reserved);
	SIZE("MemleakAbi.UnwindState", sizeof(struct memleak_unwind_state));
	FIELD("MemleakAbi.UnwindState.Active", struct memleak_unwind_state, active);
	FIELD("MemleakAbi.UnwindState.Count", struct memleak_unwind_state, count);
	CONSTANT("MemleakAbi.UnwindMaxMappings", MEMLEAK_UNWIND_MAX_MAPPINGS);
	CONSTANT("MemleakAbi.UnwindMaxModules", MEMLEAK_UNWIND_MAX_MODULES);
	CONSTANT("MemleakAbi.UnwindPageShift", MEMLEAK_UNWIND_PAGE_SHIFT);
	CONSTANT("MemleakAbi.StackEndDepthLimit", MEMLEAK_STACK_END_DEPTH_LIMIT);
	CONSTANT("MemleakAbi.StackEndBadFrame", MEMLEAK_STACK_END_BAD_FRAME);
	CONSTANT("MemleakAbi.UnwindKindUnknown", MEMLEAK_UNWIND_UNKNOWN);

	CONSTANT("MemleakAbi.MaxStackDepth", MEMLEAK_MAX_STACK_DEPTH);
	CONSTANT("MemleakAbi.FunctionCount", MEMLEAK_FN_COUNT);
	CONSTANT("MemleakAbi.AllocountSlots", ALLOCOUNT_SLOTS);
	CONSTANT("MemleakAbi.StatCount", MEMLEAK_STAT_COUNT);
	CONSTANT("MemleakAbi.KeyTagShift", MEMLEAK_KEY_TAG_SHIFT);
	CONSTANT("MemleakAbi.KeyTagPercpu", MEMLEAK_KEY_TAG_PERCPU);
	CONSTANT("MemleakAbi.Event.IdBits", MEMLEAK_EVENT_ID_BITS);

	/* struct bpf_prog_info up to verified_insns and the field after it. */
	SIZE("BpfProgramInfo", offsetofend(struct bpf_prog_info, attach_btf_obj_id));
	FIELD("BpfProgramInfo.Type", struct bpf_prog_info, type);
	FIELD("BpfProgramInfo.Id", struct bpf_prog_info, id);
	FIELD("BpfProgramInfo.JitedProgramLength", struct bpf_prog_info, jited_prog_len);
	FIELD("BpfProgramInfo.TranslatedProgramLength", struct bpf_prog_info, xlated_prog_len);
	FIELD("BpfProgramInfo.VerifiedInstructions", struct bpf_prog_info, verified_insns);
	FIELD("BpfProgramInfo.AttachBtfObjectId", struct bpf_prog_info, attach_btf_obj_id);

	/* The attr structs cover their union member up to its last field used, rounded to the union's 8-byte alignment. */
	SIZE("BpfLinkCreateAttr", ROUND_UP_8(offsetofend(union bpf_attr, link_create.uprobe_multi.pid)));
	FIELD("BpfLinkCreateAttr.ProgramFd", union bpf_attr, link_create.prog_fd);
	FIELD("BpfLinkCreateAttr.TargetFd", union bpf_attr, link_create.target_fd);
	FIELD("BpfLinkCreateAttr.AttachType", union bpf_attr, link_create.attach_type);
	FIELD("BpfLinkCreateAttr.Flags", union bpf_attr, link_create.flags);
	FIELD("BpfLinkCreateAttr.Path", union bpf_attr, link_create.uprobe_multi.path);
	FIELD("BpfLinkCreateAttr.Offsets", union bpf_attr, link_create.uprobe_multi.offsets);
	FIELD("BpfLinkCreateAttr.RefCounterOffsets", union bpf_attr, link_create.uprobe_multi.ref_ctr_offsets);
	FIELD("BpfLinkCreateAttr.Cookies", union bpf_attr, link_create.uprobe_multi.cookies);
	FIELD("BpfLinkCreateAttr.Count", union bpf_attr, link_create.uprobe_multi.cnt);
	FIELD("BpfLinkCreateAttr.UprobeMultiFlags", union bpf_attr, link_create.uprobe_multi.flags);
	FIELD("BpfLinkCreateAttr.Pid", union bpf_attr, link_create.uprobe_multi.pid);
	CONSTANT("BpfLinkCreateAttr.UprobeMultiReturn", BPF_F_UPROBE_MULTI_RETURN);

	SIZE("BpfTestRunAttr", ROUND_UP_8(offsetofend(union bpf_attr, test.batch_size)));
	FIELD("BpfTestRunAttr.ProgramFd", union bpf_attr, test.prog_fd);
	FIELD("BpfTestRunAttr.ReturnValue", union bpf_attr, test.retval);
	FIELD("BpfTestRunAttr.DataSizeIn", union bpf_attr, test.data_size_in);
	FIELD("BpfTestRunAttr.DataSizeOut", union bpf_attr, test.data_size_out);
	FIELD("BpfTestRunAttr.DataIn", union bpf_attr, test.data_in);
	FIELD("BpfTestRunAttr.DataOut", union bpf_attr, test.data_out);
	FIELD("BpfTestRunAttr.Repeat", union bpf_attr, test.repeat);
	FIELD("BpfTestRunAttr.Duration", union bpf_attr, test.duration);
	FIELD("BpfTestRunAttr.ContextSizeIn", union bpf_attr, test.ctx_size_in);
	FIELD("BpfTestRunAttr.ContextSizeOut", union bpf_attr, test.ctx_size_out);
	FIELD("BpfTestRunAttr.ContextIn", union bpf_attr, test.ctx_in);
	FIELD("BpfTestRunAttr.ContextOut", union bpf_attr, test.ctx_out);
	FIELD("BpfTestRunAttr.Flags", union bpf_attr, test.flags);
	FIELD("BpfTestRunAttr.Cpu", union bpf_attr, test.cpu);
	FIELD("BpfTestRunAttr.BatchSize", union bpf_attr, test.batch_size);

	SIZE("StatxBuffer", sizeof(struct statx));
	FIELD("StatxBuffer.Mask", struct statx, stx_mask);
	FIELD("StatxBuffer.BlockSize", struct statx, stx_blksize);
	FIELD("StatxBuffer.Attributes", struct statx, stx_attributes);
	FIELD("StatxBuffer.LinkCount", struct statx, stx_nlink);
	FIELD("StatxBuffer.Uid", struct statx, stx_uid);
	FIELD("StatxBuffer.Gid", struct statx, stx_gid);
	FIELD("StatxBuffer.Mode", struct statx, stx_mode);
	FIELD("StatxBuffer.Inode", struct statx, stx_ino);
	FIELD("StatxBuffer.Size", struct statx, stx_size);
	FIELD("StatxBuffer.Blocks", struct statx, stx_blocks);
	FIELD("StatxBuffer.AttributesMask", struct statx, stx_attributes_mask);
	FIELD("StatxBuffer.RdevMajor", struct statx, stx_rdev_major);
	FIELD("StatxBuffer.RdevMinor", struct statx, stx_rdev_minor);
	FIELD("StatxBuffer.DevMajor", struct statx, stx_dev_major);
	FIELD("StatxBuffer.DevMinor", struct statx, stx_dev_minor);

	CONSTANT("SyscallNumbers.Current.Bpf", __NR_bpf);
	CONSTANT("SyscallNumbers.Current.Statx", __NR_statx);
	CONSTANT("SyscallNumbers.Current.Openat2", __NR_openat2);
	CONSTANT("SyscallNumbers.Current.PerfEventOpen", __NR_perf_event_open);
	return 0;
}
