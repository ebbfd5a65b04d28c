/*
 * The fx-devmacros table and the device-level macros it uses (see fx_devmacros.c), included by
 * fx_devmacros.c (QEMU 7.2 API) and qemu10/fx_qemu10.c (QEMU 10.0 API) with FX_DEVMACROS_VMSD
 * naming the description. Each FX_VMSTATE_* macro has the shape of a QEMU device-level macro:
 * QEMU's qemu/fifo8.h (VMSTATE_FIFO8, a struct through vmstate_offset_value), net/net.h
 * (VMSTATE_MACADDR, a buffer through vmstate_offset_array on the member's `.a`),
 * target/i386/machine.c (VMSTATE_SEGMENT and VMSTATE_SEGMENT_ARRAY, an offsetof plus type_check
 * or type_check_array of typeof_field) and hw/acpi/ich9.c (VMSTATE_GPE_ARRAY, an array behind a
 * pointer through vmstate_offset_pointer).
 */
#include "fx_devmacros.h"

#include <stddef.h>

static const VMStateDescription fx_dm_fifo8_vmsd = {
    .name = "fx-fifo8",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){
        VMSTATE_UINT8_ARRAY(data, FxDmFifo8, 4),
        VMSTATE_UINT32(head, FxDmFifo8),
        VMSTATE_UINT32(num, FxDmFifo8),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription fx_dm_segment_vmsd = {
    .name = "fx-segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){
        VMSTATE_UINT32(selector, FxDmSegment),
        VMSTATE_UINT64(base, FxDmSegment),
        VMSTATE_END_OF_LIST(),
    },
};

#define FX_VMSTATE_FIFO8(_field, _state)                                                           \
    {                                                                                              \
        .name = (stringify(_field)), .size = sizeof(FxDmFifo8), .vmsd = &fx_dm_fifo8_vmsd,         \
        .flags = VMS_STRUCT, .offset = vmstate_offset_value(_state, _field, FxDmFifo8),            \
    }

#define FX_VMSTATE_MACADDR(_field, _state)                                                         \
    {                                                                                              \
        .name = (stringify(_field)), .size = sizeof(FxDmMacAddr), .info = &vmstate_info_buffer,    \
        .flags = VMS_BUFFER, .offset = vmstate_offset_array(_state, _field.a, uint8_t, 6),         \
    }

#define FX_VMSTATE_SEGMENT(_field, _state)                                                         \
    {                                                                                              \
        .name = (stringify(_field)), .size = sizeof(FxDmSegment), .vmsd = &fx_dm_segment_vmsd,     \
        .flags = VMS_STRUCT,                                                                       \
        .offset = offsetof(_state, _field) +                                                       \
                  type_check(FxDmSegment, typeof_field(_state, _field)),                           \
    }

#define FX_VMSTATE_SEGMENT_ARRAY(_field, _state, _n)                                               \
    {                                                                                              \
        .name = (stringify(_field)), .num = (_n), .size = sizeof(FxDmSegment),                     \
        .vmsd = &fx_dm_segment_vmsd, .flags = VMS_STRUCT | VMS_ARRAY,                              \
        .offset = offsetof(_state, _field) +                                                       \
                  type_check_array(FxDmSegment, typeof_field(_state, _field), _n),                 \
    }

#define FX_VMSTATE_GPE_ARRAY(_field, _state)                                                       \
    {                                                                                              \
        .name = (stringify(_field)), .num = 2, .info = &vmstate_info_uint8,                        \
        .size = sizeof(uint8_t), .flags = VMS_ARRAY | VMS_POINTER,                                 \
        .offset = vmstate_offset_pointer(_state, _field, uint8_t),                                 \
    }

/* The other helpers, as a device table would spell fields with them. */
#define FX_VMSTATE_REGS(_field, _state)                                                            \
    {                                                                                              \
        .name = (stringify(_field)), .num = 3 * 2, .info = &vmstate_info_uint16,                   \
        .size = sizeof(uint16_t), .flags = VMS_ARRAY,                                              \
        .offset = vmstate_offset_2darray(_state, _field, uint16_t, 3, 2),                          \
    }

