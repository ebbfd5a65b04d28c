/* fx-rtc: see fx_rtc.h. */
#include "fx_rtc.h"

#include <string.h>

bool fx_rtc_index_valid(void *opaque, int version_id) {
    (void)version_id;
    const FxRTCState *s = opaque;
    return s->cmos_index < FX_RTC_CMOS_SIZE;
}

bool fx_rtc_irq_reinject_needed(void *opaque) {
    const FxRTCState *s = opaque;
    return s->irq_reinject_on_ack_count != 0;
}

bool fx_rtc_coalesced_needed(void *opaque) {
    const FxRTCState *s = opaque;
    return s->slew_lost_ticks && s->irq_coalesced != 0;
}

static int fx_rtc_pre_save(void *opaque) {
    FxRTCState *s = opaque;
    s->pre_save_calls++;
    /* register A bit 7: update in progress */
    s->cmos_data[0x0a] = (uint8_t)((s->cmos_data[0x0a] & 0x7f) | (s->update_in_progress ? 0x80 : 0));
    return 0;
}

static int fx_rtc_post_load(void *opaque, int version_id) {
    FxRTCState *s = opaque;
    s->post_load_calls++;
    if (version_id < 2) {
        s->century = 0x20;
    }
    return 0;
}

const VMStateField fx_rtc_irq_reinject_fields[] = {
    VMSTATE_UINT32(irq_reinject_on_ack_count, FxRTCState),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_rtc_irq_reinject_vmsd = {
    .name = "fx-rtc/irq_reinject_on_ack_count",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fx_rtc_irq_reinject_needed,
    .fields = fx_rtc_irq_reinject_fields,
};

const VMStateField fx_rtc_coalesced_fields[] = {
    VMSTATE_SINGLE(irq_coalesced, FxRTCState, 0, vmstate_info_uint32, uint32_t),
    VMSTATE_UINT32_V(period, FxRTCState, 2),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_rtc_coalesced_vmsd = {
    .name = "fx-rtc/coalesced",
    .version_id = 2,
    .minimum_version_id = 1,
    .needed = fx_rtc_coalesced_needed,
    .fields = fx_rtc_coalesced_fields,
};

static const VMStateDescription *fx_rtc_subsections[] = {
    &fx_rtc_irq_reinject_vmsd,
    &fx_rtc_coalesced_vmsd,
    NULL,
};

const VMStateField fx_rtc_fields[] = {
    VMSTATE_BUFFER(cmos_data, FxRTCState),
    VMSTATE_UINT8(cmos_index, FxRTCState),
    VMSTATE_UINT8_V(century, FxRTCState, 2),
    VMSTATE_BOOL(alarm_pending, FxRTCState),
    VMSTATE_BOOL_V(update_in_progress, FxRTCState, 3),
    VMSTATE_INT8(tz_quarter_hours, FxRTCState),
    VMSTATE_INT8_V(dst_adjust, FxRTCState, 2),
    VMSTATE_INT16(drift_ppm, FxRTCState),
    VMSTATE_INT16_V(aging_offset, FxRTCState, 3),
    VMSTATE_UINT16(divider, FxRTCState),
    VMSTATE_UINT16_V(year_base, FxRTCState, 2),
    VMSTATE_INT32(irq_line, FxRTCState),
    VMSTATE_INT32_V(period_code, FxRTCState, 2),
    VMSTATE_INT64(base_rtc, FxRTCState),
    VMSTATE_INT64_V(last_update, FxRTCState, 3),
    VMSTATE_UINT64(next_periodic_time, FxRTCState),
    VMSTATE_UINT64_V(next_alarm_time, FxRTCState, 3),
    VMSTATE_UNUSED(4), /* version 1 had a 32-bit "alarm_period" here */
    VMSTATE_TIMER(periodic_timer, FxRTCState),
    VMSTATE_TIMER_V(second_timer, FxRTCState, 2),
    VMSTATE_TIMER_PTR(update_timer, FxRTCState),
    VMSTATE_TIMER_PTR_V(alarm_timer, FxRTCState, 3),
    VMSTATE_UNUSED_V(2, 8), /* version 2 reserved 8 bytes */
    VMSTATE_VALIDATE("cmos_index in range", fx_rtc_index_valid),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_rtc_vmsd = {
    .name = "fx-rtc",
    .version_id = 3,
    .minimum_version_id = 1,
    .pre_save = fx_rtc_pre_save,
    .post_load = fx_rtc_post_load,
    .fields = fx_rtc_fields,
    .subsections = fx_rtc_subsections,
};

const FxTable fx_rtc_tables[] = {
    FX_TABLE_SUBS(&fx_rtc_vmsd, fx_rtc_fields, fx_rtc_subsections),
    FX_TABLE(&fx_rtc_irq_reinject_vmsd, fx_rtc_irq_reinject_fields),
    FX_TABLE(&fx_rtc_coalesced_vmsd, fx_rtc_coalesced_fields),
};
const size_t fx_rtc_table_count = FX_N_ELEMENTS(fx_rtc_tables);

void fx_rtc_init(void *state, unsigned seed) {
    FxRTCState *s = state;
    memset(s, 0, sizeof(*s));
    s->slew_lost_ticks = true;
    s->update_timer = g_new0(QEMUTimer, 1);
    s->alarm_timer = g_new0(QEMUTimer, 1);
    fx_timer_reset(&s->periodic_timer, s);
    fx_timer_reset(&s->second_timer, s);
    fx_timer_reset(s->update_timer, s);
    fx_timer_reset(s->alarm_timer, s);
    if (seed == 0) {
        return;
    }
    for (unsigned i = 0; i < FX_RTC_CMOS_SIZE; i++) {
        s->cmos_data[i] = (uint8_t)(seed * 7 + i);
    }
    s->cmos_index = (uint8_t)(seed % FX_RTC_CMOS_SIZE);
    s->century = 0x20;
    s->alarm_pending = seed & 1;
    s->update_in_progress = (seed & 2) != 0;
    s->tz_quarter_hours = (int8_t)-(int)(seed % 48);
    s->dst_adjust = 4;
    s->drift_ppm = (int16_t)(-(int)seed * 3);
    s->aging_offset = -7;
    s->divider = 0x2600;
    s->year_base = 1980;
    s->irq_line = 8;
    s->period_code = (int32_t)(seed % 16);
    s->base_rtc = 1700000000 + (int64_t)seed;
    s->last_update = -(int64_t)seed * 1000000;
    s->next_periodic_time = 0x0123456789abcdefULL ^ seed;
    s->next_alarm_time = 0xfedcba9876543210ULL - seed;
    s->periodic_timer.expire_time = 1000 * (int64_t)seed;
    s->second_timer.expire_time = -1;
    s->update_timer->expire_time = 2000 * (int64_t)seed;
    s->alarm_timer->expire_time = -1;
    s->irq_reinject_on_ack_count = seed & 4 ? 0 : seed;
    s->irq_coalesced = seed * 2;
    s->period = 32768 >> (seed % 8);
}

void fx_rtc_cleanup(void *state) {
    FxRTCState *s = state;
    g_free(s->update_timer);
    g_free(s->alarm_timer);
    s->update_timer = NULL;
    s->alarm_timer = NULL;
}
