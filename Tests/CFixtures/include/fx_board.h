/*
 * fx-board: a board/firmware controller. Identity values checked on load (every _EQUAL form,
 * SINGLE_FULL, INT32_POSITIVE_LE), an optional extension block saved only when present (every
 * scalar _TEST form, SINGLE_TEST, POINTER_TEST, BUFFER_UNSAFE_INFO_TEST), the kernel-typed
 * VMSTATE_U8..U64 forms, raw buffers, pointers, and UNUSED gaps with tests and counts.
 */
#ifndef FX_BOARD_H
#define FX_BOARD_H

#include "fx_common.h"

#define FX_BOARD_MAGIC 0xb0
#define FX_BOARD_SENSORS 4

typedef struct FxBoardSensor {
    uint16_t raw;
    int16_t offset;
    uint32_t alarm_mask;
} FxBoardSensor;

typedef struct FxBoardState {
    /* identity: the destination must have the same values */
    uint8_t magic;
    uint16_t model;
    uint16_t revision;           /* checked since version 2 */
    int32_t nr_slots;
    uint32_t features;
    uint32_t caps;               /* checked since version 3 */
    uint64_t serial;
    uint64_t hw_id;              /* checked since version 4 */
    int32_t boot_index;          /* checked since version 2 */

    /* loaded value must be 0 <= v <= the destination's value */
    int32_t queue_depth;

    uint8_t power_state;         /* only when power management is configured */

    /* extension block, saved only when ext_present (configuration) */
    bool ext_enabled;
    int8_t ext_temp;
    int16_t ext_fan;
    int32_t ext_volt;
    int64_t ext_uptime;
    uint8_t ext_leds;
    uint16_t ext_port;
    uint32_t ext_irqmask;
    uint64_t ext_cookie;
    uint8_t oem_blob[16];
    uint8_t *led_state;          /* points at one byte */

    /* hypervisor view, kernel-typed */
    __u8 kvm_flags;
    __u16 kvm_vcpu;
    __u32 kvm_mp_state;
    __u64 kvm_clock;
    __u8 kvm_pad_flags;          /* since version 2 */
    __u16 kvm_apic_id;           /* since version 3 */
    __u32 kvm_tsc_khz;           /* since version 4 */
    __u64 kvm_msr_star;          /* since version 4 */

    uint32_t n_legacy;           /* number of 4-byte legacy records still in the stream */
    uint8_t nvram[64];
    FxBoardSensor sensors[FX_BOARD_SENSORS]; /* saved as raw bytes (host layout) */
    uint32_t *irq_status;        /* points at one word */

    /* configuration, not migrated */
    bool ext_present;
    bool power_managed;
    bool legacy_layout;
} FxBoardState;

extern const VMStateDescription fx_board_vmsd;
extern const VMStateField fx_board_fields[];

bool fx_board_ext_present(void *opaque, int version_id);
bool fx_board_power_managed(void *opaque, int version_id);
bool fx_board_legacy_layout(void *opaque, int version_id);

void fx_board_init(void *state, unsigned seed);
void fx_board_cleanup(void *state);

#endif
