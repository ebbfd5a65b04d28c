/*
 * fx-rtc: a CMOS real-time clock. Scalars of every width and their _V forms, a whole-array
 * buffer, embedded and pointed-to timers, UNUSED gaps, a VALIDATE check and two subsections
 * with `needed` callbacks.
 */
#ifndef FX_RTC_H
#define FX_RTC_H

#include "fx_common.h"

#define FX_RTC_CMOS_SIZE 128

typedef struct FxRTCState {
    uint8_t cmos_data[FX_RTC_CMOS_SIZE];
    uint8_t cmos_index;
    uint8_t century;             /* since version 2 */
    bool alarm_pending;
    bool update_in_progress;     /* since version 3 */
    int8_t tz_quarter_hours;
    int8_t dst_adjust;           /* since version 2 */
    int16_t drift_ppm;
    int16_t aging_offset;        /* since version 3 */
    uint16_t divider;
    uint16_t year_base;          /* since version 2 */
    int32_t irq_line;
    int32_t period_code;         /* since version 2 */
    int64_t base_rtc;
    int64_t last_update;         /* since version 3 */
    uint64_t next_periodic_time;
    uint64_t next_alarm_time;    /* since version 3 */
    QEMUTimer periodic_timer;
    QEMUTimer second_timer;      /* since version 2 */
    QEMUTimer *update_timer;
    QEMUTimer *alarm_timer;      /* since version 3 */

    /* subsection fx-rtc/irq_reinject_on_ack_count (needed when non-zero) */
    uint32_t irq_reinject_on_ack_count;
    /* subsection fx-rtc/coalesced (needed when lost ticks are slewed and some are pending) */
    uint32_t irq_coalesced;
    uint32_t period;

    /* configuration, not migrated */
    bool slew_lost_ticks;
    /* hook bookkeeping, not migrated */
    unsigned pre_save_calls;
    unsigned post_load_calls;
} FxRTCState;

extern const VMStateDescription fx_rtc_vmsd;
extern const VMStateDescription fx_rtc_irq_reinject_vmsd;
extern const VMStateDescription fx_rtc_coalesced_vmsd;
extern const VMStateField fx_rtc_fields[];
extern const VMStateField fx_rtc_irq_reinject_fields[];
extern const VMStateField fx_rtc_coalesced_fields[];

bool fx_rtc_index_valid(void *opaque, int version_id);
bool fx_rtc_irq_reinject_needed(void *opaque);
bool fx_rtc_coalesced_needed(void *opaque);

void fx_rtc_init(void *state, unsigned seed);
void fx_rtc_cleanup(void *state);

#endif
