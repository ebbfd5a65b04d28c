/*
 * swift-vmstate: QEMU 10.0's path of the JSONWriter header (QEMU moved qapi/qmp/json-writer.h
 * to qobject/json-writer.h; the functions are the same). Everything is declared in
 * qapi/qmp/json-writer.h; this header only includes it, so both paths work in either API.
 */
#ifndef SWIFT_VMSTATE_QOBJECT_JSON_WRITER_H
#define SWIFT_VMSTATE_QOBJECT_JSON_WRITER_H

#include "qapi/qmp/json-writer.h"

#endif
