// SPDX-License-Identifier: MIT
/*
 * leaktools-launch COMMAND [ARG...]
 *
 * Stops itself before running COMMAND, so that LeakTools can attach its probes before the command's
 * first instruction; LeakTools then sends SIGCONT and this process execs COMMAND with its full argument
 * list (same pid: pid-filtered, inode-based uprobes stay in force across the exec).
 * PR_SET_PDEATHSIG(SIGCONT): if the tracer dies while we are stopped, we are resumed, not left hanging.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s COMMAND [ARG...]\n", argv[0]);
		return 127;
	}
	pid_t parent = getppid();
	if (prctl(PR_SET_PDEATHSIG, SIGCONT) != 0) {
		perror("leaktools-launch: prctl(PR_SET_PDEATHSIG)");
		return 127;
	}
	/* The parent may have died between fork and prctl: then nobody would resume us. */
	if (getppid() == parent)
		raise(SIGSTOP);
	execvp(argv[1], &argv[1]);
	fprintf(stderr, "leaktools-launch: cannot run '%s': %s\n", argv[1], strerror(errno));
	return errno == ENOENT ? 127 : 126;
}
