/*
 * The guest clock. Timers are QEMUTimers from qemu/timer.h: the engine saves each one as its
 * expire time (-1 when not pending) and on load writes the loaded time back into expire_time,
 * which is all this clock needs (it looks for due timers by scanning). An emulator that keeps
 * pending timers in a sorted list would install its own mod/del with vmstate_set_timer_ops().
 */
#include "tiny.h"

const VMStateDescription vmstate_emu_clock = {
    .name = "tiny-clock",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT64(now_ns, EmuClock),
        VMSTATE_END_OF_LIST(),
    },
};

void emu_clock_init(EmuClock *clock) {
    clock->now_ns = 0;
    clock->ntimers = 0;
}

void emu_timer_init(EmuClock *clock, QEMUTimer *timer, QEMUTimerCB *cb, void *opaque) {
    g_assert(clock->ntimers < EMU_MAX_TIMERS);
    vmstate_timer_init(timer, cb, opaque);
    timer->timer_list = clock;
    clock->timers[clock->ntimers++] = timer;
}

void emu_timer_mod(QEMUTimer *timer, int64_t expire_ns) { timer->expire_time = expire_ns; }

void emu_timer_del(QEMUTimer *timer) { timer->expire_time = -1; }

bool emu_timer_pending(const QEMUTimer *timer) { return timer->expire_time != -1; }

/* The pending timer that falls due first at or before `until`, or NULL. */
static QEMUTimer *next_due(EmuClock *clock, int64_t until) {
    QEMUTimer *best = NULL;
    for (int i = 0; i < clock->ntimers; i++) {
        QEMUTimer *t = clock->timers[i];
        if (t->expire_time != -1 && t->expire_time <= until &&
            (best == NULL || t->expire_time < best->expire_time)) {
            best = t;
        }
    }
    return best;
}

void emu_clock_advance(EmuClock *clock, int64_t ns) {
    int64_t until = clock->now_ns + ns;
    QEMUTimer *t;
    while ((t = next_due(clock, until)) != NULL) {
        if (t->expire_time > clock->now_ns) {
            clock->now_ns = t->expire_time;
        }
        t->expire_time = -1;
        t->cb(t->opaque);
    }
    clock->now_ns = until;
}

int emu_clock_pending_timers(const EmuClock *clock) {
    int n = 0;
    for (int i = 0; i < clock->ntimers; i++) {
        n += emu_timer_pending(clock->timers[i]);
    }
    return n;
}
