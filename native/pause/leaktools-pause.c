// SPDX-License-Identifier: MIT
/*
 * leaktools-pause PID DEADLINE_MS PARENT_PID
 *
 * Holds every thread of PID still for a moment, so that LeakTools can copy its memory for a reachability
 * scan (Find-MemoryLeak -Verdict), and never longer than DEADLINE_MS.
 *
 * Stopping: PTRACE_SEIZE + PTRACE_INTERRUPT on each thread, never PTRACE_ATTACH or SIGSTOP. A seized thread
 * that was interrupted resumes by itself when its tracer goes away, however it goes (the kernel detaches the
 * tracees of an exiting tracer), so a SIGKILLed tool cannot leave the target stopped. The thread list is
 * read again after every thread seen so far has stopped, until a reading shows no new thread: a stopped
 * thread cannot start another one, so the set converges.
 *
 * Protocol (text on stdout, one line each):
 *   error traced TRACERPID | error seize ERRNO | error gone | error usage
 *   thread TID SP W0 W1 ...   (hex; the thread's general registers as PTRACE_GETREGSET NT_PRSTATUS gives them,
 *                              on x86-64 including fs_base; SP repeated first so the reader needs no layout)
 *   stopped THREADS MICROSECONDS
 * then it waits for a line on stdin; when one comes (or stdin closes) it detaches every thread and prints
 *   resumed MICROSECONDS
 * If DEADLINE_MS passes first, while stopping or while stopped, it detaches and prints "deadline" instead:
 * whatever LeakTools copied may be torn, and its verdict is inconclusive.
 *
 * Signals: a thread that stops to have a signal delivered keeps it; the signal is passed back on detach.
 * LEAKTOOLS_VERDICT_SEIZE_DELAY_MS (for the tests) waits that long between seizing a thread and interrupting it,
 * so that a signal the thread takes meanwhile surely stops it for delivery.
 * Lifetime: PR_SET_PDEATHSIG(SIGKILL), then a check that PARENT_PID is still our parent.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
typedef struct user_regs_struct regs_t;
#define REGS_SP(r) ((r).rsp)
#elif defined(__aarch64__)
#include <asm/ptrace.h>
typedef struct user_pt_regs regs_t;
#define REGS_SP(r) ((r).sp)
#else
#error "leaktools-pause: unsupported architecture"
#endif

enum thread_state { SEIZED, STOPPED, GONE };

struct thread {
	pid_t tid;
	enum thread_state state;
	int signal; /* a signal the thread stopped to receive: handed back on detach */
};

static struct thread *threads;
static size_t thread_count, thread_capacity;
static pid_t target;
static useconds_t seize_delay_us;

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct thread *find_thread(pid_t tid)
{
	for (size_t i = 0; i < thread_count; i++)
		if (threads[i].tid == tid)
			return &threads[i];
	return NULL;
}

/* Every thread that is seized and stopped goes back to running, with the signal it stopped for. */
static void detach_all(void)
{
	for (size_t i = 0; i < thread_count; i++) {
		if (threads[i].state == STOPPED)
			ptrace(PTRACE_DETACH, threads[i].tid, NULL, (void *)(intptr_t)threads[i].signal);
		/* A seized thread that has not stopped yet cannot be detached explicitly; our exit detaches it. */
	}
}

static pid_t tracer_of(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	pid_t tracer = 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/* Seizes and interrupts the threads not seen before; returns how many were new, -1 if the process is gone. */
static int seize_new_threads(void)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", target);
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	int added = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)strtol(entry->d_name, NULL, 10);
		if (tid <= 0 || find_thread(tid))
			continue;
		if (thread_count == thread_capacity) {
			thread_capacity = thread_capacity ? thread_capacity * 2 : 64;
			threads = realloc(threads, thread_capacity * sizeof *threads);
			if (!threads)
				abort();
		}
		struct thread *t = &threads[thread_count];
		t->tid = tid;
		t->signal = 0;
		if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0) {
			if (errno == ESRCH)
				continue; /* it exited between the listing and now */
			int error = errno;
			closedir(dir);
			if (error == EPERM && tracer_of(target) > 0)
				printf("error traced %d\n", tracer_of(target));
			else
				printf("error seize %d\n", error);
			return -2;
		}
		t->state = SEIZED;
		thread_count++;
		added++;
		if (seize_delay_us)
			usleep(seize_delay_us);
		ptrace(PTRACE_INTERRUPT, tid, NULL, NULL);
	}
	closedir(dir);
	return added;
}

