/* Shared-object fixture: an exported and a file-local function. */
#include <stdlib.h>

static int local_worker(int n) { return n * 7; }

__attribute__((noinline)) void *sample_library_alloc(int n)
{
    return malloc((size_t)local_worker(n));
}
