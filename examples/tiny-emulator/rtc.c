/*
 * A CMOS real-time clock with a periodic interrupt, in the style of the MC146818.
 *
 * Its description has a history, as real devices do:
 *   version 1: CMOS memory, index register, time of the last update;
 *   version 2: added the coalesced-interrupt and alarm counters;
 *   version 3: added the guest's clock offset.
 * minimum_version_id stays 1, so streams written by any of the three versions still load: the
 * fields a stream does not have keep the values they had before the load (post_load fills
 * them in).
 *
 * The reinjection counter is only worth sending while it is non-zero, so it lives in a
 * subsection whose needed() says so; a stream without the subsection loads too.
 */
#include "tiny.h"

static const int64_t rtc_periods_ns[16] = {
    0,       3906250, 7812500, 122070,  244141,  488281,  976562,  1953125,
    3906250, 7812500, 15625000, 31250000, 62500000, 125000000, 250000000, 500000000,
};

bool rtc_reinject_needed(void *opaque) {
    TinyRTC *s = opaque;
    return s->reinject_count != 0;
}

static const VMStateDescription vmstate_tiny_rtc_irq_reinject = {
    .name = "tiny-rtc/irq_reinject",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = rtc_reinject_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(reinject_count, TinyRTC),
        VMSTATE_END_OF_LIST(),
    },
};

static int rtc_pre_load(void *opaque) {
    TinyRTC *s = opaque;
    /* Absent from the stream when the source had nothing to reinject. */
    s->reinject_count = 0;
    return 0;
}

static int rtc_post_load(void *opaque, int version_id) {
    TinyRTC *s = opaque;
    if (version_id < 2) {
        s->irq_coalesced = 0;
        s->alarm_hits = 0;
    }
    if (version_id < 3) {
        s->offset_ns = 0;
    }
    /* Derived state is recomputed, not migrated. */
    s->period_ns = rtc_periods_ns[s->cmos[RTC_REG_A] & 0x0f];
    return 0;
}

const VMStateDescription vmstate_tiny_rtc = {
    .name = "tiny-rtc",
    .version_id = 3,
    .minimum_version_id = 1,
    .pre_load = rtc_pre_load,
    .post_load = rtc_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_BUFFER(cmos, TinyRTC),
        VMSTATE_UINT8(index, TinyRTC),
        VMSTATE_INT64(last_update_ns, TinyRTC),
        VMSTATE_UINT32_V(irq_coalesced, TinyRTC, 2),
        VMSTATE_UINT32_V(alarm_hits, TinyRTC, 2),
        VMSTATE_INT64_V(offset_ns, TinyRTC, 3),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &vmstate_tiny_rtc_irq_reinject,
        NULL,
    },
};

void rtc_reset(TinyRTC *s) {
    *s = (TinyRTC){0};
    s->cmos[RTC_REG_A] = 0x26;
    s->cmos[RTC_REG_B] = 0x02;
    s->period_ns = rtc_periods_ns[s->cmos[RTC_REG_A] & 0x0f];
}

void rtc_write(TinyRTC *s, unsigned port, uint8_t val) {
    if ((port & 1) == 0) {
        s->index = val & (RTC_CMOS_SIZE - 1);
        return;
    }
    switch (s->index) {
    case RTC_REG_A:
        s->cmos[RTC_REG_A] = val & 0x7f;
        s->period_ns = rtc_periods_ns[val & 0x0f];
        break;
    case RTC_REG_C:
        break; /* read-only */
    default:
        s->cmos[s->index] = val;
        break;
    }
}

uint8_t rtc_read(TinyRTC *s, unsigned port) {
    if ((port & 1) == 0) {
        return s->index;
    }
    uint8_t val = s->cmos[s->index];
    if (s->index == RTC_REG_C) {
        /* Acknowledge; a coalesced interrupt is reinjected right away. */
        s->cmos[RTC_REG_C] = 0;
        if (s->reinject_count) {
            s->reinject_count--;
            s->cmos[RTC_REG_C] = 0x40;
        }
    }
    return val;
}

void rtc_update(TinyRTC *s, int64_t now_ns) {
    int64_t guest_now = now_ns + s->offset_ns;
    if (s->period_ns == 0 || !(s->cmos[RTC_REG_B] & 0x40)) {
        s->last_update_ns = guest_now;
        return;
    }
    while (s->last_update_ns + s->period_ns <= guest_now) {
        s->last_update_ns += s->period_ns;
        if (s->cmos[RTC_REG_C] & 0x40) {
            /* The guest has not acknowledged the previous one. */
            s->irq_coalesced++;
            if (s->reinject_count < 0xffff) {
                s->reinject_count++;
            }
        } else {
            s->cmos[RTC_REG_C] = 0x40;
        }
        if (s->cmos[0] == s->cmos[1]) {
            s->alarm_hits++;
        }
    }
}

void rtc_adjust(TinyRTC *s, int64_t delta_ns) {
    s->offset_ns += delta_ns;
    if (delta_ns < 0) {
        s->last_update_ns += delta_ns;
    }
}
