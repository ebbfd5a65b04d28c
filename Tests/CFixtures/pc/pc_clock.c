/*
 * Timers and clocks: "hpet" (hw/timer/hpet.c), "mc146818rtc" (hw/rtc/mc146818rtc.c),
 * "i8254" (hw/timer/i8254_common.c) and "pcspk" (hw/audio/pcspk.c).
 */
#include <string.h>

#include "pc_internal.h"

/* ---- hpet -------------------------------------------------------------------------------- */

_Static_assert(sizeof(PcHPETTimer) == 64, "HPETTimer is 64 bytes in QEMU 7.2");

#define PC_HPET_CFG_ENABLE 0x001
#define PC_HPET_ID_NUM_TIM_SHIFT 8
#define PC_HPET_ID_NUM_TIM_MASK 0x1f00

void pc_hpet_init(PcHPETState *s) {
    memset(s, 0, sizeof(*s));
    s->num_timers = PC_HPET_MIN_TIMERS;
    s->hpet_offset_saved = true;
    for (int i = 0; i < PC_HPET_MAX_TIMERS; i++) {
        s->timer[i].tn = (uint8_t)i;
        s->timer[i].state = s;
        s->timer[i].qemu_timer = &s->timer_storage[i];
        pc_timer_reset(&s->timer_storage[i], &s->timer[i]);
    }
}

static int pc_hpet_pre_load(void *opaque) {
    PcHPETState *s = opaque;
    /* version 1 streams have 3 timers and no count; later versions load it */
    s->num_timers = PC_HPET_MIN_TIMERS;
    return 0;
}

static bool pc_hpet_validate_num_timers(void *opaque, int version_id) {
    const PcHPETState *s = opaque;
    (void)version_id;
    return s->num_timers >= PC_HPET_MIN_TIMERS && s->num_timers <= PC_HPET_MAX_TIMERS;
}

static int pc_hpet_post_load(void *opaque, int version_id) {
    PcHPETState *s = opaque;
    (void)version_id;
    /* the timer count goes back into the capability register */
    s->capability &= ~(uint64_t)PC_HPET_ID_NUM_TIM_MASK;
    s->capability |= (uint64_t)(s->num_timers - 1) << PC_HPET_ID_NUM_TIM_SHIFT;
    return 0;
}

static bool pc_hpet_offset_needed(void *opaque) {
    const PcHPETState *s = opaque;
    return (s->config & PC_HPET_CFG_ENABLE) && s->hpet_offset_saved;
}

static bool pc_hpet_rtc_irq_level_needed(void *opaque) {
    const PcHPETState *s = opaque;
    return s->rtc_irq_level != 0;
}

