/* manymaps: a process with a great many memory mappings, for Get-ProcessMemoryMap against pmap -X.
 *
 *   manymaps [-n mappings]
 *
 * Reserves one region and gives its pages alternating protections, so the kernel cannot merge
 * neighbours and every page stays its own mapping; the writable pages are touched so they have RSS.
 * Prints "ready mappings=N" and sleeps until killed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long count = 25000;
    int opt;
    while ((opt = getopt(argc, argv, "n:")) != -1) {
        if (opt == 'n')
            count = atol(optarg);
        else {
            fprintf(stderr, "usage: %s [-n mappings]\n", argv[0]);
            return 2;
        }
    }
    long page = sysconf(_SC_PAGESIZE);
    char *base = mmap(NULL, (size_t)(count * page), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    for (long i = 0; i < count; i++) {
        char *p = base + i * page;
        p[0] = (char)i;
        if (i % 2 == 1 && mprotect(p, (size_t)page, PROT_READ) != 0) {
            perror("mprotect");
            return 1;
        }
    }
    printf("ready mappings=%ld\n", count);
    fflush(stdout);
    for (;;)
        pause();
}
