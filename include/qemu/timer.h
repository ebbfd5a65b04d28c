/*
 * swift-vmstate: a QEMU-compatible timer, enough for VMSTATE_TIMER and VMSTATE_TIMER_PTR.
 *
 * The engine saves a timer as its expire time (-1 when not pending) and on load either stops
 * it (-1) or re-arms it at the loaded time. By default that means reading and writing
 * `expire_time`. An emulator with a real timer wheel plugs in its own functions with
 * vmstate_set_timer_ops().
 */
#ifndef SWIFT_VMSTATE_TIMER_H
#define SWIFT_VMSTATE_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void QEMUTimerCB(void *opaque);

/** QEMU's timer: the first member is the expire time in ns, -1 when the timer is not pending.
 *  The other members are the emulator's; the engine does not touch them. */
typedef struct QEMUTimer {
    int64_t expire_time;
    void *timer_list;
    QEMUTimerCB *cb;
    void *opaque;
    struct QEMUTimer *next;
    int attributes;
    int scale;
} QEMUTimer;

/** How the engine reads and re-arms timers. Any member may be NULL for the default. */
typedef struct VMStateTimerOps {
    /** The expire time to save, or -1 when the timer is not pending (any negative value is saved
     *  as -1, as QEMU saves it). */
    int64_t (*expire_time)(QEMUTimer *timer, void *user);
    /** Arms `timer` to fire at `expire_time` (the loaded value, never -1; or, when a
     *  VMSTATE_LOAD_TRANSACTIONAL load fails, the value `expire_time` gave before it). */
    void (*mod)(QEMUTimer *timer, int64_t expire_time, void *user);
    /** Stops `timer` (the loaded value was -1; or a failed VMSTATE_LOAD_TRANSACTIONAL load puts
     *  back a timer that was not pending, or stops one in memory the engine allocated and frees). */
    void (*del)(QEMUTimer *timer, void *user);
    /** Passed to each call. */
    void *user;
} VMStateTimerOps;

/** Installs process-wide timer functions (copied); NULL restores the defaults (read and write
 *  `expire_time`). Safe to call from any thread, but a save or load running meanwhile on
 *  another thread reads the functions again for each timer: some of its timers may go through
 *  the old functions and the rest through the new ones, and an old one may still be called
 *  just after this returns. Install them before saves and loads start. */
void vmstate_set_timer_ops(const VMStateTimerOps *ops);

/** Initialises a timer that is not pending. */
void vmstate_timer_init(QEMUTimer *timer, QEMUTimerCB *cb, void *opaque);

/**
 * The expire time a save would write for `timer` (ns, -1 when it is not pending): the installed
 * VMStateTimerOps.expire_time's answer, or `expire_time` when none is installed, any negative
 * value as -1 (QEMU: pending means an expire time of at least 0); -1 for NULL.
 */
int64_t vmstate_timer_expire_time(QEMUTimer *timer);

#ifndef VMSTATE_NO_QEMU_TIMER_QUERIES
/*
 * QEMU's two read-only timer queries (util/qemu-timer.c), which device hooks call (a subsection's
 * `needed` as `timer_pending(s->fifo_timeout_timer)` in hw/char/serial.c), answered as the engine
 * sees the timer: through the installed VMStateTimerOps, so they agree with what a save writes.
 * Define VMSTATE_NO_QEMU_TIMER_QUERIES before the first include to define your own.
 */
/** QEMU's timer_pending: whether `ts` is pending (its expire time is not negative). */
static inline bool timer_pending(QEMUTimer *ts)
{
    return vmstate_timer_expire_time(ts) >= 0;
}

/** QEMU's timer_expire_time_ns: the expire time in ns when `ts` is pending, else (uint64_t)-1. */
static inline uint64_t timer_expire_time_ns(QEMUTimer *ts)
{
    return (uint64_t)vmstate_timer_expire_time(ts); /* -1 when not pending */
}
#endif

#ifdef __cplusplus
}
#endif

#endif
