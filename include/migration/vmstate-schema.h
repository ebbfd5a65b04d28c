/*
 * swift-vmstate: schema dumps in the format of QEMU's `-dump-vmstate FILE`, the input of
 * QEMU's scripts/vmstate-static-checker.py: QEMU 7.2's, or in a file built with VMSTATE_QEMU_API
 * 1000, QEMU 10.0's, which also gives each VMS_ARRAY field's element count as "num" before its
 * "size" (QEMU 8.1 and later do).
 *
 * QEMU walks its device classes and keys each top-level entry by the class name ("isa-pit"),
 * with the class's description ("i8254") nested under "Description". Here the input is a
 * NULL-terminated array of descriptions, and each top-level entry is keyed (and its "Name" set)
 * by the description's own name, unless `names` gives a key per description. Everything else
 * is byte-for-byte what QEMU prints: the "vmschkmachine" entry first, two-space indentation,
 * per field "field", "version_id", "field_exists", ("num"), "size" and a nested "Description" for
 * fields with a vmsd, "Fields" without VMSTATE_VALIDATE entries, "Subsections" in table order.
 * A "size" is the table's, so a struct field's is sizeof your struct, which need not be QEMU's:
 * vmstate-static-checker.py and `vmstate compat` do not compare the sizes of struct fields.
 *
 * Differences, only for input QEMU never has: names are JSON-escaped (QEMU prints them raw), an
 * empty list gives valid JSON (QEMU would leave a trailing comma), and instead of recursing
 * forever or printing "(null)" the functions fail with an error (domain "vmstate-error-quark",
 * code VMSTATE_ERROR_INVALID_TABLE) for a description without a name, a description that
 * contains itself, two entries with the same key, or a name (machine, key, description, field)
 * that is not valid UTF-8, which JSON text cannot hold.
 */
#ifndef SWIFT_VMSTATE_VMSTATE_SCHEMA_H
#define SWIFT_VMSTATE_VMSTATE_SCHEMA_H

#include "migration/vmstate.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Returns the -dump-vmstate JSON text for `vmsds` (NULL-terminated), each keyed by its name,
 * with `machine` as the "vmschkmachine" name (NULL: "none"). Free the text with g_free.
 * Returns NULL with `error` set (VMSTATE_ERROR_INVALID_TABLE) when the tables cannot be dumped,
 * two of one name included (one key twice; QEMU keys its dump by device class, so classes that
 * share a description appear once each: give them keys with vmstate_dump_schema_named).
 */
char *vmstate_dump_schema(const char *machine, const VMStateDescription *const *vmsds,
                          GError **error)
#if VMSTATE_QEMU_API == 1000
    VMS_API_SYMBOL_(vmstate_dump_schema_v1000)
#endif
    ;

/**
 * As vmstate_dump_schema, with the key (and "Name") of entry i taken from names[i] when
 * `names` is not NULL and names[i] is not NULL (for example QEMU's device class names).
 */
char *vmstate_dump_schema_named(const char *machine, const char *const *names,
                                const VMStateDescription *const *vmsds, GError **error)
#if VMSTATE_QEMU_API == 1000
    VMS_API_SYMBOL_(vmstate_dump_schema_named_v1000)
#endif
    ;

#ifdef __cplusplus
}
#endif

#endif
