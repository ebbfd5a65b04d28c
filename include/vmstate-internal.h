/*
 * swift-vmstate internals shared between the C shim and the Swift engine. Not part of the API:
 * C programs should include migration/vmstate.h only.
 */
#ifndef SWIFT_VMSTATE_INTERNAL_H
#define SWIFT_VMSTATE_INTERNAL_H

#include "migration/vmstate.h"

/* The standard VMStateInfo instances, numbered in the order of VMSTATE_STD_INFO_LIST. */
#define VMSTATE_STD_KIND_(ident, label, kind) VMSTATE_STD_##kind,
typedef enum {
    VMSTATE_STD_INFO_LIST(VMSTATE_STD_KIND_)
    VMSTATE_STD_COUNT
} VMStateStdKind;
#undef VMSTATE_STD_KIND_

/* The instance of `kind` (taken in C: Swift may copy imported globals). */
const VMStateInfo *vmstate_std_info(int kind);

/* The Swift implementations behind every standard instance's get and put. */
int vmstate_std_get(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field);
int vmstate_std_put(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc);

#endif
