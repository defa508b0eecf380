/* allocbench: the cost of one malloc(64)/free pair, timed inside the program.
 *
 *   allocbench [-t threads] [-n pairs | -s seconds] [-w timeout] [-d depth] [-l]
 *
 * -d makes each pair from the bottom of a call chain that many frames deep (built without frame pointers: the
 * unwinder's cost per frame); -l leaves one block in 1024 allocated, so Find-MemoryLeak has stacks to report.
 * -n runs exactly N pairs per thread; -s runs whole batches per thread until the time is up
 * (the driver uses it so a case costing 15 ns and one costing 25 us both take about as long).
 * -w prints "ready" and starts only once malloc and free carry a uprobe (see probewait.h).
 * The last line is machine-readable: key=value pairs, ns_per_pair being the mean over threads
 * of each thread's elapsed time divided by its pairs, cpu_ns_per_pair the same with the thread's CPU
 * time (user + kernel, so probe handling counts, time spent waiting for a CPU does not). */
#include "probewait.h"

#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#define BATCH 1024

struct worker {
    pthread_t thread;
    long pairs_wanted;     /* 0: run by time */
    double seconds_wanted;
    long pairs_done;
    double elapsed;
    double cpu;
};

static double thread_cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static pthread_barrier_t start_line;

static int chain_depth;   /* -d */
static int leak_some;     /* -l */
static __thread unsigned pair_count;

/* One pair; the empty asm keeps the compiler from deleting the malloc/free as dead code. */
static inline void one_pair(void)
{
    void *p = malloc(64);
    __asm__ volatile("" : : "r"(p) : "memory");
    if (!leak_some || (++pair_count & 1023) != 0)
        free(p);
}

/* One pair, depth frames down; the asm after the call keeps it a call, not a jump. */
__attribute__((noinline)) static void pair_at_depth(int depth)
{
    if (depth <= 1)
        one_pair();
    else
        pair_at_depth(depth - 1);
    __asm__ volatile("" ::: "memory");
}

static inline void next_pair(void)
{
    if (chain_depth > 0)
        pair_at_depth(chain_depth);
    else
        one_pair();
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 1000; i++) /* warm the thread's arena and tcache */
        one_pair();
    pthread_barrier_wait(&start_line);
    double start = probewait_now();
    double cpu_start = thread_cpu_now();
    long done = 0;
    if (w->pairs_wanted > 0) {
        for (long i = 0; i < w->pairs_wanted; i++)
            next_pair();
        done = w->pairs_wanted;
    } else {
        double deadline = start + w->seconds_wanted;
        do {
            for (int i = 0; i < BATCH; i++)
                next_pair();
            done += BATCH;
        } while (probewait_now() < deadline);
    }
    w->elapsed = probewait_now() - start;
    w->cpu = thread_cpu_now() - cpu_start;
    w->pairs_done = done;
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 1;
    long pairs = 0;
    double seconds = 1.5;
    double wait_timeout = 0;
    int opt;
    while ((opt = getopt(argc, argv, "t:n:s:w:d:l")) != -1) {
        switch (opt) {
        case 't': threads = atoi(optarg); break;
        case 'n': pairs = atol(optarg); break;
        case 's': seconds = atof(optarg); break;
        case 'w': wait_timeout = atof(optarg); break;
        case 'd': chain_depth = atoi(optarg); break;
        case 'l': leak_some = 1; break;
        default:
            fprintf(stderr, "usage: %s [-t threads] [-n pairs | -s seconds] [-w timeout] [-d depth] [-l]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "threads must be 1..64\n");
        return 2;
    }

    struct probe_watch watches[2];
    int probed_at_start = probe_watch_malloc_free(watches, wait_timeout);

    struct worker workers[64] = { 0 };
    pthread_barrier_init(&start_line, NULL, threads);
    for (int i = 0; i < threads; i++) {
        workers[i].pairs_wanted = pairs;
        workers[i].seconds_wanted = seconds;
        pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]);
    }
    long total = 0;
    double ns_sum = 0, cpu_ns_sum = 0, wall = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(workers[i].thread, NULL);
        total += workers[i].pairs_done;
        ns_sum += workers[i].elapsed * 1e9 / workers[i].pairs_done;
        cpu_ns_sum += workers[i].cpu * 1e9 / workers[i].pairs_done;
        if (workers[i].elapsed > wall)
            wall = workers[i].elapsed;
    }
    /* A tracer that detached mid-run would make the number meaningless: say whether it was still there. */
    int probed_at_end = probe_watch_changed(&watches[0]) && probe_watch_changed(&watches[1]);
    printf("threads=%d pairs=%ld seconds=%.6f ns_per_pair=%.3f cpu_ns_per_pair=%.3f probed_at_start=%d probed_at_end=%d\n",
           threads, total, wall, ns_sum / threads, cpu_ns_sum / threads, probed_at_start, probed_at_end);
    return 0;
}
