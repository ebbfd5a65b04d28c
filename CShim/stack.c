/*
 * Where the calling thread's stack ends: planning, saves and loads recurse once per nested
 * description (a few KiB each), and refuse to go on near the end of the stack instead of
 * overflowing it (a pointer cycle in a device's state, a tree deeper than the stack can hold).
 * Sources/VMState/Engine/StackLimit.swift compares frame addresses with it.
 */
#define _GNU_SOURCE
#include "vmstate-internal.h"

#include <pthread.h>
#include <stdint.h>

/* The most of a thread's stack counted: 256 MiB. */
#define STACK_COUNTED ((size_t)256 << 20)

/* The lowest address of this thread's stack, found once per thread; 1 when it is unknown. */
static __thread uintptr_t stack_low;

uintptr_t vmstate_stack_floor(size_t reserve)
{
    if (stack_low == 0) {
        pthread_attr_t attr;
        void *addr = NULL;
        size_t size = 0;
        stack_low = 1;
        /* glibc: a thread's own stack; for the main thread, its mapping and RLIMIT_STACK (with
         * `ulimit -s unlimited`, all the room below the mapping: terabytes, so at most
         * STACK_COUNTED of it is counted, lest a recursion take all memory first). */
        if (pthread_getattr_np(pthread_self(), &attr) == 0) {
            if (pthread_attr_getstack(&attr, &addr, &size) == 0 && addr != NULL) {
                stack_low = (uintptr_t)addr;
                if (size > STACK_COUNTED) {
                    stack_low += size - STACK_COUNTED;
                }
            }
            pthread_attr_destroy(&attr);
        }
    }
    if (stack_low == 1 || stack_low > UINTPTR_MAX - reserve) {
        return 0;
    }
    return stack_low + reserve;
}
