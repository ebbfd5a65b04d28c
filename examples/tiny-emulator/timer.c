/*
 * A timer device: a programmable tick (one-shot or periodic) and a watchdog the guest has to
 * kick. The tick timer is allocated separately and saved through its pointer
 * (VMSTATE_TIMER_PTR); the watchdog is embedded in the struct (VMSTATE_TIMER). Both are saved as
 * their expire time, so a timer pending at save time is pending at the same guest time after
 * the load.
 */
#include "tiny.h"

#define WATCHDOG_NS 5000000 /* 5 ms */

const VMStateDescription vmstate_tiny_timer = {
    .name = "tiny-timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER_PTR(tick, TinyTimer),
        VMSTATE_TIMER(watchdog, TinyTimer),
        VMSTATE_UINT32(ctrl, TinyTimer),
        VMSTATE_UINT32(period_ns, TinyTimer),
        VMSTATE_UINT32(ticks, TinyTimer),
        VMSTATE_UINT32(irq_status, TinyTimer),
        VMSTATE_INT64(last_tick_ns, TinyTimer),
        VMSTATE_UINT32(watchdog_expiries, TinyTimer),
        VMSTATE_END_OF_LIST(),
    },
};

static void tick_cb(void *opaque) {
    TinyTimer *s = opaque;
    s->ticks++;
    s->last_tick_ns = s->clock->now_ns;
    if (s->ctrl & TIMER_CTRL_IRQ) {
        s->irq_status |= 1;
    }
    if ((s->ctrl & TIMER_CTRL_ENABLE) && (s->ctrl & TIMER_CTRL_PERIODIC)) {
        emu_timer_mod(s->tick, s->clock->now_ns + s->period_ns);
    } else {
        s->ctrl &= ~TIMER_CTRL_ENABLE;
    }
}

static void watchdog_cb(void *opaque) {
    TinyTimer *s = opaque;
    s->watchdog_expiries++;
    emu_timer_mod(&s->watchdog, s->clock->now_ns + WATCHDOG_NS);
}

void tiny_timer_init(TinyTimer *s, EmuClock *clock) {
    *s = (TinyTimer){.clock = clock, .last_tick_ns = -1};
    s->tick = g_new0(QEMUTimer, 1);
    emu_timer_init(clock, s->tick, tick_cb, s);
    emu_timer_init(clock, &s->watchdog, watchdog_cb, s);
    emu_timer_mod(&s->watchdog, clock->now_ns + WATCHDOG_NS);
}

void tiny_timer_finalize(TinyTimer *s) {
    g_free(s->tick);
    s->tick = NULL;
}

void tiny_timer_program(TinyTimer *s, uint32_t ctrl, uint32_t period_ns) {
    s->ctrl = ctrl;
    s->period_ns = period_ns < 1000 ? 1000 : period_ns;
    if (ctrl & TIMER_CTRL_ENABLE) {
        emu_timer_mod(s->tick, s->clock->now_ns + s->period_ns);
    } else {
        emu_timer_del(s->tick);
    }
}

void tiny_timer_kick_watchdog(TinyTimer *s) {
    emu_timer_mod(&s->watchdog, s->clock->now_ns + WATCHDOG_NS);
}

void tiny_timer_ack(TinyTimer *s) { s->irq_status = 0; }
