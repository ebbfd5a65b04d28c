/*
 * The transactional load running on the calling thread, for vmstate_free_after_load: a hook
 * (pre_load, post_load) that frees memory its device struct points to runs on the thread of the
 * load that called it. Sources/VMState/Engine/LoadGuard.swift sets and reads it.
 */
#include "vmstate-internal.h"

static __thread void *current_load;

void *vmstate_exchange_current_load(void *load)
{
    void *previous = current_load;
    current_load = load;
    return previous;
}

void *vmstate_current_load(void)
{
    return current_load;
}
