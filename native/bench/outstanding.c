/* outstanding: holds many live allocations from many distinct stacks, then waits.
 *
 *   outstanding [-n allocations] [-k stacks] [-z size] [-w timeout] [-f]
 *
 * -f fills every block (a written heap, for the -Verdict scan): its first word points at the block before it,
 * the rest is a non-pointer pattern.
 *
 * Stack number s (0 <= s < k) is spelled by the call chain: chain() recurses once per decimal digit of s
 * and calls itself from a different call site for each digit value, so every s gets its own chain of
 * return addresses. Build it with -O0 and frame pointers so no call is merged, inlined or turned into a
 * jump. With -w it prints "ready" and allocates only once malloc carries a uprobe; when done it prints
 * "allocated ..." (CLOCK_REALTIME timestamps) and sleeps until killed. */
#include "probewait.h"

#include <getopt.h>
#include <string.h>
#include <unistd.h>

static void **live;
static long live_count;
static long per_stack;
static size_t object_size;
static int fill;

static void allocate_here(void)
{
    for (long i = 0; i < per_stack; i++) {
        void **block = malloc(object_size);
        if (fill && block) {
            memset(block, 0x5a, object_size);
            if (object_size >= sizeof *block)
                block[0] = live_count > 0 ? live[live_count - 1] : NULL;
        }
        live[live_count++] = block;
    }
}

static void chain(int digits_left, long number)
{
    if (digits_left == 0) {
        allocate_here();
        return;
    }
    long rest = number / 10;
    switch (number % 10) {
    case 0: chain(digits_left - 1, rest); break;
    case 1: chain(digits_left - 1, rest); break;
    case 2: chain(digits_left - 1, rest); break;
    case 3: chain(digits_left - 1, rest); break;
    case 4: chain(digits_left - 1, rest); break;
    case 5: chain(digits_left - 1, rest); break;
    case 6: chain(digits_left - 1, rest); break;
    case 7: chain(digits_left - 1, rest); break;
    case 8: chain(digits_left - 1, rest); break;
    case 9: chain(digits_left - 1, rest); break;
    }
}

int main(int argc, char **argv)
{
    long allocations = 1000000, stacks = 10000;
    double wait_timeout = 0;
    object_size = 32;
    int opt;
    while ((opt = getopt(argc, argv, "n:k:z:w:f")) != -1) {
        switch (opt) {
        case 'n': allocations = atol(optarg); break;
        case 'k': stacks = atol(optarg); break;
        case 'z': object_size = (size_t)atol(optarg); break;
        case 'w': wait_timeout = atof(optarg); break;
        case 'f': fill = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n allocations] [-k stacks] [-z size] [-w timeout] [-f]\n", argv[0]);
            return 2;
        }
    }
    if (stacks < 1 || allocations < stacks) {
        fprintf(stderr, "need 1 <= stacks <= allocations\n");
        return 2;
    }
    int digits = 1;
    for (long s = stacks - 1; s >= 10; s /= 10)
        digits++;
    per_stack = allocations / stacks;
    live = calloc((size_t)(per_stack * stacks), sizeof *live);

    struct probe_watch watches[2];
    probe_watch_malloc_free(watches, wait_timeout);
    double probed = probewait_realtime();
    for (long s = 0; s < stacks; s++)
        chain(digits, s);
    double done = probewait_realtime();
    printf("allocated count=%ld stacks=%ld size=%zu probed_at=%.6f done_at=%.6f\n",
           live_count, stacks, object_size, probed, done);
    fflush(stdout);
    for (;;)
        pause();
}
