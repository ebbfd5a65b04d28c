/*
 * The standard VMStateInfo instances. They live in C because device tables take their
 * addresses in static initialisers; each get/put is a one-line trampoline into the Swift engine.
 */
#include "vmstate-internal.h"

#define VMS_STD_INFO(ident, label, KIND)                                                         \
    static int get_##ident(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {      \
        return vmstate_std_get(VMSTATE_STD_##KIND, f, pv, size, field);                          \
    }                                                                                            \
    static int put_##ident(QEMUFile *f, void *pv, size_t size, const VMStateField *field,        \
                           JSONWriter *vmdesc) {                                                 \
        return vmstate_std_put(VMSTATE_STD_##KIND, f, pv, size, field, vmdesc);                  \
    }                                                                                            \
    const VMStateInfo vmstate_info_##ident = {.name = label, .get = get_##ident, .put = put_##ident};

VMSTATE_STD_INFO_LIST(VMS_STD_INFO)

#define VMS_STD_INFO_ADDRESS(ident, label, KIND) [VMSTATE_STD_##KIND] = &vmstate_info_##ident,
static const VMStateInfo *const std_infos[VMSTATE_STD_COUNT] = {VMSTATE_STD_INFO_LIST(VMS_STD_INFO_ADDRESS)};

const VMStateInfo *vmstate_std_info(int kind) {
    return (kind >= 0 && kind < VMSTATE_STD_COUNT) ? std_infos[kind] : NULL;
}

#define VMS_STD_INFO_SYMBOL(ident, label, KIND) [VMSTATE_STD_##KIND] = "vmstate_info_" #ident,
static const char *const std_info_symbols[VMSTATE_STD_COUNT] = {VMSTATE_STD_INFO_LIST(VMS_STD_INFO_SYMBOL)};

const char *vmstate_std_info_symbol(int kind) {
    return (kind >= 0 && kind < VMSTATE_STD_COUNT) ? std_info_symbols[kind] : NULL;
}

/* QEMU 10.0's file descriptor info: not in the standard list (QEMU 7.2 has none). */
static int get_fd(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    return vmstate_fd_get(f, pv, size, field);
}
static int put_fd(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc) {
    return vmstate_fd_put(f, pv, size, field, vmdesc);
}
const VMStateInfo vmstate_info_fd = {.name = "fd", .get = get_fd, .put = put_fd};

const VMStateInfo *vmstate_fd_info(void) {
    return &vmstate_info_fd;
}
