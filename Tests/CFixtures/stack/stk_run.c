#include "stack_fixtures.h"

#include <stdint.h>
#include <stdlib.h>
#include <ucontext.h>

static ucontext_t stk_caller, stk_callee;
static void (*stk_fn)(void *);
static void *stk_arg;

static void stk_trampoline(void) { stk_fn(stk_arg); }

_Bool stk_run_on_own_stack(size_t size, void (*fn)(void *), void *arg)
{
    void *stack = malloc(size);
    if (stack == NULL || getcontext(&stk_callee) != 0) {
        free(stack);
        return 0;
    }
    stk_fn = fn;
    stk_arg = arg;
    stk_callee.uc_stack.ss_sp = stack;
    stk_callee.uc_stack.ss_size = size;
    stk_callee.uc_link = &stk_caller;
    makecontext(&stk_callee, stk_trampoline, 0);
    _Bool ok = swapcontext(&stk_caller, &stk_callee) == 0;
    free(stack);
    return ok;
}
