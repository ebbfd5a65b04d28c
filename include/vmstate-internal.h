/*
 * swift-vmstate internals shared between the C shim and the Swift engine. Not part of the API:
 * C programs should include migration/vmstate.h only.
 */
#ifndef SWIFT_VMSTATE_INTERNAL_H
#define SWIFT_VMSTATE_INTERNAL_H

#include "migration/vmstate.h"
#include "migration/vmstate-registry.h"
#include "qapi/error.h"

/* The C shim's own functions, which only the library calls: not exported from
 * libswiftvmstate.so (a program's function of the same name cannot take their place). */
#define VMSTATE_HIDDEN_ __attribute__((visibility("hidden")))

/* The standard VMStateInfo instances, numbered in the order of VMSTATE_STD_INFO_LIST. */
#define VMSTATE_STD_KIND_(ident, label, kind) VMSTATE_STD_##kind,
typedef enum {
    VMSTATE_STD_INFO_LIST(VMSTATE_STD_KIND_)
    VMSTATE_STD_COUNT
} VMStateStdKind;
#undef VMSTATE_STD_KIND_

/* The instance of `kind` (taken in C: Swift may copy imported globals). */
VMSTATE_HIDDEN_ const VMStateInfo *vmstate_std_info(int kind);

/* The C symbol name of the instance of `kind` ("vmstate_info_int32"); NULL outside the list. */
VMSTATE_HIDDEN_ const char *vmstate_std_info_symbol(int kind);

/* The address `reserve` bytes above the lowest of the calling thread's stack (the stack grows
 * down), or 0 when the stack's extent is unknown. */
VMSTATE_HIDDEN_ uintptr_t vmstate_stack_floor(size_t reserve);

/* How many shared objects the process has unloaded so far (dlclose), as glibc counts them; 0
 * where it does not. The plan cache drops its plans when it changes (CShim/unloads.c). */
VMSTATE_HIDDEN_ uint64_t vmstate_unloaded_objects(void);

/* The transactional load running on the calling thread (its LoadGuard, kept alive by the load
 * until it puts the previous one back), or NULL; the exchange returns the previous one. */
VMSTATE_HIDDEN_ void *vmstate_exchange_current_load(void *load);
VMSTATE_HIDDEN_ void *vmstate_current_load(void);

/* Logs `message` as a GLib critical of the log domain "swift-vmstate" (a C caller's misuse the
 * call then ignores, as g_return_if_fail does). */
VMSTATE_HIDDEN_ void vmstate_log_critical(const char *message);

/* The current frame's address, to compare with vmstate_stack_floor. */
static inline uintptr_t vmstate_stack_here(void)
{
    return (uintptr_t)__builtin_frame_address(0);
}

/* The Swift implementations behind every standard instance's get and put. */
int vmstate_std_get(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field);
int vmstate_std_put(int kind, QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc);

/*
 * The QEMU 10.0 API's entry points (migration/vmstate.h with VMSTATE_QEMU_API 1000 links its
 * vmstate_load_state, vmstate_save_state, vmstate_save_state_v and vmstate_save_to_bytes to the
 * _v1000 symbols), declared here under their own names for the Swift engine that defines them.
 */
int vmstate_load_state_v1000(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id);
int vmstate_save_state_v1000(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, JSONWriter *vmdesc);
int vmstate_save_state_v_v1000(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, JSONWriter *vmdesc,
                               int version_id, Error **errp);
int vmstate_save_state_with_err(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, JSONWriter *vmdesc,
                                Error **errp);
bool vmstate_section_needed(const VMStateDescription *vmsd, void *opaque);
/* QEMU 10.0's QEMUFile checks (declared for 10.0 files in migration/qemu-file-types.h). */
bool migration_rate_exceeded(QEMUFile *f);
bool qemu_file_is_seekable(QEMUFile *f);
GByteArray *vmstate_save_to_bytes_v1000(const VMStateDescription *vmsd, void *opaque, char **vmdesc_json,
                                        GError **error);

/* vmstate_registry_add and _add_sized of files built with VMSTATE_QEMU_API 1000 (QEMU 10.0's
 * table layout; migration/vmstate-registry.h links them to these symbols). */
bool vmstate_registry_add_v1000(VMStateRegistry *reg, const char *idstr, uint32_t instance_id,
                                const VMStateDescription *vmsd, void *opaque, GError **error);
bool vmstate_registry_add_sized_v1000(VMStateRegistry *reg, const char *idstr, uint32_t instance_id,
                                      const VMStateDescription *vmsd, void *opaque, size_t opaque_size,
                                      GError **error);

/* vmstate_dump_schema and _named of files built with VMSTATE_QEMU_API 1000 (QEMU 10.0's dump
 * format; migration/vmstate-schema.h links them to these symbols). */
char *vmstate_dump_schema_v1000(const char *machine, const VMStateDescription *const *vmsds, GError **error);
char *vmstate_dump_schema_named_v1000(const char *machine, const char *const *names,
                                      const VMStateDescription *const *vmsds, GError **error);

/* QEMU 10.0's vmstate_info_fd (declared for 10.0 files in migration/vmstate.h; taken in C) and
 * the Swift implementations behind its get and put. */
VMSTATE_HIDDEN_ const VMStateInfo *vmstate_fd_info(void);
int vmstate_fd_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field);
int vmstate_fd_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc);

/* Sets `*errp` to an Error with a copy of `msg` (as error_setg(errp, "%s", msg)). */
VMSTATE_HIDDEN_ void vmstate_error_set_message(Error **errp, const char *msg);

#endif
