/*
 * fx-devmacros: a device whose fields are made by device-level macros of the kind QEMU's own
 * headers define for their types (a FIFO, a MAC address, CPU segments, a GPE register block),
 * built on QEMU's helper names `vmstate_offset_*`, `type_check*` and `typeof_field`. The
 * macros are written in fx_devmacros.c the way such QEMU macros are written, so the device
 * shows that they compile here unchanged and make the fields they make in QEMU.
 */
#ifndef FX_DEVMACROS_H
#define FX_DEVMACROS_H

#include "migration/vmstate.h"

typedef struct FxDmFifo8 {
    uint8_t data[4];
    uint32_t head;
    uint32_t num;
} FxDmFifo8;

typedef struct FxDmMacAddr {
    uint8_t a[6];
} FxDmMacAddr;

typedef struct FxDmSegment {
    uint32_t selector;
    uint64_t base;
} FxDmSegment;

typedef struct FxDevMacrosState {
    uint32_t ctrl;
    FxDmFifo8 rx;          /* FX_VMSTATE_FIFO8: vmstate_offset_value */
    FxDmMacAddr mac;       /* FX_VMSTATE_MACADDR: vmstate_offset_array on mac.a */
    FxDmSegment segs[2];   /* FX_VMSTATE_SEGMENT_ARRAY: type_check_array + typeof_field */
    FxDmSegment ldt;       /* FX_VMSTATE_SEGMENT: type_check + typeof_field */
    uint8_t *gpe_en;     /* FX_VMSTATE_GPE_ARRAY: vmstate_offset_pointer, 2 bytes */
    uint16_t regs[3][2]; /* vmstate_offset_2darray */
    uint32_t win[6];     /* win[2..5] through vmstate_offset_sub_array */
    uint8_t cfg[5];      /* vmstate_offset_buffer */
    uint8_t nvec;        /* number of vec[] entries on the wire */
    uint16_t vec[4];     /* vmstate_offset_varray, VMS_VARRAY_UINT8 */
} FxDevMacrosState;

extern const VMStateDescription fx_devmacros_vmsd;

/* The same table built with the QEMU 10.0 API (Tests/CFixtures/qemu10/fx_qemu10.c). */
extern const VMStateDescription fx10_devmacros_vmsd;

#endif
