/* Lets a benchmark program notice that a uprobe has been attached to it.
 *
 * The kernel installs a uprobe by writing an int3 into the probed process's copy of the code page,
 * so the first bytes of a probed libc function change in this process's memory. A program snapshots
 * them at start, tells its driver it is ready, and starts timing only once they differ: no guessing
 * with sleeps, and the probes are certainly live before the first timed call. */
#ifndef LEAKTOOLS_BENCH_PROBEWAIT_H
#define LEAKTOOLS_BENCH_PROBEWAIT_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The probe sites our tracer picks lie on the entry path, well inside the first bytes. */
#define PROBEWAIT_BYTES 48

struct probe_watch {
    const char *name;
    const unsigned char *code;
    unsigned char original[PROBEWAIT_BYTES];
};

static inline void probe_watch_init(struct probe_watch *w, const char *name)
{
    /* dlsym finds libc's definition, never a PLT stub of this executable. */
    w->name = name;
    w->code = (const unsigned char *)dlsym(RTLD_DEFAULT, name);
    if (w->code == NULL) {
        fprintf(stderr, "cannot find %s\n", name);
        exit(2);
    }
    memcpy(w->original, w->code, PROBEWAIT_BYTES);
}

static inline int probe_watch_changed(const struct probe_watch *w)
{
    return memcmp(w->original, w->code, PROBEWAIT_BYTES) != 0;
}

static inline double probewait_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline double probewait_realtime(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until every watched function is probed; returns 0 on timeout. */
static inline int probe_watch_wait(struct probe_watch *watches, int count, double timeout_seconds)
{
    double deadline = probewait_now() + timeout_seconds;
    for (;;) {
        int all = 1;
        for (int i = 0; i < count; i++)
            all &= probe_watch_changed(&watches[i]);
        if (all)
            return 1;
        if (probewait_now() > deadline)
            return 0;
        struct timespec pause = { 0, 1000000 }; /* 1 ms */
        nanosleep(&pause, NULL);
    }
}

/* The other allocator functions a tracer probes; they are attached one after another, maybe after malloc/free. */
static const char *const probewait_other_functions[] = {
    "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "mmap", "munmap", "mremap",
};

#define PROBEWAIT_OTHERS (sizeof probewait_other_functions / sizeof probewait_other_functions[0])

/* Snapshots malloc and free into watches[0..1]. With a timeout > 0, prints "ready pid=N" for the driver and
 * waits until both are probed, exiting with status 3 if they never are; then waits until no further allocator
 * function has been probed for a quarter second, so the tracer has finished attaching before timing starts
 * (and the program cannot end while the tracer is still attaching). Returns whether it waited. */
static inline int probe_watch_malloc_free(struct probe_watch watches[2], double timeout_seconds)
{
    probe_watch_init(&watches[0], "malloc");
    probe_watch_init(&watches[1], "free");
    if (timeout_seconds <= 0)
        return 0;
    struct probe_watch others[PROBEWAIT_OTHERS];
    int other_count = 0;
    for (size_t i = 0; i < PROBEWAIT_OTHERS; i++) {
        if (dlsym(RTLD_DEFAULT, probewait_other_functions[i]) != NULL)
            probe_watch_init(&others[other_count++], probewait_other_functions[i]);
    }
    printf("ready pid=%d\n", (int)getpid());
    fflush(stdout);
    if (!probe_watch_wait(watches, 2, timeout_seconds)) {
        printf("error=probe-timeout\n");
        exit(3);
    }
    int probed = -1;
    double settled_at = probewait_now() + 0.25;
    while (probewait_now() < settled_at) {
        int now_probed = 0;
        for (int i = 0; i < other_count; i++)
            now_probed += probe_watch_changed(&others[i]);
        if (now_probed != probed) {
            probed = now_probed;
            settled_at = probewait_now() + 0.25;
        }
        struct timespec pause = { 0, 1000000 };
        nanosleep(&pause, NULL);
    }
    return 1;
}

#endif
