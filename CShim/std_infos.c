/*
 * The standard VMStateInfo instances. They live in C because device tables take their
 * addresses in static initialisers; each get/put is a one-line trampoline into the Swift engine.
 */
#include "vmstate-internal.h"

#define VMS_STD_INFO(ident, label, kind)                                                         \
    static int get_##ident(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {      \
        return vmstate_std_get(kind, f, pv, size, field);                                        \
    }                                                                                            \
    static int put_##ident(QEMUFile *f, void *pv, size_t size, const VMStateField *field,        \
                           JSONWriter *vmdesc) {                                                 \
        return vmstate_std_put(kind, f, pv, size, field, vmdesc);                                \
    }                                                                                            \
    const VMStateInfo vmstate_info_##ident = {.name = label, .get = get_##ident, .put = put_##ident};

VMS_STD_INFO(bool, "bool", VMSTATE_STD_BOOL)
VMS_STD_INFO(int8, "int8", VMSTATE_STD_INT8)
VMS_STD_INFO(int16, "int16", VMSTATE_STD_INT16)
VMS_STD_INFO(int32, "int32", VMSTATE_STD_INT32)
VMS_STD_INFO(int64, "int64", VMSTATE_STD_INT64)
VMS_STD_INFO(uint8, "uint8", VMSTATE_STD_UINT8)
VMS_STD_INFO(uint16, "uint16", VMSTATE_STD_UINT16)
VMS_STD_INFO(uint32, "uint32", VMSTATE_STD_UINT32)
VMS_STD_INFO(uint64, "uint64", VMSTATE_STD_UINT64)
VMS_STD_INFO(int32_equal, "int32 equal", VMSTATE_STD_INT32_EQUAL)
VMS_STD_INFO(int32_le, "int32 le", VMSTATE_STD_INT32_LE)
VMS_STD_INFO(uint8_equal, "uint8 equal", VMSTATE_STD_UINT8_EQUAL)
VMS_STD_INFO(uint16_equal, "uint16 equal", VMSTATE_STD_UINT16_EQUAL)
VMS_STD_INFO(uint32_equal, "uint32 equal", VMSTATE_STD_UINT32_EQUAL)
VMS_STD_INFO(uint64_equal, "int64 equal", VMSTATE_STD_UINT64_EQUAL) /* sic, as QEMU */
VMS_STD_INFO(nullptr, "uint64", VMSTATE_STD_NULLPTR)                /* sic, as QEMU */
VMS_STD_INFO(cpudouble, "CPU_Double_U", VMSTATE_STD_CPUDOUBLE)
VMS_STD_INFO(buffer, "buffer", VMSTATE_STD_BUFFER)
VMS_STD_INFO(unused_buffer, "unused_buffer", VMSTATE_STD_UNUSED_BUFFER)
VMS_STD_INFO(timer, "timer", VMSTATE_STD_TIMER)
VMS_STD_INFO(tmp, "tmp", VMSTATE_STD_TMP)
VMS_STD_INFO(bitmap, "bitmap", VMSTATE_STD_BITMAP)
VMS_STD_INFO(qtailq, "qtailq", VMSTATE_STD_QTAILQ)
VMS_STD_INFO(gtree, "gtree", VMSTATE_STD_GTREE)
VMS_STD_INFO(qlist, "qlist", VMSTATE_STD_QLIST)

static const VMStateInfo *const std_infos[VMSTATE_STD_COUNT] = {
    &vmstate_info_bool,          &vmstate_info_int8,          &vmstate_info_int16,
    &vmstate_info_int32,         &vmstate_info_int64,         &vmstate_info_uint8,
    &vmstate_info_uint16,        &vmstate_info_uint32,        &vmstate_info_uint64,
    &vmstate_info_int32_equal,   &vmstate_info_int32_le,      &vmstate_info_uint8_equal,
    &vmstate_info_uint16_equal,  &vmstate_info_uint32_equal,  &vmstate_info_uint64_equal,
    &vmstate_info_nullptr,       &vmstate_info_cpudouble,     &vmstate_info_buffer,
    &vmstate_info_unused_buffer, &vmstate_info_timer,         &vmstate_info_tmp,
    &vmstate_info_bitmap,        &vmstate_info_qtailq,        &vmstate_info_gtree,
    &vmstate_info_qlist,
};

const VMStateInfo *vmstate_std_info(int kind) {
    return (kind >= 0 && kind < VMSTATE_STD_COUNT) ? std_infos[kind] : NULL;
}
