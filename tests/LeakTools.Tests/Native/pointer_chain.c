// A heap of linked blocks for the pointer scanner's tests: block i holds a pointer to the start of block i - 1 and
// one 16 bytes into it; only the last block is held, by a global. Prints each block's address in the order they
// were made, then "ready", and sleeps until killed.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void **last;

int main(int argc, char **argv)
{
    int count = argc > 1 ? atoi(argv[1]) : 1000;
    void **previous = NULL;
    for (int i = 0; i < count; i++) {
        void **block = calloc(1, 256);
        block[0] = previous;
        block[1] = previous ? (char *)previous + 16 : NULL;
        printf("%p\n", (void *)block);
        previous = block;
    }
    last = previous;
    printf("ready\n");
    fflush(stdout);
    for (;;) pause();
}
