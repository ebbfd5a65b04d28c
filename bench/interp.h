/*
 * The benchmark's baseline: a plain C interpreter of VMStateDescription tables, written from
 * the semantics of docs/FORMAT.md §2 the way a straightforward migration core would be: walk the
 * field array, compute the element count and size per field, and make one info put/get call per
 * element, each doing one qemu_put_* / qemu_get_* call. It uses the library's QEMUFile and
 * qemu_put_* / qemu_get_*, so the engine and this interpreter share the same I/O layer.
 */
#ifndef BENCH_INTERP_H
#define BENCH_INTERP_H

#include "migration/vmstate.h"

int interp_save(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id);
int interp_load(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id);

#endif
