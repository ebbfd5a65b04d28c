/*
 * Shared by the C fixture devices: registries the Swift tests walk (every field table, every
 * device) and the hand-written macro expectations.
 */
#ifndef FX_COMMON_H
#define FX_COMMON_H

#include "migration/vmstate.h"

#ifdef __cplusplus
extern "C" {
#endif

#define FX_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
/* sizeof one member of a struct type, without an instance. */
#define FX_MEMBER_SIZE(type, member) sizeof(((type *)0)->member)

/** One VMStateDescription of the fixtures, with the sizes only C knows. */
typedef struct FxTable {
    const VMStateDescription *vmsd;
    /** Must equal vmsd->fields. */
    const VMStateField *fields;
    /** Entries of `fields`, the terminating all-zero entry included. */
    size_t field_count;
    /** Must equal vmsd->subsections (NULL when the description has none). */
    const VMStateDescription **subsections;
    /** Entries of `subsections`, the terminating NULL included; 0 when there are none. */
    size_t subsection_count;
} FxTable;

#define FX_TABLE(vmsd_ptr, fields_) {(vmsd_ptr), (fields_), FX_N_ELEMENTS(fields_), NULL, 0}
#define FX_TABLE_SUBS(vmsd_ptr, fields_, subs_)                                                  \
    {(vmsd_ptr), (fields_), FX_N_ELEMENTS(fields_), (subs_), FX_N_ELEMENTS(subs_)}

/** Every description defined by the fixtures (devices, nested structs, subsections, tmp). */
size_t fx_table_count(void);
const FxTable *fx_table_at(size_t index);

/**
 * A top-level fixture device, for engine tests: allocate `state_size` zeroed bytes, call
 * `init(state, seed)` (seed 0: an empty destination ready to load into, with the same
 * configuration and the same _EQUAL values; any other seed: a populated source whose values
 * depend on the seed), save or load with `vmsd`, then `cleanup(state)` (frees what init and a
 * load allocated; does not free `state`).
 */
typedef struct FxDevice {
    const char *name;
    const VMStateDescription *vmsd;
    size_t state_size;
    void (*init)(void *state, unsigned seed);
    void (*cleanup)(void *state);
} FxDevice;

size_t fx_device_count(void);
const FxDevice *fx_device_at(size_t index);

/** A timer that is not pending (expire_time -1), with `opaque` set; no engine call. */
void fx_timer_reset(QEMUTimer *timer, void *opaque);

/** Per-file lists behind fx_table_at (one per fixture source file). */
extern const FxTable fx_rtc_tables[];
extern const size_t fx_rtc_table_count;
extern const FxTable fx_board_tables[];
extern const size_t fx_board_table_count;
extern const FxTable fx_dma_tables[];
extern const size_t fx_dma_table_count;
extern const FxTable fx_nic_tables[];
extern const size_t fx_nic_table_count;
extern const FxTable fx_queues_tables[];
extern const size_t fx_queues_table_count;
extern const FxTable fx_cpu_tables[];
extern const size_t fx_cpu_table_count;

#ifdef __cplusplus
}
#endif

#endif
