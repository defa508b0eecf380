/*
 * Shared-object fixture for TailCallResolverTests, loaded into the test process and never run: each tc_call_*
 * function makes one call, whose return address the tests hand to the resolver.
 */
#include <stdlib.h>

#define SITE __attribute__((noinline, noipa))

void *volatile tc_sink;

/* Tail calls: each ends in "jmp". */
SITE void *tc_tail_calloc(size_t n) { return calloc(n, 1); }
SITE void *tc_tail_calloc_got(size_t n) { return calloc(n, 1); }
static SITE void *tc_local_tail(size_t n) { return calloc(n, 1); }
SITE void *tc_inner(size_t n)
{
    char *p = malloc(n);
    if (p) p[0] = 1;
    return p;
}
SITE void *tc_outer(size_t n) { return tc_inner(n); }

void *tc_tail_calloc_got(size_t n) __attribute__((noplt));

SITE void tc_call_local(void) { tc_sink = tc_local_tail(1); }           /* call rel32 */
SITE void tc_call_plt(void) { tc_sink = tc_tail_calloc(2); }            /* call through a PLT stub */
SITE void tc_call_got(void) { tc_sink = tc_tail_calloc_got(3); }        /* call *slot(%rip), no PLT */
SITE void tc_call_outer(void) { tc_sink = tc_outer(4); }                /* tc_outer tail-calls tc_inner */
SITE void tc_call_inner(void) { tc_sink = tc_inner(5); }                /* no tail call */
SITE void tc_call_pointer(void *(*f)(size_t)) { tc_sink = f(6); }       /* indirect: unknown */
SITE void tc_call_malloc(void) { tc_sink = malloc(7); }                 /* the allocator itself */
