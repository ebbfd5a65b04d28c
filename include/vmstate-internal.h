/*
 * swift-vmstate internals shared between the C shim and the Swift engine. Not part of the API:
 * C programs should include migration/vmstate.h only.
 */
#ifndef SWIFT_VMSTATE_INTERNAL_H
#define SWIFT_VMSTATE_INTERNAL_H

#include "migration/vmstate.h"

/* The standard VMStateInfo instances, numbered so the engine can recognise them. */
typedef enum {
    VMSTATE_STD_BOOL = 0,
    VMSTATE_STD_INT8,
    VMSTATE_STD_INT16,
    VMSTATE_STD_INT32,
    VMSTATE_STD_INT64,
    VMSTATE_STD_UINT8,
    VMSTATE_STD_UINT16,
    VMSTATE_STD_UINT32,
    VMSTATE_STD_UINT64,
    VMSTATE_STD_INT32_EQUAL,
    VMSTATE_STD_INT32_LE,
    VMSTATE_STD_UINT8_EQUAL,
    VMSTATE_STD_UINT16_EQUAL,
    VMSTATE_STD_UINT32_EQUAL,
    VMSTATE_STD_UINT64_EQUAL,
    VMSTATE_STD_NULLPTR,
    VMSTATE_STD_CPUDOUBLE,
    VMSTATE_STD_BUFFER,
    VMSTATE_STD_UNUSED_BUFFER,
    VMSTATE_STD_TIMER,
    VMSTATE_STD_TMP,
    VMSTATE_STD_BITMAP,
    VMSTATE_STD_QTAILQ,
    VMSTATE_STD_GTREE,
    VMSTATE_STD_QLIST,
    VMSTATE_STD_COUNT
} VMStateStdKind;

/* The instance of `kind` (taken in C: Swift may copy imported globals). */
const VMStateInfo *vmstate_std_info(int kind);

/* The Swift implementations behind every standard instance's get and put. */
int vmstate_std_get(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field);
int vmstate_std_put(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc);

#endif
