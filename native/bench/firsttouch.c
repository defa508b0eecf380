// What a first touch of a fresh 4 KiB page costs on this machine: maps 256 MiB (no huge pages), writes one byte
// per page, and prints the mean time per page. Used by scripts/Bench.ps1 (section Verdict) to say how much of the
// tool's own time goes to faulting in memory it has never used (a VM with shadow paging pays ~30x bare metal).
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

int main(void)
{
    const size_t bytes = 256UL << 20, page = 4096;
    char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    madvise(memory, bytes, MADV_NOHUGEPAGE);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (size_t at = 0; at < bytes; at += page)
        memory[at] = 1;
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ns = (end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec);
    printf("pages=%zu ns_per_page=%.0f\n", bytes / page, ns / (double)(bytes / page));
    return 0;
}
