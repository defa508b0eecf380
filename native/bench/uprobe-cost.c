// SPDX-License-Identifier: MIT
/*
 * uprobe-cost: per-call cost of functions whose first instruction differs, to measure which instructions
 * the kernel emulates for uprobes (cheap) and which it single-steps (expensive). Each NAME_free stub starts
 * with one instruction kind; LeakTools probes it with -Library <this binary> -SymbolPrefix NAME_ -CountOnly
 * -ForceEntrySites. Also times glibc's malloc/free pair (the site-choice gain on real code).
 *
 *   uprobe-cost MARKER_FILE ITERATIONS   (waits for MARKER_FILE to exist, then measures, prints ns/call)
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define STUB(name, insn) \
	__asm__(".text\n.globl " #name "_free\n.type " #name "_free,@function\n" #name "_free:\n" insn "\n\tret\n.size " #name "_free, .-" #name "_free\n")

STUB(push, "\tpush %rbp\n\tpop %rbp");
STUB(nop1, "\tnop");
STUB(nopl, "\tnopl 0(%rax)");
STUB(nop5, "\t.byte 0x0f, 0x1f, 0x44, 0x00, 0x00");
STUB(endbr, "\tendbr64");
STUB(jmp, "\tjmp 1f\n1:");
STUB(test, "\ttest %rdi,%rdi");
STUB(mov, "\tmov %rdi,%rax");

void push_free(void *), nop1_free(void *), nopl_free(void *), nop5_free(void *), endbr_free(void *),
	jmp_free(void *), test_free(void *), mov_free(void *);

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void measure(const char *name, void (*fn)(void *), long n)
{
	double start = now_ns();
	for (long i = 0; i < n; i++)
		fn((void *)i);
	printf("%s %.1f\n", name, (now_ns() - start) / n);
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	long n = atol(argv[2]);
	while (access(argv[1], F_OK) != 0)
		usleep(1000);
	measure("push", push_free, n);
	measure("nop1", nop1_free, n);
	measure("nopl", nopl_free, n);
	measure("nop5", nop5_free, n);
	measure("endbr", endbr_free, n);
	measure("jmp", jmp_free, n);
	measure("test", test_free, n);
	measure("mov", mov_free, n);
	double start = now_ns();
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(64);
		free(p);
	}
	printf("malloc_free %.1f\n", (now_ns() - start) / n);
	fflush(stdout);
	return 0;
}