#define FX_VMSTATE_WINDOW(_field, _state, _start, _num)                                            \
    {                                                                                              \
        .name = (stringify(_field)), .num = (_num), .info = &vmstate_info_uint32,                  \
        .size = sizeof(uint32_t), .flags = VMS_ARRAY,                                              \
        .offset = vmstate_offset_sub_array(_state, _field, uint32_t, _start),                      \
    }

#define FX_VMSTATE_CFG(_field, _state)                                                             \
    {                                                                                              \
        .name = (stringify(_field)), .size = sizeof(typeof_field(_state, _field)),                 \
        .info = &vmstate_info_buffer, .flags = VMS_BUFFER,                                         \
        .offset = vmstate_offset_buffer(_state, _field),                                           \
    }

#define FX_VMSTATE_VEC(_field, _state, _count)                                                     \
    {                                                                                              \
        .name = (stringify(_field)), .num_offset = vmstate_offset_value(_state, _count, uint8_t),  \
        .info = &vmstate_info_uint16, .size = sizeof(typeof_elt_of_field(_state, _field)),         \
        .flags = VMS_VARRAY_UINT8, .offset = vmstate_offset_varray(_state, _field, uint16_t),      \
    }

/* Each helper is the member's offset (and is a constant expression). */
_Static_assert(vmstate_offset_value(FxDevMacrosState, rx, FxDmFifo8) ==
                   offsetof(FxDevMacrosState, rx),
               "value");
_Static_assert(vmstate_offset_array(FxDevMacrosState, mac.a, uint8_t, 6) ==
                   offsetof(FxDevMacrosState, mac),
               "array");
_Static_assert(vmstate_offset_pointer(FxDevMacrosState, gpe_en, uint8_t) ==
                   offsetof(FxDevMacrosState, gpe_en),
               "pointer");
_Static_assert(vmstate_offset_2darray(FxDevMacrosState, regs, uint16_t, 3, 2) ==
                   offsetof(FxDevMacrosState, regs),
               "2darray");
_Static_assert(vmstate_offset_sub_array(FxDevMacrosState, win, uint32_t, 2) ==
                   offsetof(FxDevMacrosState, win) + 2 * sizeof(uint32_t),
               "sub_array");
_Static_assert(vmstate_offset_buffer(FxDevMacrosState, cfg) == offsetof(FxDevMacrosState, cfg),
               "buffer");
_Static_assert(vmstate_offset_varray(FxDevMacrosState, vec, uint16_t) ==
                   offsetof(FxDevMacrosState, vec),
               "varray");
_Static_assert(type_check(uint32_t, typeof_field(FxDevMacrosState, ctrl)) == 0, "type_check");
_Static_assert(type_check_pointer(uint8_t, typeof_field(FxDevMacrosState, gpe_en)) == 0,
               "type_check_pointer");
_Static_assert(type_check_2darray(uint16_t, typeof_field(FxDevMacrosState, regs), 3, 2) == 0, "2d");
_Static_assert(type_check_varray(uint16_t, FxDevMacrosState, vec) == 0, "type_check_varray");
_Static_assert(sizeof(typeof_elt_of_field(FxDevMacrosState, segs)) == sizeof(FxDmSegment), "elt");

const VMStateDescription FX_DEVMACROS_VMSD = {
    .name = "fx-devmacros",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){
        VMSTATE_UINT32(ctrl, FxDevMacrosState),
        FX_VMSTATE_FIFO8(rx, FxDevMacrosState),
        FX_VMSTATE_MACADDR(mac, FxDevMacrosState),
        FX_VMSTATE_SEGMENT_ARRAY(segs, FxDevMacrosState, 2),
        FX_VMSTATE_SEGMENT(ldt, FxDevMacrosState),
        FX_VMSTATE_GPE_ARRAY(gpe_en, FxDevMacrosState),
        FX_VMSTATE_REGS(regs, FxDevMacrosState),
        FX_VMSTATE_WINDOW(win, FxDevMacrosState, 2, 3),
        FX_VMSTATE_CFG(cfg, FxDevMacrosState),
        VMSTATE_UINT8(nvec, FxDevMacrosState),
        FX_VMSTATE_VEC(vec, FxDevMacrosState, nvec),
        VMSTATE_END_OF_LIST(),
    },
};
