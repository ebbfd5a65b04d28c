/*
 * Running test code on a stack of its own, as a coroutine does (QEMU's incoming migration loads
 * the devices in one): the engine's stack check must leave such stacks alone.
 */
#ifndef STACK_FIXTURES_H
#define STACK_FIXTURES_H

#include <stddef.h>

/* Runs fn(arg) on a stack of `size` bytes allocated here (ucontext), returning once fn returns;
 * false when the context could not be made. */
_Bool stk_run_on_own_stack(size_t size, void (*fn)(void *), void *arg);

#endif