/* Takes the stops that have happened; returns how many seized threads are still running. */
static size_t reap_stops(void)
{
	int status;
	pid_t tid;
	while ((tid = waitpid(-1, &status, __WALL | WNOHANG)) > 0) {
		struct thread *t = find_thread(tid);
		if (!t)
			continue;
		if (WIFEXITED(status) || WIFSIGNALED(status)) {
			t->state = GONE;
			continue;
		}
		if (!WIFSTOPPED(status))
			continue;
		int event = status >> 16;
		/* Without an event it is a signal-delivery stop: the signal is the thread's, give it back. */
		if (event == 0)
			t->signal = WSTOPSIG(status);
		t->state = STOPPED;
	}
	size_t running = 0;
	for (size_t i = 0; i < thread_count; i++)
		running += threads[i].state == SEIZED;
	return running;
}

static void print_registers(const struct thread *t)
{
	regs_t regs;
	struct iovec io = { .iov_base = &regs, .iov_len = sizeof regs };
	memset(&regs, 0, sizeof regs);
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_PRSTATUS, &io) != 0)
		return;
	printf("thread %d %llx", t->tid, (unsigned long long)REGS_SP(regs));
	const uint64_t *words = (const uint64_t *)&regs;
	for (size_t i = 0; i < io.iov_len / sizeof *words; i++)
		printf(" %llx", (unsigned long long)words[i]);
#if defined(__aarch64__)
	uint64_t tls = 0;
	struct iovec tls_io = { .iov_base = &tls, .iov_len = sizeof tls };
	if (ptrace(PTRACE_GETREGSET, t->tid, (void *)NT_ARM_TLS, &tls_io) == 0)
		printf(" %llx", (unsigned long long)tls);
#endif
	printf("\n");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		printf("error usage\n");
		return 2;
	}
	target = (pid_t)strtol(argv[1], NULL, 10);
	uint64_t deadline_ms = strtoull(argv[2], NULL, 10);
	pid_t parent = (pid_t)strtol(argv[3], NULL, 10);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
		return 3;
	signal(SIGPIPE, SIG_IGN);
	const char *delay = getenv("LEAKTOOLS_VERDICT_SEIZE_DELAY_MS");
	if (delay)
		seize_delay_us = (useconds_t)strtoul(delay, NULL, 10) * 1000;

	uint64_t start = now_us();
	uint64_t deadline = start + deadline_ms * 1000;
	pid_t tracer = tracer_of(target);
	if (tracer < 0) {
		printf("error gone\n");
		return 1;
	}
	if (tracer > 0) {
		printf("error traced %d\n", tracer);
		return 1;
	}

	/* Stop every thread; read the list again once all known ones are stopped, until it holds no new one. */
	for (;;) {
		int added = seize_new_threads();
		if (added == -2) {
			fflush(stdout);
			return 1; /* our exit detaches what was seized */
		}
		if (added < 0) {
			printf("error gone\n");
			return 1;
		}
		if (added == 0 && reap_stops() == 0)
			break;
		while (reap_stops() != 0) {
			if (now_us() >= deadline) {
				detach_all();
				printf("deadline\n");
				return 0;
			}
			usleep(50);
		}
	}
	size_t stopped = 0;
	for (size_t i = 0; i < thread_count; i++) {
		if (threads[i].state != STOPPED)
			continue;
		print_registers(&threads[i]);
		stopped++;
	}
	if (stopped == 0) {
		printf("error gone\n");
		return 1;
	}
	printf("stopped %zu %llu\n", stopped, (unsigned long long)(now_us() - start));
	fflush(stdout);

	/* Held until LeakTools has copied what it needs, or until the deadline. */
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	for (;;) {
		uint64_t now = now_us();
		if (now >= deadline) {
			detach_all();
			printf("deadline\n");
			return 0;
		}
		int ready = poll(&in, 1, (int)((deadline - now + 999) / 1000));
		if (ready > 0 || (ready < 0 && errno != EINTR))
			break;
	}
	detach_all();
	printf("resumed %llu\n", (unsigned long long)(now_us() - start));
	return 0;
}
