/*
 * "timer" (the virtual clock offsets, QEMU's softmmu/cpu-timers.c), "globalstate" (the run
 * state, migration/global_state.c) and "cpu_common" (the generic CPU state, cpu.c).
 */
#include <errno.h>
#include <string.h>

#include "pc_devices.h"

/* ---- timer ------------------------------------------------------------------------------- */

static bool pc_icount_needed(void *opaque) {
    const PcTimersState *s = opaque;
    return s->icount_mode != 0;
}

static bool pc_icount_warp_timer_needed(void *opaque) {
    const PcTimersState *s = opaque;
    return s->icount_warp_timer != NULL;
}

static bool pc_icount_adjust_timers_needed(void *opaque) {
    const PcTimersState *s = opaque;
    return s->icount_rt_timer != NULL;
}

static bool pc_icount_shift_needed(void *opaque) {
    const PcTimersState *s = opaque;
    return s->icount_mode == 2;
}

static const VMStateDescription pc_vmstate_icount_warp_timer = {
    .name = "timer/icount/warp_timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_icount_warp_timer_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT64(vm_clock_warp_start, PcTimersState),
        VMSTATE_TIMER_PTR(icount_warp_timer, PcTimersState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_icount_adjust_timers = {
    .name = "timer/icount/timers",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_icount_adjust_timers_needed,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER_PTR(icount_rt_timer, PcTimersState),
        VMSTATE_TIMER_PTR(icount_vm_timer, PcTimersState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_icount_shift = {
    .name = "timer/icount/shift",
    .version_id = 2,
    .minimum_version_id = 2,
    .needed = pc_icount_shift_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT16(icount_time_shift, PcTimersState),
        VMSTATE_INT64(last_delta, PcTimersState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_icount = {
    .name = "timer/icount",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_icount_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT64(qemu_icount_bias, PcTimersState),
        VMSTATE_INT64(qemu_icount, PcTimersState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_icount_warp_timer,
        &pc_vmstate_icount_adjust_timers,
        &pc_vmstate_icount_shift,
        NULL,
    },
};

const VMStateDescription pc_vmstate_timers = {
    .name = "timer",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT64(cpu_ticks_offset, PcTimersState),
        VMSTATE_UNUSED(8),
        VMSTATE_INT64_V(cpu_clock_offset, PcTimersState, 2),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_icount,
        NULL,
    },
};

/* ---- globalstate ------------------------------------------------------------------------- */

void pc_globalstate_set_runstate(PcGlobalState *s, const char *runstate) {
    size_t n = strnlen(runstate, sizeof(s->runstate) - 1);
    memset(s->runstate, 0, sizeof(s->runstate));
    memcpy(s->runstate, runstate, n);
    s->size = (uint32_t)n + 1;
}

static bool pc_globalstate_needed(void *opaque) {
    const PcGlobalState *s = opaque;
    const char *runstate = (const char *)s->runstate;

    if (s->store_global_state) {
        return true;
    }
    /* "running" and "paused" are what a destination assumes without the section */
    return strncmp(runstate, "running", sizeof(s->runstate)) != 0 &&
           strncmp(runstate, "paused", sizeof(s->runstate)) != 0;
}

static int pc_globalstate_pre_save(void *opaque) {
    PcGlobalState *s = opaque;
    s->size = (uint32_t)strnlen((const char *)s->runstate, sizeof(s->runstate)) + 1;
    return s->size <= sizeof(s->runstate) ? 0 : -EINVAL;
}

static int pc_globalstate_post_load(void *opaque, int version_id) {
    PcGlobalState *s = opaque;
    (void)version_id;
    s->received = true;
    /* a hostile stream may fill all 100 bytes: keep the name a C string */
    s->runstate[sizeof(s->runstate) - 1] = 0;
    /* QEMU then parses the name as a RunState and fails with -EINVAL when it is unknown */
    static const char *const run_states[] = {
        "debug",      "inmigrate",   "internal-error", "io-error",      "paused",
        "postmigrate", "prelaunch",  "finish-migrate", "restore-vm",    "running",
        "save-vm",    "shutdown",    "suspended",      "watchdog",      "guest-panicked",
        "colo",
    };
    for (size_t i = 0; i < sizeof(run_states) / sizeof(run_states[0]); i++) {
        if (strcmp((const char *)s->runstate, run_states[i]) == 0) {
            s->state = (int)i;
            return 0;
        }
    }
    return -EINVAL;
}

const VMStateDescription pc_vmstate_globalstate = {
    .name = "globalstate",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pc_globalstate_post_load,
    .pre_save = pc_globalstate_pre_save,
    .needed = pc_globalstate_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(size, PcGlobalState),
        VMSTATE_BUFFER(runstate, PcGlobalState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- cpu_common -------------------------------------------------------------------------- */

void pc_cpu_common_init(PcCPUCommonState *s) {
    memset(s, 0, sizeof(*s));
    s->exception_index = -1;
    s->tcg_enabled = true;
}

static int pc_cpu_common_pre_load(void *opaque) {
    PcCPUCommonState *s = opaque;
    s->exception_index = -1;
    return 0;
}

static int pc_cpu_common_post_load(void *opaque, int version_id) {
    PcCPUCommonState *s = opaque;
    (void)version_id;
    /* 0x01 was CPU_INTERRUPT_EXIT in old streams */
    s->interrupt_request &= ~0x01u;
    return 0;
}

static bool pc_cpu_common_exception_index_needed(void *opaque) {
    const PcCPUCommonState *s = opaque;
    return s->tcg_enabled && s->exception_index != -1;
}

static bool pc_cpu_common_crash_occurred_needed(void *opaque) {
    const PcCPUCommonState *s = opaque;
    return s->crash_occurred;
}

static const VMStateDescription pc_vmstate_cpu_common_exception_index = {
    .name = "cpu_common/exception_index",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_cpu_common_exception_index_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(exception_index, PcCPUCommonState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_cpu_common_crash_occurred = {
    .name = "cpu_common/crash_occurred",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_cpu_common_crash_occurred_needed,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(crash_occurred, PcCPUCommonState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_cpu_common = {
    .name = "cpu_common",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = pc_cpu_common_pre_load,
    .post_load = pc_cpu_common_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(halted, PcCPUCommonState),
        VMSTATE_UINT32(interrupt_request, PcCPUCommonState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_cpu_common_exception_index,
        &pc_vmstate_cpu_common_crash_occurred,
        NULL,
    },
};
