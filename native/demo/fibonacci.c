/*
 * The demo app of `build.ps1 Demo`: the classic leaking Fibonacci program of the memleak tutorials.
 * Thread `child` calls `fibonacci` once per step; `fibonacci` callocs 1024 x 8 bytes for its result
 * and never frees them, so the process grows by 8 KiB per step until it is killed.
 *
 *   fibonacci [step_ms] [steps]      step_ms: 50 by default; steps: 0 (the default) runs until killed
 *
 * Built with plain -O2 and no frame pointers; the stack still reads fibonacci <- child <- start_thread <- clone3.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static useconds_t step_us = 50 * 1000;
static long steps;

__attribute__((noinline)) unsigned long long *fibonacci(unsigned long long *n0, unsigned long long *n1)
{
    unsigned long long *v = calloc(1024, sizeof(unsigned long long));
    if (v == NULL) {
        perror("calloc");
        exit(1);
    }
    *v = *n0 + *n1; /* wraps after the 93rd number; the leak, not the arithmetic, is the point */
    return v;
}

void *child(void *arg)
{
    unsigned long long n0 = 0, n1 = 1, *v = NULL;
    (void)arg;
    for (long n = 2; steps == 0 || n < steps + 2; n++) {
        v = fibonacci(&n0, &n1);
        n0 = n1;
        n1 = *v;
        printf("%ldth => %llu\n", n, *v);
        fflush(stdout);
        usleep(step_us);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1) step_us = (useconds_t)(atof(argv[1]) * 1000);
    if (argc > 2) steps = atol(argv[2]);
    pthread_t thread;
    if (pthread_create(&thread, NULL, child, NULL) != 0) {
        perror("pthread_create");
        return 1;
    }
    pthread_join(thread, NULL);
    printf("main thread exit\n");
    return 0;
}
