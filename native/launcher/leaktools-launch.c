// SPDX-License-Identifier: MIT
/*
 * leaktools-launch [--leave-running] [--] COMMAND [ARG...]
 *
 * Stops itself before running COMMAND, so that LeakTools can attach its probes before the command's
 * first instruction; LeakTools then sends SIGCONT and this process execs COMMAND with its full argument
 * list (same pid: pid-filtered, inode-based uprobes stay in force across the exec).
 *
 * Parent death: while stopped, PR_SET_PDEATHSIG(SIGCONT) resumes us if the tracer dies, so we are never
 * left hanging. Before the exec the death signal becomes SIGKILL (it survives the exec), so a command that
 * was started only to be traced dies with its tracer, even when the tracer is SIGKILLed; with
 * --leave-running it stays SIGCONT and the command outlives the trace (LeakTools stops the command once, at its
 * entry point, while it publishes unwind tables: that stop ends if LeakTools dies). The kernel sends the death
 * signal when the *thread* that forked us exits, so LeakTools starts us from the thread that runs the trace.
 *
 * Exec failure: a close-on-exec pipe whose write end is our only close-on-exec descriptor (everything we
 * inherited survived an exec, so it is not close-on-exec). LeakTools opens it through /proc/PID/fd while we
 * are stopped. A successful exec closes it (LeakTools reads end-of-file); a failed one writes errno there.
 * Unlike an exit code, which the command itself could also return, only this program ever writes the pipe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int first = 1;
	int leave_running = 0;
	if (first < argc && strcmp(argv[first], "--leave-running") == 0) {
		leave_running = 1;
		first++;
	}
	if (first < argc && strcmp(argv[first], "--") == 0)
		first++;
	if (first >= argc) {
		fprintf(stderr, "usage: %s [--leave-running] [--] COMMAND [ARG...]\n", argv[0]);
		return 127;
	}

	pid_t parent = getppid();
	int status[2];
	if (pipe2(status, O_CLOEXEC) != 0) {
		perror("leaktools-launch: pipe2");
		return 127;
	}
	/* LeakTools opens its own read end through /proc/PID/fd/<write end>. */
	close(status[0]);
	if (prctl(PR_SET_PDEATHSIG, SIGCONT) != 0) {
		perror("leaktools-launch: prctl(PR_SET_PDEATHSIG)");
		return 127;
	}
	/* The parent may have died between fork and prctl: then nobody would resume us. */
	if (getppid() == parent)
		raise(SIGSTOP);

	/* A command left running gets SIGCONT instead: LeakTools may stop it at its entry point (until its unwind
	 * tables are in), and must not leave it stopped if it dies then. */
	if (prctl(PR_SET_PDEATHSIG, leave_running ? SIGCONT : SIGKILL) != 0) {
		perror("leaktools-launch: prctl(PR_SET_PDEATHSIG)");
		return 127;
	}
	/* The tracer died before the command ran (the SIGKILL above would come too late): it was only to be traced. */
	if (!leave_running && getppid() != parent)
		return 127;

	execvp(argv[first], &argv[first]);

	int error = errno;
	/* Nobody may read the pipe (LeakTools died meanwhile): not a reason to die of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (write(status[1], &error, sizeof error) != (ssize_t)sizeof error)
		fprintf(stderr, "leaktools-launch: cannot run '%s': %s\n", argv[first], strerror(error));
	return error == ENOENT ? 127 : 126;
}