static const VMStateDescription pc_vmstate_hpet_rtc_irq_level = {
    .name = "hpet/rtc_irq_level",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_hpet_rtc_irq_level_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(rtc_irq_level, PcHPETState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_hpet_offset = {
    .name = "hpet/offset",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_hpet_offset_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(hpet_offset, PcHPETState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_hpet_timer = {
    .name = "hpet_timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(tn, PcHPETTimer),
        VMSTATE_UINT64(config, PcHPETTimer),
        VMSTATE_UINT64(cmp, PcHPETTimer),
        VMSTATE_UINT64(fsb, PcHPETTimer),
        VMSTATE_UINT64(period, PcHPETTimer),
        VMSTATE_UINT8(wrap_flag, PcHPETTimer),
        VMSTATE_TIMER_PTR(qemu_timer, PcHPETTimer),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_hpet = {
    .name = "hpet",
    .version_id = 2,
    .minimum_version_id = 1,
    .pre_load = pc_hpet_pre_load,
    .post_load = pc_hpet_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(config, PcHPETState),
        VMSTATE_UINT64(isr, PcHPETState),
        VMSTATE_UINT64(hpet_counter, PcHPETState),
        VMSTATE_UINT8_V(num_timers, PcHPETState, 2),
        VMSTATE_VALIDATE("num_timers in range", pc_hpet_validate_num_timers),
        VMSTATE_STRUCT_VARRAY_UINT8(timer, PcHPETState, num_timers, 0, pc_vmstate_hpet_timer,
                                    PcHPETTimer),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_hpet_rtc_irq_level,
        &pc_vmstate_hpet_offset,
        NULL,
    },
};

/* ---- mc146818rtc ------------------------------------------------------------------------- */

void pc_rtc_init(PcRTCState *s) {
    pc_timer_reset(&s->periodic_timer_storage, s);
    pc_timer_reset(&s->update_timer_storage, s);
    s->periodic_timer = &s->periodic_timer_storage;
    s->update_timer = &s->update_timer_storage;
}

static bool pc_rtc_irq_reinject_on_ack_count_needed(void *opaque) {
    const PcRTCState *s = opaque;
    return s->irq_reinject_on_ack_count != 0;
}

static const VMStateDescription pc_vmstate_rtc_irq_reinject_on_ack_count = {
    .name = "mc146818rtc/irq_reinject_on_ack_count",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_rtc_irq_reinject_on_ack_count_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(irq_reinject_on_ack_count, PcRTCState),
        VMSTATE_END_OF_LIST(),
    },
};

/* QEMU's pre_save/post_load bring the CMOS clock and the timers up to date with the host
 * clock; they do not change the layout, so this fixture leaves them out. */
const VMStateDescription pc_vmstate_rtc = {
    .name = "mc146818rtc",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BUFFER(cmos_data, PcRTCState),
        VMSTATE_UINT8(cmos_index, PcRTCState),
        VMSTATE_UNUSED(7 * 4),
        VMSTATE_TIMER_PTR(periodic_timer, PcRTCState),
        VMSTATE_INT64(next_periodic_time, PcRTCState),
        VMSTATE_UNUSED(3 * 8),
        VMSTATE_UINT32_V(irq_coalesced, PcRTCState, 2),
        VMSTATE_UINT32_V(period, PcRTCState, 2),
        VMSTATE_UINT64_V(base_rtc, PcRTCState, 3),
        VMSTATE_UINT64_V(last_update, PcRTCState, 3),
        VMSTATE_INT64_V(offset, PcRTCState, 3),
        VMSTATE_TIMER_PTR_V(update_timer, PcRTCState, 3),
        VMSTATE_UINT64_V(next_alarm_time, PcRTCState, 3),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_rtc_irq_reinject_on_ack_count,
        NULL,
    },
};

/* ---- i8254 ------------------------------------------------------------------------------- */

_Static_assert(sizeof(PcPITChannelState) == 56, "PITChannelState is 56 bytes in QEMU 7.2");

static const VMStateDescription pc_vmstate_pit_channel = {
    .name = "pit channel",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(count, PcPITChannelState),
        VMSTATE_UINT16(latched_count, PcPITChannelState),
        VMSTATE_UINT8(count_latched, PcPITChannelState),
        VMSTATE_UINT8(status_latched, PcPITChannelState),
        VMSTATE_UINT8(status, PcPITChannelState),
        VMSTATE_UINT8(read_state, PcPITChannelState),
        VMSTATE_UINT8(write_state, PcPITChannelState),
        VMSTATE_UINT8(write_latch, PcPITChannelState),
        VMSTATE_UINT8(rw_mode, PcPITChannelState),
        VMSTATE_UINT8(mode, PcPITChannelState),
        VMSTATE_UINT8(bcd, PcPITChannelState),
        VMSTATE_UINT8(gate, PcPITChannelState),
        VMSTATE_INT64(count_load_time, PcPITChannelState),
        VMSTATE_INT64(next_transition_time, PcPITChannelState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_i8254 = {
    .name = "i8254",
    .version_id = 3,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32_V(channels[0].irq_disabled, PcPITState, 3),
        VMSTATE_STRUCT_ARRAY(channels, PcPITState, 3, 2, pc_vmstate_pit_channel,
                             PcPITChannelState),
        VMSTATE_INT64(channels[0].next_transition_time, PcPITState), /* was irq_timer */
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- pcspk ------------------------------------------------------------------------------- */

static bool pc_pcspk_migrate_needed(void *opaque) {
    const PcSpeakerState *s = opaque;
    return s->migrate;
}

const VMStateDescription pc_vmstate_pcspk = {
    .name = "pcspk",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_pcspk_migrate_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(data_on, PcSpeakerState),
        VMSTATE_UINT8(dummy_refresh_clock, PcSpeakerState),
        VMSTATE_END_OF_LIST(),
    },
};
