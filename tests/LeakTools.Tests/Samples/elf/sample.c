/* Symbolization fixture: known functions at known call depths.
 * "sample wait" prints the run-time addresses of fibonacci and child, then blocks until stdin closes,
 * so a test can symbolize a live process (PIE bias, deleted file, other mount namespace). */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static int helper_static(int x) { return x * 3 + 1; }

__attribute__((noinline)) long fibonacci(int n)
{
    long *cells = calloc(1024, sizeof(long));
    cells[0] = 0;
    cells[1] = 1;
    for (int i = 2; i <= n && i < 1024; i++) cells[i] = cells[i - 1] + cells[i - 2];
    return cells[n < 1024 ? n : 1023] + helper_static(n);
}

__attribute__((noinline)) long child(int steps)
{
    long total = 0;
    for (int i = 0; i < steps; i++) total += fibonacci(i % 50);
    return total;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "wait") == 0)
    {
        printf("%p %p\n", (void *)fibonacci, (void *)child);
        fflush(stdout);
        while (getchar() != EOF) { }
        return 0;
    }
    printf("%ld\n", child(argc + 2));
    return 0;
}
