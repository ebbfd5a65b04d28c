/*
 * swift-vmstate: QEMU 7.2's VMState tables and API.
 *
 * Device descriptions written for QEMU 7.2 compile unchanged against this header and produce
 * identical tables: the three structs have QEMU's member order, types, sizes and offsets
 * (checked by _Static_assert below), and every VMSTATE_* macro produces the same VMStateField
 * values, with the same compile-time type checks (a field of the wrong type does not compile).
 *
 * The engine behind the functions is written in Swift and reads these tables in place.
 * Descriptions are planned on first use and the plan is kept, keyed by the description's
 * address, until the process unloads a shared object (a dlclose): tables must be `static const`
 * and never changed, nor freed but with the plugin that holds them (docs/C-API.md).
 *
 * Return convention: QEMU's functions (those returning `int`) return 0 on success or a
 * negative errno, as QEMU's do. The additions that take a `GError **error` return true (or a
 * non-NULL pointer) on success, and false (or NULL) with `*error` set on failure; the error
 * message names the field path and the byte offset. docs/C-API.md describes every function.
 */
#ifndef SWIFT_VMSTATE_VMSTATE_H
#define SWIFT_VMSTATE_VMSTATE_H

/*
 * Which QEMU's device-facing API this file gets: 702 (QEMU 7.2, the default) or 1000 (QEMU
 * 10.0). Define VMSTATE_QEMU_API as 1000 before the first include to get QEMU 10.0's
 * VMStateDescription (bool unmigratable, bool early_setup, const subsection arrays), VMS_END
 * lists, its new macros and functions (Error **errp), and its vmdesc and result rules
 * (docs/C-API.md, "The QEMU 10.0 API"). Both kinds of files may be linked into one program.
 */
#ifndef VMSTATE_QEMU_API
#define VMSTATE_QEMU_API 702
#endif
#if VMSTATE_QEMU_API != 702 && VMSTATE_QEMU_API != 1000
#error "VMSTATE_QEMU_API must be 702 (QEMU 7.2, the default) or 1000 (QEMU 10.0)"
#endif
/* The tables' type checks are C11 _Static_asserts; a strict C99 or C89 mode has none (glibc's
 * stand-in for them breaks the macros with "expected specifier-qualifier-list before 'extern'"). */
#if !defined(__cplusplus) && defined(__STRICT_ANSI__) &&                                         \
    (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#error "swift-vmstate's headers need C11: compile with -std=c11 or later (or a GNU mode, -std=gnu99 or later, without -pedantic-errors)"
#endif

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/qemu-file-types.h"
#include "qapi/qmp/json-writer.h"
#if VMSTATE_QEMU_API == 1000
#include "qapi/error.h"
#include "qobject/json-writer.h"
#endif
#include "qemu/queue.h"
#include "qemu/timer.h"

/* The kernel types __u8 .. __u64, for VMSTATE_U8 .. VMSTATE_U64 (see there). */
#if defined(__linux__) && defined(__has_include)
#if __has_include(<linux/types.h>)
#include <linux/types.h>
#define VMS_KERNEL_U8 __u8
#define VMS_KERNEL_U16 __u16
#define VMS_KERNEL_U32 __u32
#define VMS_KERNEL_U64 __u64
#endif
#endif
#ifndef VMS_KERNEL_U8
#define VMS_KERNEL_U8 uint8_t
#define VMS_KERNEL_U16 uint16_t
#define VMS_KERNEL_U32 uint32_t
#define VMS_KERNEL_U64 uint64_t
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
 * Types
 * ========================================================================================== */

typedef struct VMStateInfo VMStateInfo;
typedef struct VMStateField VMStateField;
typedef struct VMStateDescription VMStateDescription;

/** How one kind of value is written and read. `size` is the element size from the field. */
struct VMStateInfo {
    const char *name;
    int (*get)(QEMUFile *f, void *pv, size_t size, const VMStateField *field);
    int (*put)(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
               JSONWriter *vmdesc);
};

enum VMStateFlags {
    VMS_SINGLE = 0x1,
    VMS_POINTER = 0x2,
    VMS_ARRAY = 0x4,
    VMS_STRUCT = 0x8,
    VMS_VARRAY_INT32 = 0x10,
    VMS_BUFFER = 0x20,
    VMS_ARRAY_OF_POINTER = 0x40,
    VMS_VARRAY_UINT16 = 0x80,
    VMS_VBUFFER = 0x100,
    VMS_MULTIPLY = 0x200,
    VMS_VARRAY_UINT8 = 0x400,
    VMS_VARRAY_UINT32 = 0x800,
    VMS_MUST_EXIST = 0x1000,
    VMS_ALLOC = 0x2000,
    VMS_MULTIPLY_ELEMENTS = 0x4000,
    VMS_VSTRUCT = 0x8000,
#if VMSTATE_QEMU_API == 1000
    /* QEMU 10.0: VMSTATE_END_OF_LIST() sets it on the terminating entry. */
    VMS_END = 0x10000,
#endif
};

typedef enum {
    MIG_PRI_DEFAULT = 0,
    MIG_PRI_IOMMU,
    MIG_PRI_PCI_BUS,
    MIG_PRI_VIRTIO_MEM,
    MIG_PRI_GICV3_ITS,
    MIG_PRI_GICV3,
    MIG_PRI_MAX,
} MigrationPriority;

/** One entry of a description's field list; the list ends with a field whose name is NULL. */
struct VMStateField {
    const char *name;
    const char *err_hint;
    size_t offset;
    size_t size;
    size_t start;
    int num;
    size_t num_offset;
    size_t size_offset;
    const VMStateInfo *info;
    enum VMStateFlags flags;
    const VMStateDescription *vmsd;
    int version_id;
    int struct_version_id;
    bool (*field_exists)(void *opaque, int version_id);
};

/**
 * A device's (or a nested struct's, or a subsection's) state layout. QEMU 10.0's (VMSTATE_QEMU_API
 * 1000) has `bool unmigratable` and `bool early_setup` at offsets 8 and 9 where QEMU 7.2's has
 * `int unmigratable`, and a `const` subsection array; every other member is at the same offset
 * (CShim/layout_checks.c, CShim/layout_checks_v1000.c).
 */
struct VMStateDescription {
    const char *name;
#if VMSTATE_QEMU_API == 1000
    bool unmigratable;
    /* Saved as a FULL section in the setup phase, before RAM (the registry's concern). */
    bool early_setup;
#else
    int unmigratable;
#endif
    int version_id;
    int minimum_version_id;
    MigrationPriority priority;
    int (*pre_load)(void *opaque);
    int (*post_load)(void *opaque, int version_id);
    int (*pre_save)(void *opaque);
    int (*post_save)(void *opaque);
    bool (*needed)(void *opaque);
    bool (*dev_unplug_pending)(void *opaque);
    const VMStateField *fields;
#if VMSTATE_QEMU_API == 1000
    const VMStateDescription *const *subsections;
#else
    const VMStateDescription **subsections;
#endif
};

/** The byte written in place of a NULL entry of an array of pointers. */
#define VMS_NULLPTR_MARKER 0x30

/** QEMU's 64-bit float bit pattern type. */
#ifndef SWIFT_VMSTATE_HAVE_FLOAT64
#define SWIFT_VMSTATE_HAVE_FLOAT64 1
typedef uint64_t float64;
#endif

/** QEMU's CPU_DoubleU (little-endian host layout). */
typedef union {
    float64 d;
    struct {
        uint32_t lower;
        uint32_t upper;
    } l;
    uint64_t ll;
} CPU_DoubleU;

/* (C++ spells C11's _Static_assert static_assert: a C++ file may include this header to call
 * the API; the VMSTATE_* tables themselves are C.) */
#ifdef __cplusplus
#define VMS_STATIC_ASSERT_ static_assert
#else
#define VMS_STATIC_ASSERT_ _Static_assert
#endif
VMS_STATIC_ASSERT_(sizeof(VMStateInfo) == 24, "VMStateInfo layout");
VMS_STATIC_ASSERT_(sizeof(VMStateField) == 104, "VMStateField layout");
VMS_STATIC_ASSERT_(sizeof(VMStateDescription) == 88, "VMStateDescription layout");
VMS_STATIC_ASSERT_(offsetof(VMStateField, field_exists) == 96, "VMStateField layout");
VMS_STATIC_ASSERT_(offsetof(VMStateDescription, subsections) == 80, "VMStateDescription layout");

/* ============================================================================================
 * The standard VMStateInfo instances (QEMU's names; `.name` goes into the vmdesc JSON)
 * ========================================================================================== */

/*
 * The one list of the standard instances: X(ident, name, KIND) for `vmstate_info_<ident>`,
 * whose `.name` is `name` (what the vmdesc JSON says for the field), numbered
 * VMSTATE_STD_<KIND> inside the engine. The declarations below, their definitions
 * (CShim/std_infos.c) and the engine's numbering (vmstate-internal.h, read by the Swift
 * planner) are all expanded from it. Wire formats: docs/FORMAT.md §3.
 */
#define VMSTATE_STD_INFO_LIST(X)                                    \
    X(bool, "bool", BOOL)                                           \
    X(int8, "int8", INT8)                                           \
    X(int16, "int16", INT16)                                        \
    X(int32, "int32", INT32)                                        \
    X(int64, "int64", INT64)                                        \
    X(uint8, "uint8", UINT8)                                        \
    X(uint16, "uint16", UINT16)                                     \
    X(uint32, "uint32", UINT32)                                     \
    X(uint64, "uint64", UINT64)                                     \
    X(int32_equal, "int32 equal", INT32_EQUAL)                      \
    X(int32_le, "int32 le", INT32_LE)                               \
    X(uint8_equal, "uint8 equal", UINT8_EQUAL)                      \
    X(uint16_equal, "uint16 equal", UINT16_EQUAL)                   \
    X(uint32_equal, "uint32 equal", UINT32_EQUAL)                   \
    X(uint64_equal, "int64 equal", UINT64_EQUAL) /* sic, as QEMU */ \
    X(nullptr, "uint64", NULLPTR) /* sic, as QEMU */                \
    X(cpudouble, "CPU_Double_U", CPUDOUBLE)                         \
    X(buffer, "buffer", BUFFER)                                     \
    X(unused_buffer, "unused_buffer", UNUSED_BUFFER)                \
    X(timer, "timer", TIMER)                                        \
    X(tmp, "tmp", TMP)                                              \
    X(bitmap, "bitmap", BITMAP)                                     \
    X(qtailq, "qtailq", QTAILQ)                                     \
    X(gtree, "gtree", GTREE)                                        \
    X(qlist, "qlist", QLIST)

#define VMSTATE_DECLARE_STD_INFO_(ident, label, kind) extern const VMStateInfo vmstate_info_##ident;
VMSTATE_STD_INFO_LIST(VMSTATE_DECLARE_STD_INFO_)
#undef VMSTATE_DECLARE_STD_INFO_
#if VMSTATE_QEMU_API == 1000
/*
 * QEMU 10.0's file descriptor (an int32_t field; VMSTATE_FD). A descriptor cannot travel in a
 * byte buffer or stream: saving one fails with -1 and records -EIO on the file, loading one
 * sets the field to -1 and fails with -EIO, as QEMU 10.0 on a channel without descriptor
 * passing. `vmstate lint` reports such fields. (Not one of the list above: QEMU 7.2 has none.)
 */
extern const VMStateInfo vmstate_info_fd;
#endif

/* ============================================================================================
 * QEMU's API
 * ========================================================================================== */

/**
 * Loads state saved at `version_id` from `f` into `opaque`, described by `vmsd`: pre_load, the
 * fields that exist at that version, the subsections in the stream, post_load. Returns 0 or a
 * negative errno: -EINVAL for a version out of range (and for a value QEMU reads as zeros past
 * the end and refuses), -EIO for input that ended, -ENOENT for an unknown subsection, -1 for a
 * failed VMSTATE_VALIDATE, a hook's or a custom get's own value. As in QEMU 7.2, only failures
 * inside a field (a get or a nested struct failing, or the file having an error after an
 * element) are also recorded as the file's error; the others are only returned (the table in
 * docs/C-API.md, "Results and the file's error"). A load that fails part way leaves the fields
 * before the failing one loaded. Saves and loads alike fail with -EINVAL rather than go down a
 * level of nesting with less than 32 KiB of the thread's own stack left (a coroutine's stack is
 * not checked: docs/C-API.md, "Nesting"). Called from a hook or a custom get of a
 * VMSTATE_LOAD_TRANSACTIONAL load on the same thread (as QEMU's virtio devices load their own
 * table from VMSTATE_VIRTIO_DEVICE's get), it is part of that load: checked against its structs,
 * and undone by its rollback (GTree nodes taken out, allocations freed, timers put back).
 *
 * As QEMU's, the load looks one byte past the state for a subsection: when the state is all the
 * input holds, that records -EIO on the file (qemu_fclose returns -EIO) while the load returns
 * 0, or fails the load with -EIO when the last field is a struct. Leave more input after the
 * state, or check vmstate_file_remaining(f) == 0 instead of qemu_fclose.
 */
#if VMSTATE_QEMU_API == 1000
/* QEMU 10.0's functions that keep 7.2's names link to their own symbols (the engine then reads
 * the tables as 10.0's and follows 10.0's rules). */
#define VMS_ASM_STR_(s) #s
#define VMS_ASM_XSTR_(s) VMS_ASM_STR_(s)
#define VMS_API_SYMBOL_(name) __asm__(VMS_ASM_XSTR_(__USER_LABEL_PREFIX__) #name)
/**
 * QEMU 10.0: as the 7.2 form above; in addition, a subsection that fails to load (unknown:
 * -ENOENT, or its own failure) also records its result as the file's error, as QEMU 10.0 does.
 */
int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id)
    VMS_API_SYMBOL_(vmstate_load_state_v1000);
/** QEMU 10.0: vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd->version_id, NULL). */
int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       JSONWriter *vmdesc) VMS_API_SYMBOL_(vmstate_save_state_v1000);
/** QEMU 10.0: vmstate_save_state_v(f, vmsd, opaque, vmdesc, vmsd->version_id, errp). */
int vmstate_save_state_with_err(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                                JSONWriter *vmdesc, Error **errp);
/**
 * QEMU 10.0: saves the state at `version_id`, appending to `f`; the vmdesc (when `vmdesc` is not
 * NULL) follows QEMU 10.0: NULL entries of arrays of pointers are their own `"nullptr"` entries
 * and split such arrays into segments, the last element of an `"index"` array has no index.
 * Returns 0 or the failure's result; on failure `*errp` (when `errp` is not NULL) is set to
 * QEMU 10.0's message: "pre-save failed: NAME", "post-save failed: NAME", "Save of field
 * NAME/FIELD failed: put failed" (prefixed once per enclosing field). Where QEMU 10.0 crashes
 * (a failing VMS_STRUCT element, a put returning a positive value) the Error is set with the
 * inner failure's message instead. Nothing is recorded on the file, except by a VMSTATE_FD
 * field (-EIO) or a custom put that records an error itself.
 */
int vmstate_save_state_v(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                         JSONWriter *vmdesc, int version_id, Error **errp)
    VMS_API_SYMBOL_(vmstate_save_state_v_v1000);
/** QEMU 10.0's name for vmstate_save_needed: false when `vmsd->needed` is set and returns false. */
bool vmstate_section_needed(const VMStateDescription *vmsd, void *opaque);
#else
int vmstate_load_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       int version_id);
/**
 * Saves the state at `opaque`, described by `vmsd`, at its own version_id, appending to `f`.
 * When `vmdesc` is not NULL the description is written into the object open in it. Returns 0
 * or a negative errno (a hook's or a custom put's own value, -1 for an absent VMS_MUST_EXIST
 * field, which QEMU 7.2 asserts on). As in QEMU 7.2, a failed save records nothing on the file:
 * qemu_fclose returns 0 after it, unless a custom put called qemu_file_set_error itself (after
 * which nothing more is written).
 */
int vmstate_save_state(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                       JSONWriter *vmdesc);
/** As vmstate_save_state, at `version_id`: fields added after that version are not saved. */
int vmstate_save_state_v(QEMUFile *f, const VMStateDescription *vmsd, void *opaque,
                         JSONWriter *vmdesc, int version_id);
/** False when `vmsd->needed` is set and returns false. */
bool vmstate_save_needed(const VMStateDescription *vmsd, void *opaque);
#endif

/* ============================================================================================
 * Additions: files over GLib buffers, one-call save and load with GError
 * ========================================================================================== */

/** A file that appends to the caller's buffer `out` (never freed by qemu_fclose); NULL if `out`
 *  is NULL. A GByteArray holds at most 4 GiB: a write past that is dropped, sets the file's
 *  error to -EFBIG (-27), and vmstate_file_get_stream_error then gives the
 *  VMSTATE_ERROR_BOUND_EXCEEDED GError that says so (write larger state to a stream file). */
QEMUFile *vmstate_file_new_output(GByteArray *out);
/** A file that reads the caller's buffer `in` from its start, holding a reference to `in`
 *  until qemu_fclose; NULL if `in` is NULL. As QEMU's QEMUFile, a read or a look
 *  (qemu_peek_*, a load's subsection check) past the end of `in` records -EIO. */
QEMUFile *vmstate_file_new_input(GBytes *in);
/** Bytes left to read in an input file (0 for an output file); for a stream file, the bytes
 *  read from the stream and not consumed yet (the rest of the stream is unknown). */
size_t vmstate_file_remaining(QEMUFile *f);

#ifndef __G_IO_H__
typedef struct _GOutputStream GOutputStream;
typedef struct _GInputStream GInputStream;
#endif

/**
 * A file that writes to the GIO stream `out` (a file, a socket, a pipe, memory...), holding a
 * reference to it until qemu_fclose. Bytes go through one bounded buffer (256 KiB), written to
 * `out` with g_output_stream_write until all of it is written, when it is full and by qemu_fflush
 * and qemu_fclose, as QEMU's QEMUFile buffers its channel; qemu_fclose drops the reference and
 * does not close `out`. A failed write sets the file's error to -EIO (qemu_file_get_error) and
 * keeps the GError (a write that returns 0, or more than it was given: G_IO_ERROR_FAILED saying
 * so); later writes are dropped. The output has no size limit. NULL if `out` is NULL.
 */
QEMUFile *vmstate_file_new_output_stream(GOutputStream *out);
/**
 * A file that reads the GIO stream `in`, holding a reference to it until qemu_fclose (which
 * does not close `in`). Reads go through one bounded buffer (256 KiB, larger only while one
 * read needs more, grown by doubling as the bytes arrive: a length from the stream costs memory
 * only for the bytes that come); a read of 0 bytes is the end of the input. Reading past the end, or
 * a failed read, sets the file's error to -EIO and yields zeros, as for a GBytes file; the
 * GError of a failed read is kept. A read blocks as long as `in` blocks. NULL if `in` is NULL.
 */
QEMUFile *vmstate_file_new_input_stream(GInputStream *in);
/**
 * The GError of the first failed read or write of a stream file (a copy the caller frees; its
 * domain and code are the stream's, e.g. G_IO_ERROR), or NULL when the stream did not fail. A
 * GBytes file never fails so (its end of input is -EIO without a GError); a GByteArray file
 * that reached its 4 GiB limit gives a VMSTATE_ERROR_BOUND_EXCEEDED GError.
 */
GError *vmstate_file_get_stream_error(QEMUFile *f);

/** The GError domain of every error this library reports. */
#define VMSTATE_ERROR (vmstate_error_quark())
GQuark vmstate_error_quark(void);

/** GError codes (one per failure kind). */
typedef enum {
    VMSTATE_ERROR_FAILED = 1,           /* anything not listed below */
    VMSTATE_ERROR_SHORT_INPUT,          /* the input ended inside a value */
    VMSTATE_ERROR_VERSION_TOO_NEW,      /* incoming version above version_id */
    VMSTATE_ERROR_VERSION_TOO_OLD,      /* incoming version below minimum_version_id */
    VMSTATE_ERROR_MISMATCH,             /* an _equal / _le check failed */
    VMSTATE_ERROR_BAD_MARKER,           /* a NULL pointer's 0x30 marker was another byte */
    VMSTATE_ERROR_UNKNOWN_SUBSECTION,   /* a subsection the description does not have */
    VMSTATE_ERROR_MUST_EXIST,           /* a VMS_MUST_EXIST field was absent (VMSTATE_VALIDATE) */
    VMSTATE_ERROR_HOOK_FAILED,          /* pre_load/post_load/pre_save/post_save returned != 0 */
    VMSTATE_ERROR_FIELD_FAILED,         /* a custom get returned < 0, or a put != 0 */
    VMSTATE_ERROR_BOUND_EXCEEDED,       /* a count or size is negative, too large, or overflows */
    VMSTATE_ERROR_INVALID_TABLE,        /* the description itself is unusable (NULL vmsd, ...) */
    VMSTATE_ERROR_BAD_STREAM,           /* a whole stream is malformed (magic, section, footer) */
    VMSTATE_ERROR_UNKNOWN_SECTION,      /* a stream section with no registered entry */
    VMSTATE_ERROR_MACHINE_MISMATCH,     /* the stream's machine type differs */
    VMSTATE_ERROR_RAM,                  /* a RAM record is malformed or out of range */
} VMStateErrorCode;

/**
 * Saves `vmsd` from `opaque` at its version_id and returns a new GByteArray (free it with
 * g_byte_array_unref), or NULL with `*error` set; the message names the field path and the byte
 * offset. When `vmdesc_json` is not NULL it receives the description as a JSON object (free it
 * with g_free).
 */
GByteArray *vmstate_save_to_bytes(const VMStateDescription *vmsd, void *opaque,
                                  char **vmdesc_json, GError **error)
#if VMSTATE_QEMU_API == 1000
    /* QEMU 10.0: the same, with QEMU 10.0's vmdesc (see vmstate_save_state_v). */
    VMS_API_SYMBOL_(vmstate_save_to_bytes_v1000)
#endif
    ;
/**
 * Loads `vmsd` at `version_id` from all of the caller's buffer `in` into `opaque`. Returns false
 * with `*error` set on failure (field path, byte offset, expected and actual). Bytes left over
 * after the state are an error.
 */
bool vmstate_load_from_bytes(const VMStateDescription *vmsd, void *opaque, int version_id,
                             GBytes *in, GError **error);

/** vmstate_load_checked / vmstate_registry_load flag: a failed load leaves the structs as they
 *  were before the call and frees what the engine allocated (but the ALLOC buffers of a device
 *  added without a size, whose struct is not put back: they stay with it). It puts the structs' bytes
 *  back, pointers included: memory a pre_load or post_load hook freed that the struct pointed
 *  to (a VMS_ALLOC buffer, list elements, as QEMU's devices free them) would be reached again
 *  freed; free it with vmstate_free_after_load instead of g_free. A buffer this load
 *  allocated that a post_load takes (frees it and clears the member, as QEMU's spapr_pci does
 *  with msi_devs, or keeps it elsewhere) is the hook's: not freed again (one it replaced with
 *  g_realloc and the rollback no longer reaches is lost). The timers the load changed
 *  in those structs or behind their VMSTATE_TIMER_PTR fields go back too: through the timer
 *  operations when installed (vmstate_set_timer_ops: mod at the time expire_time gave before
 *  the load, or del), else by their expire_time. */
#define VMSTATE_LOAD_TRANSACTIONAL 0x4

/**
 * Frees `mem` (g_free) once the load running on the calling thread has succeeded, or at once.
 * For pre_load and post_load hooks that free memory their device struct points to before the
 * load replaces it (an ALLOC buffer; list elements, walked without unlinking them, then the
 * head emptied with QTAILQ_INIT or QLIST_INIT). In a VMSTATE_LOAD_TRANSACTIONAL load of a
 * struct given with its size (vmstate_load_checked, vmstate_registry_add_sized), `mem` is freed
 * when the load succeeds and left alone when it fails: the rollback puts back the struct's
 * pointers to it; a load run from such a load's hook into a struct the outer load puts back
 * leaves it to the outer load. Anywhere else (no load on this thread, a load without the flag, a device
 * added without a size, whose struct a rollback does not put back) it is freed at once, as
 * g_free would. `mem` must come from g_malloc (or malloc); NULL does nothing. The library's
 * own; QEMU has no transactional loads.
 */
void vmstate_free_after_load(void *mem);

/**
 * Calls `fn(opaque)` if the VMSTATE_LOAD_TRANSACTIONAL load running on the calling thread rolls
 * back, before the rollback puts anything back or frees anything (what the load made is still
 * there; functions given later are called first), and never when it succeeds. For hooks and
 * custom get functions that change what a rollback does not put back: an index a post_load
 * builds of memory the load allocated (QEMU's virtio-iommu `iommu_post_load` puts the endpoints,
 * list elements the load allocated, into `s->endpoints`) would point into freed memory after
 * the rollback; `fn` takes those entries out and puts back what they replaced. Only where the
 * rollback puts the device's struct back (a struct given with its size: vmstate_load_checked,
 * vmstate_registry_add_sized; from a load nested in a hook, one whose structs the outer load puts
 * back); anywhere else (no load on this thread, a load without the flag, a device added without
 * a size, which keeps what it loaded) `fn` is never called. `fn` must not load state; NULL `fn`
 * does nothing. The library's own; QEMU has no transactional loads.
 */
void vmstate_load_on_rollback(void (*fn)(void *opaque), void *opaque);

/**
 * Loads like vmstate_load_from_bytes, for input from another machine: `opaque` is a struct of
 * `opaque_size` bytes (0, or less than the table's fixed fields reach, is refused before
 * anything loads: VMSTATE_ERROR_FAILED; docs/C-API.md), and a write that would land outside it (or outside memory the engine
 * allocated: ALLOC buffers, list and tree elements, the tmp scratch struct) is an error naming
 * the field instead of a write; a pointer field that points into such memory is bounded by it.
 * A count or size that runs past its array inside the struct (or inside engine memory) writes
 * the members after it; a pointer member that received the stream's bytes so is not written
 * through in that load: VMSTATE_ERROR_BOUND_EXCEEDED (QEMU 7.2's openpic `max_irq` reaches
 * `dst[0].raised.queue`); nor is a timer whose pointer members received them handed to the
 * installed timer functions. Pointers set by hooks are followed.
 * Element counts and sizes from the stream, allocations (at most 1 GiB, and no more than the
 * remaining input can fill; over a stream file, up to 64 MiB of that input is read first to
 * tell) and nesting depth (64) are validated; a subsection or tree key that
 * appears twice is refused. `flags`: VMSTATE_LOAD_TRANSACTIONAL or 0 (with it, the struct is
 * copied first, and an `opaque_size` no allocation can hold is VMSTATE_ERROR_FAILED; a failure
 * also restores list links and tree nodes the load changed outside the struct). Writes through raw
 * pointers into memory the load does not know cannot be bounded (`vmstate lint` names such
 * fields). Error codes and messages: docs/errors.md.
 */
bool vmstate_load_checked(const VMStateDescription *vmsd, void *opaque, size_t opaque_size,
                          int version_id, GBytes *in, unsigned flags, GError **error);

/* ============================================================================================
 * Macros. Internal helpers first (names starting VMS_ are this header's own).
 * ========================================================================================== */

/* Zero, or a compile error with `msg` when `cond` is false. */
#define VMS_ZERO_UNLESS(cond, msg) (0 * sizeof(struct { _Static_assert(cond, msg); int vms_pad_; }))
#define VMS_FIELD_TYPE(_state, _field) __typeof__(((_state *)0)->_field)
/* Zero when member `_field` of `_state` has type `_type`, else a compile error. */
#define VMS_CHECK_TYPE(_type, _state, _field)                                                    \
    VMS_ZERO_UNLESS(__builtin_types_compatible_p(_type, VMS_FIELD_TYPE(_state, _field)),         \
                    "VMSTATE: " #_state "." #_field " does not have type " #_type)
#define VMS_CHECK_IS_ARRAY(_state, _field)                                                       \
    VMS_ZERO_UNLESS(!__builtin_types_compatible_p(VMS_FIELD_TYPE(_state, _field),                \
                                                  __typeof__(&((_state *)0)->_field[0])),        \
                    "VMSTATE: " #_state "." #_field " is not an array")

#define VMS_OFFSET_VALUE(_state, _field, _type)                                                  \
    (offsetof(_state, _field) + VMS_CHECK_TYPE(_type, _state, _field))
#define VMS_OFFSET_POINTER(_state, _field, _type)                                                \
    (offsetof(_state, _field) + VMS_CHECK_TYPE(_type *, _state, _field))
#define VMS_OFFSET_ARRAY(_state, _field, _type, _num)                                            \
    (offsetof(_state, _field) + VMS_CHECK_TYPE(_type[_num], _state, _field))
#define VMS_OFFSET_2DARRAY(_state, _field, _type, _n1, _n2)                                      \
    (offsetof(_state, _field) + VMS_CHECK_TYPE(_type[_n1][_n2], _state, _field))
#define VMS_OFFSET_VARRAY(_state, _field, _type)                                                 \
    (offsetof(_state, _field) + VMS_CHECK_TYPE(_type, _state, _field[0]) +                       \
     VMS_CHECK_IS_ARRAY(_state, _field))
#define VMS_OFFSET_SUB_ARRAY(_state, _field, _type, _start)                                      \
    (offsetof(_state, _field[_start]) + VMS_CHECK_TYPE(_type, _state, _field[_start]))
#define VMS_OFFSET_BUFFER(_state, _field)                                                        \
    VMS_OFFSET_ARRAY(_state, _field, uint8_t, sizeof(VMS_FIELD_TYPE(_state, _field)))

/*
 * QEMU's own names for these helpers, for the device-level macros that QEMU code builds on them
 * (a FIFO, a MAC address, a CPU segment, a bus device's parent state: `.offset =
 * vmstate_offset_value(_state, _field, Fifo8)` and the like) so that such macros compile here
 * unchanged. Same arguments and meaning as QEMU 7.2's and 10.0's: each `vmstate_offset_*` is the
 * byte offset of member `_field` of struct `_state` (a size_t constant expression) and fails to
 * compile, naming the struct and member, unless the member has the stated type:
 *   value `_type`; pointer `_type *`; array `_type[_num]`; 2darray `_type[_n1][_n2]`;
 *   sub_array element `_start` of an array of `_type`; buffer an array of uint8_t (any length);
 *   varray an array (not a pointer) of `_type`, any length.
 * `type_check(t1, t2)`, `type_check_array(t1, t2, n)`, `type_check_2darray(t1, t2, n, m)` and
 * `type_check_pointer(t1, t2)` are 0 when type t2 is t1, t1[n], t1[n][m] or t1 * (qualifiers of
 * t2 itself ignored) and a compile error otherwise; `type_check_varray(t1, t2, f)` is 0 when
 * member f of struct t2 is an array of t1. `typeof_elt_of_field(type, field)` is the type of
 * element 0 of the member, and `typeof_field(type, field)` (QEMU's qemu/compiler.h, defined here
 * unless already defined, as are `type_check` and `stringify`) the type of the member.
 */
#ifndef typeof_field
#define typeof_field(type, field) __typeof__(((type *)0)->field)
#endif
#ifndef type_check
#define type_check(t1, t2)                                                                       \
    VMS_ZERO_UNLESS(__builtin_types_compatible_p(t1, t2), "type_check: " #t2 " is not " #t1)
#endif
#define type_check_array(t1, t2, n)                                                              \
    VMS_ZERO_UNLESS(__builtin_types_compatible_p(t1[n], t2),                                     \
                    "type_check_array: " #t2 " is not " #t1 "[" #n "]")
#define type_check_2darray(t1, t2, n, m)                                                         \
    VMS_ZERO_UNLESS(__builtin_types_compatible_p(t1[n][m], t2),                                  \
                    "type_check_2darray: " #t2 " is not " #t1 "[" #n "][" #m "]")
#define type_check_pointer(t1, t2)                                                               \
    VMS_ZERO_UNLESS(__builtin_types_compatible_p(t1 *, t2),                                      \
                    "type_check_pointer: " #t2 " is not " #t1 " *")
#define typeof_elt_of_field(type, field) __typeof__(((type *)0)->field[0])
#define type_check_varray(t1, t2, f) (VMS_CHECK_TYPE(t1, t2, f[0]) + VMS_CHECK_IS_ARRAY(t2, f))

#define vmstate_offset_value(_state, _field, _type) VMS_OFFSET_VALUE(_state, _field, _type)
#define vmstate_offset_pointer(_state, _field, _type) VMS_OFFSET_POINTER(_state, _field, _type)
#define vmstate_offset_array(_state, _field, _type, _num)                                        \
    VMS_OFFSET_ARRAY(_state, _field, _type, _num)
#define vmstate_offset_2darray(_state, _field, _type, _n1, _n2)                                  \
    VMS_OFFSET_2DARRAY(_state, _field, _type, _n1, _n2)
#define vmstate_offset_sub_array(_state, _field, _type, _start)                                  \
    VMS_OFFSET_SUB_ARRAY(_state, _field, _type, _start)
#define vmstate_offset_buffer(_state, _field) VMS_OFFSET_BUFFER(_state, _field)
#define vmstate_offset_varray(_state, _field, _type) VMS_OFFSET_VARRAY(_state, _field, _type)

/* ---- generic ------------------------------------------------------------------------------ */

#define VMSTATE_SINGLE_TEST(_field, _state, _test, _version, _info, _type)                       \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size = sizeof(_type), .info = &(_info), .flags = VMS_SINGLE,                            \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_SINGLE_FULL(_field, _state, _test, _version, _info, _type, _err_hint)            \
    {                                                                                            \
        .name = (stringify(_field)), .err_hint = (_err_hint), .version_id = (_version),          \
        .field_exists = (_test), .size = sizeof(_type), .info = &(_info), .flags = VMS_SINGLE,   \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_VALIDATE(_name, _test)                                                           \
    {                                                                                            \
        .name = (_name), .field_exists = (_test), .flags = VMS_ARRAY | VMS_MUST_EXIST, .num = 0, \
    }

#define VMSTATE_POINTER(_field, _state, _version, _info, _type)                                  \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .info = &(_info),                 \
        .size = sizeof(_type), .flags = VMS_SINGLE | VMS_POINTER,                                \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_POINTER_TEST(_field, _state, _test, _info, _type)                                \
    {                                                                                            \
        .name = (stringify(_field)), .info = &(_info), .field_exists = (_test),                  \
        .size = sizeof(_type), .flags = VMS_SINGLE | VMS_POINTER,                                \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_ARRAY(_field, _state, _num, _version, _info, _type)                              \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .num = (_num), .info = &(_info),  \
        .size = sizeof(_type), .flags = VMS_ARRAY,                                               \
        .offset = VMS_OFFSET_ARRAY(_state, _field, _type, _num),                                 \
    }

#define VMSTATE_2DARRAY(_field, _state, _n1, _n2, _version, _info, _type)                        \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .num = (_n1) * (_n2),             \
        .info = &(_info), .size = sizeof(_type), .flags = VMS_ARRAY,                             \
        .offset = VMS_OFFSET_2DARRAY(_state, _field, _type, _n1, _n2),                           \
    }

#define VMSTATE_VARRAY_MULTIPLY(_field, _state, _field_num, _multiply, _info, _type)             \
    {                                                                                            \
        .name = (stringify(_field)),                                                             \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .num = (_multiply),        \
        .info = &(_info), .size = sizeof(_type),                                                 \
        .flags = VMS_VARRAY_UINT32 | VMS_MULTIPLY_ELEMENTS,                                      \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#if VMSTATE_QEMU_API != 1000 /* QEMU 10.0 removed it */
#define VMSTATE_ARRAY_TEST(_field, _state, _num, _test, _info, _type)                            \
    {                                                                                            \
        .name = (stringify(_field)), .field_exists = (_test), .num = (_num), .info = &(_info),   \
        .size = sizeof(_type), .flags = VMS_ARRAY,                                               \
        .offset = VMS_OFFSET_ARRAY(_state, _field, _type, _num),                                 \
    }
#endif

#define VMSTATE_SUB_ARRAY(_field, _state, _start, _num, _version, _info, _type)                  \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .num = (_num), .info = &(_info),  \
        .size = sizeof(_type), .flags = VMS_ARRAY,                                               \
        .offset = VMS_OFFSET_SUB_ARRAY(_state, _field, _type, _start),                           \
    }

#define VMSTATE_ARRAY_INT32_UNSAFE(_field, _state, _field_num, _info, _type)                     \
    {                                                                                            \
        .name = (stringify(_field)), .num_offset = VMS_OFFSET_VALUE(_state, _field_num, int32_t), \
        .info = &(_info), .size = sizeof(_type), .flags = VMS_VARRAY_INT32,                      \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#define VMSTATE_VARRAY_INT32(_field, _state, _field_num, _version, _info, _type)                 \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, int32_t), .info = &(_info),           \
        .size = sizeof(_type), .flags = VMS_VARRAY_INT32 | VMS_POINTER,                          \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_VARRAY_UINT32(_field, _state, _field_num, _version, _info, _type)                \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .info = &(_info),          \
        .size = sizeof(_type), .flags = VMS_VARRAY_UINT32 | VMS_POINTER,                         \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_VARRAY_UINT32_ALLOC(_field, _state, _field_num, _version, _info, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .info = &(_info),          \
        .size = sizeof(_type), .flags = VMS_VARRAY_UINT32 | VMS_POINTER | VMS_ALLOC,             \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_VARRAY_UINT16_ALLOC(_field, _state, _field_num, _version, _info, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint16_t), .info = &(_info),          \
        .size = sizeof(_type), .flags = VMS_VARRAY_UINT16 | VMS_POINTER | VMS_ALLOC,             \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_VARRAY_UINT16_UNSAFE(_field, _state, _field_num, _version, _info, _type)         \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint16_t), .info = &(_info),          \
        .size = sizeof(_type), .flags = VMS_VARRAY_UINT16,                                       \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#define VMSTATE_VSTRUCT_TEST(_field, _state, _test, _version, _vmsd, _type, _struct_version)     \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .struct_version_id = (_struct_version), .field_exists = (_test), .vmsd = &(_vmsd),       \
        .size = sizeof(_type), .flags = VMS_VSTRUCT,                                             \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_STRUCT_TEST(_field, _state, _test, _version, _vmsd, _type)                       \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .vmsd = &(_vmsd), .size = sizeof(_type), .flags = VMS_STRUCT,                            \
        .offset = VMS_OFFSET_VALUE(_state, _field, _type),                                       \
    }

#define VMSTATE_STRUCT_POINTER_V(_field, _state, _version, _vmsd, _type)                         \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = &(_vmsd),                 \
        .size = sizeof(_type *), .flags = VMS_STRUCT | VMS_POINTER,                              \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_STRUCT_POINTER_TEST_V(_field, _state, _test, _version, _vmsd, _type)             \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .vmsd = &(_vmsd), .size = sizeof(_type *), .flags = VMS_STRUCT | VMS_POINTER,            \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_ARRAY_OF_POINTER(_field, _state, _num, _version, _info, _type)                   \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .num = (_num), .info = &(_info),  \
        .size = sizeof(_type), .flags = VMS_ARRAY | VMS_ARRAY_OF_POINTER,                        \
        .offset = VMS_OFFSET_ARRAY(_state, _field, _type, _num),                                 \
    }

#define VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(_f, _s, _n, _v, _vmsd, _type)                         \
    {                                                                                            \
        .name = (stringify(_f)), .version_id = (_v), .num = (_n), .vmsd = &(_vmsd),              \
        .size = sizeof(_type *), .flags = VMS_ARRAY | VMS_STRUCT | VMS_ARRAY_OF_POINTER,         \
        .offset = VMS_OFFSET_ARRAY(_s, _f, _type *, _n),                                         \
    }

#define VMSTATE_STRUCT_SUB_ARRAY(_field, _state, _start, _num, _version, _vmsd, _type)           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .num = (_num), .vmsd = &(_vmsd),  \
        .size = sizeof(_type), .flags = VMS_STRUCT | VMS_ARRAY,                                  \
        .offset = VMS_OFFSET_SUB_ARRAY(_state, _field, _type, _start),                           \
    }

#define VMSTATE_STRUCT_ARRAY_TEST(_field, _state, _num, _test, _version, _vmsd, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .num = (_num), .field_exists = (_test),                     \
        .version_id = (_version), .vmsd = &(_vmsd), .size = sizeof(_type),                       \
        .flags = VMS_STRUCT | VMS_ARRAY,                                                         \
        .offset = VMS_OFFSET_ARRAY(_state, _field, _type, _num),                                 \
    }

#define VMSTATE_STRUCT_2DARRAY_TEST(_field, _state, _n1, _n2, _test, _version, _vmsd, _type)    \
    {                                                                                            \
        .name = (stringify(_field)), .num = (_n1) * (_n2), .field_exists = (_test),              \
        .version_id = (_version), .vmsd = &(_vmsd), .size = sizeof(_type),                       \
        .flags = VMS_STRUCT | VMS_ARRAY,                                                         \
        .offset = VMS_OFFSET_2DARRAY(_state, _field, _type, _n1, _n2),                           \
    }

#define VMSTATE_STRUCT_VARRAY_UINT8(_field, _state, _field_num, _version, _vmsd, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint8_t), \
        .version_id = (_version), .vmsd = &(_vmsd), .size = sizeof(_type),                       \
        .flags = VMS_STRUCT | VMS_VARRAY_UINT8,                                                  \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#define VMSTATE_STRUCT_VARRAY_POINTER_KNOWN(_field, _state, _num, _version, _vmsd, _type)        \
    {                                                                                            \
        .name = (stringify(_field)), .num = (_num), .version_id = (_version), .vmsd = &(_vmsd),  \
        .size = sizeof(_type), .flags = VMS_STRUCT | VMS_ARRAY | VMS_POINTER,                    \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_STRUCT_VARRAY_POINTER_INT32(_field, _state, _field_num, _vmsd, _type)            \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = 0,                                            \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, int32_t), .size = sizeof(_type),      \
        .vmsd = &(_vmsd), .flags = VMS_POINTER | VMS_VARRAY_INT32 | VMS_STRUCT,                  \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

/* QEMU 7.2 sets VMS_VARRAY_INT32 here although the counter is a uint32_t; kept identical. */
#define VMSTATE_STRUCT_VARRAY_POINTER_UINT32(_field, _state, _field_num, _vmsd, _type)           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = 0,                                            \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .size = sizeof(_type),     \
        .vmsd = &(_vmsd), .flags = VMS_POINTER | VMS_VARRAY_INT32 | VMS_STRUCT,                  \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_STRUCT_VARRAY_POINTER_UINT16(_field, _state, _field_num, _vmsd, _type)           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = 0,                                            \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint16_t), .size = sizeof(_type),     \
        .vmsd = &(_vmsd), .flags = VMS_POINTER | VMS_VARRAY_UINT16 | VMS_STRUCT,                 \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_STRUCT_VARRAY_INT32(_field, _state, _field_num, _version, _vmsd, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .num_offset = VMS_OFFSET_VALUE(_state, _field_num, int32_t), \
        .version_id = (_version), .vmsd = &(_vmsd), .size = sizeof(_type),                       \
        .flags = VMS_STRUCT | VMS_VARRAY_INT32,                                                  \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#define VMSTATE_STRUCT_VARRAY_UINT32(_field, _state, _field_num, _version, _vmsd, _type)         \
    {                                                                                            \
        .name = (stringify(_field)),                                                             \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .version_id = (_version),  \
        .vmsd = &(_vmsd), .size = sizeof(_type), .flags = VMS_STRUCT | VMS_VARRAY_UINT32,        \
        .offset = VMS_OFFSET_VARRAY(_state, _field, _type),                                      \
    }

#define VMSTATE_STRUCT_VARRAY_ALLOC(_field, _state, _field_num, _version, _vmsd, _type)          \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = &(_vmsd),                 \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, int32_t), .size = sizeof(_type),      \
        .flags = VMS_STRUCT | VMS_VARRAY_INT32 | VMS_ALLOC | VMS_POINTER,                        \
        .offset = VMS_OFFSET_POINTER(_state, _field, _type),                                     \
    }

#define VMSTATE_STATIC_BUFFER(_field, _state, _version, _test, _start, _size)                    \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size = (_size - _start), .info = &vmstate_info_buffer, .flags = VMS_BUFFER,             \
        .offset = VMS_OFFSET_BUFFER(_state, _field) + _start,                                    \
    }

#define VMSTATE_VBUFFER_MULTIPLY(_field, _state, _version, _test, _field_size, _multiply)        \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, uint32_t), .size = (_multiply),     \
        .info = &vmstate_info_buffer, .flags = VMS_VBUFFER | VMS_POINTER | VMS_MULTIPLY,         \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_VBUFFER(_field, _state, _version, _test, _field_size)                            \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, int32_t),                           \
        .info = &vmstate_info_buffer, .flags = VMS_VBUFFER | VMS_POINTER,                        \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_VBUFFER_UINT32(_field, _state, _version, _test, _field_size)                     \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, uint32_t),                          \
        .info = &vmstate_info_buffer, .flags = VMS_VBUFFER | VMS_POINTER,                        \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_VBUFFER_ALLOC_UINT32(_field, _state, _version, _test, _field_size)               \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, uint32_t),                          \
        .info = &vmstate_info_buffer, .flags = VMS_VBUFFER | VMS_POINTER | VMS_ALLOC,            \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_BUFFER_UNSAFE_INFO_TEST(_field, _state, _test, _version, _info, _size)           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .field_exists = (_test),          \
        .size = (_size), .info = &(_info), .flags = VMS_BUFFER,                                  \
        .offset = offsetof(_state, _field),                                                      \
    }

#define VMSTATE_BUFFER_POINTER_UNSAFE(_field, _state, _version, _size)                           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .size = (_size),                  \
        .info = &vmstate_info_buffer, .flags = VMS_BUFFER | VMS_POINTER,                         \
        .offset = offsetof(_state, _field),                                                      \
    }

/* `_tmp_type` must start with a member `parent` of type `_state *`. */
#if VMSTATE_QEMU_API == 1000
#define VMSTATE_WITH_TMP_TEST(_state, _test, _tmp_type, _vmsd)                                   \
    {                                                                                            \
        .name = "tmp", .field_exists = (_test),                                                  \
        .size = sizeof(_tmp_type) +                                                              \
                VMS_ZERO_UNLESS(offsetof(_tmp_type, parent) == 0,                                \
                                "VMSTATE_WITH_TMP: parent must be the first member") +           \
                VMS_CHECK_TYPE(_state *, _tmp_type, parent),                                     \
        .vmsd = &(_vmsd), .info = &vmstate_info_tmp,                                             \
    }
#define VMSTATE_WITH_TMP(_state, _tmp_type, _vmsd) VMSTATE_WITH_TMP_TEST(_state, NULL, _tmp_type, _vmsd)
#else
#define VMSTATE_WITH_TMP(_state, _tmp_type, _vmsd)                                               \
    {                                                                                            \
        .name = "tmp",                                                                           \
        .size = sizeof(_tmp_type) +                                                              \
                VMS_ZERO_UNLESS(offsetof(_tmp_type, parent) == 0,                                \
                                "VMSTATE_WITH_TMP: parent must be the first member") +           \
                VMS_CHECK_TYPE(_state *, _tmp_type, parent),                                     \
        .vmsd = &(_vmsd), .info = &vmstate_info_tmp,                                             \
    }
#endif

#define VMSTATE_UNUSED_BUFFER(_test, _version, _size)                                            \
    {                                                                                            \
        .name = "unused", .field_exists = (_test), .version_id = (_version), .size = (_size),    \
        .info = &vmstate_info_unused_buffer, .flags = VMS_BUFFER,                                \
    }

#define VMSTATE_UNUSED_VARRAY_UINT32(_state, _test, _version, _field_num, _size)                 \
    {                                                                                            \
        .name = "unused", .field_exists = (_test),                                               \
        .num_offset = VMS_OFFSET_VALUE(_state, _field_num, uint32_t), .version_id = (_version),  \
        .size = (_size), .info = &vmstate_info_unused_buffer,                                    \
        .flags = VMS_VARRAY_UINT32 | VMS_BUFFER,                                                 \
    }

/* `_field` is an unsigned long * bitmap; `_field_size` (int32_t) is its length in bits. */
#if VMSTATE_QEMU_API == 1000
#define VMSTATE_BITMAP_TEST(_field, _state, _test, _version, _field_size)                        \
    {                                                                                            \
        .name = (stringify(_field)), .field_exists = (_test), .version_id = (_version),          \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, int32_t),                           \
        .info = &vmstate_info_bitmap, .flags = VMS_VBUFFER | VMS_POINTER,                        \
        .offset = offsetof(_state, _field),                                                      \
    }
#define VMSTATE_BITMAP(_field, _state, _version, _field_size)                                    \
    VMSTATE_BITMAP_TEST(_field, _state, NULL, _version, _field_size)
#else
#define VMSTATE_BITMAP(_field, _state, _version, _field_size)                                    \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version),                                   \
        .size_offset = VMS_OFFSET_VALUE(_state, _field_size, int32_t),                           \
        .info = &vmstate_info_bitmap, .flags = VMS_VBUFFER | VMS_POINTER,                        \
        .offset = offsetof(_state, _field),                                                      \
    }
#endif

/* `_field` is a QTAILQ_HEAD of `_type` elements linked through their member `_next`. */
#define VMSTATE_QTAILQ_V(_field, _state, _version, _vmsd, _type, _next)                          \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = &(_vmsd),                 \
        .size = sizeof(_type), .info = &vmstate_info_qtailq, .offset = offsetof(_state, _field), \
        .start = offsetof(_type, _next),                                                         \
    }

/* `_vmsd` is an array: [0] describes the values, [1] the keys. `_field` is a GTree *. */
#define VMSTATE_GTREE_V(_field, _state, _version, _vmsd, _key_type, _val_type)                   \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = (_vmsd),                  \
        .info = &vmstate_info_gtree, .start = sizeof(_key_type), .size = sizeof(_val_type),      \
        .offset = offsetof(_state, _field),                                                      \
    }

/* Keys are the pointer values themselves (GINT_TO_POINTER style), saved as be64. */
#define VMSTATE_GTREE_DIRECT_KEY_V(_field, _state, _version, _vmsd, _val_type)                   \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = (_vmsd),                  \
        .info = &vmstate_info_gtree, .start = 0, .size = sizeof(_val_type),                      \
        .offset = offsetof(_state, _field),                                                      \
    }

/* `_field` is a QLIST_HEAD of `_type` elements linked through their member `_next`. */
#define VMSTATE_QLIST_V(_field, _state, _version, _vmsd, _type, _next)                           \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = (_version), .vmsd = &(_vmsd),                 \
        .size = sizeof(_type), .info = &vmstate_info_qlist, .offset = offsetof(_state, _field),  \
        .start = offsetof(_type, _next),                                                         \
    }

#define VMSTATE_SINGLE(_field, _state, _version, _info, _type)                                   \
    VMSTATE_SINGLE_TEST(_field, _state, NULL, _version, _info, _type)

#define VMSTATE_VSTRUCT_V(_field, _state, _version, _vmsd, _type, _struct_version)               \
    VMSTATE_VSTRUCT_TEST(_field, _state, NULL, _version, _vmsd, _type, _struct_version)
#define VMSTATE_VSTRUCT(_field, _state, _vmsd, _type, _struct_version)                           \
    VMSTATE_VSTRUCT_V(_field, _state, 0, _vmsd, _type, _struct_version)

#define VMSTATE_STRUCT(_field, _state, _version, _vmsd, _type)                                   \
    VMSTATE_STRUCT_TEST(_field, _state, NULL, _version, _vmsd, _type)
#define VMSTATE_STRUCT_POINTER(_field, _state, _vmsd, _type)                                     \
    VMSTATE_STRUCT_POINTER_V(_field, _state, 0, _vmsd, _type)
#define VMSTATE_STRUCT_POINTER_TEST(_field, _state, _test, _vmsd, _type)                         \
    VMSTATE_STRUCT_POINTER_TEST_V(_field, _state, _test, 0, _vmsd, _type)
#define VMSTATE_STRUCT_ARRAY(_field, _state, _num, _version, _vmsd, _type)                       \
    VMSTATE_STRUCT_ARRAY_TEST(_field, _state, _num, NULL, _version, _vmsd, _type)
#define VMSTATE_STRUCT_2DARRAY(_field, _state, _n1, _n2, _version, _vmsd, _type)                 \
    VMSTATE_STRUCT_2DARRAY_TEST(_field, _state, _n1, _n2, NULL, _version, _vmsd, _type)

#define VMSTATE_BUFFER_UNSAFE_INFO(_field, _state, _version, _info, _size)                       \
    VMSTATE_BUFFER_UNSAFE_INFO_TEST(_field, _state, NULL, _version, _info, _size)

/* ---- scalars ------------------------------------------------------------------------------ */

#define VMSTATE_BOOL_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_bool, bool)
#define VMSTATE_INT8_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_int8, int8_t)
#define VMSTATE_INT16_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_int64, int64_t)
#define VMSTATE_UINT8_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint64, uint64_t)

/*
 * The Linux kernel-type forms, for members declared with __u8 .. __u64 (QEMU defines them on
 * Linux only). The type check uses the kernel types themselves: on x86-64 __u64 is
 * `unsigned long long` while uint64_t is `unsigned long`, so checking against uint64_t would
 * reject a correct `__u64` member. Without <linux/types.h> they fall back to uint8_t..uint64_t.
 */
#define VMSTATE_U8_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint8, VMS_KERNEL_U8)
#define VMSTATE_U16_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint16, VMS_KERNEL_U16)
#define VMSTATE_U32_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint32, VMS_KERNEL_U32)
#define VMSTATE_U64_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_uint64, VMS_KERNEL_U64)
#define VMSTATE_U8(_f, _s) VMSTATE_U8_V(_f, _s, 0)
#define VMSTATE_U16(_f, _s) VMSTATE_U16_V(_f, _s, 0)
#define VMSTATE_U32(_f, _s) VMSTATE_U32_V(_f, _s, 0)
#define VMSTATE_U64(_f, _s) VMSTATE_U64_V(_f, _s, 0)

#define VMSTATE_BOOL(_f, _s) VMSTATE_BOOL_V(_f, _s, 0)
#define VMSTATE_INT8(_f, _s) VMSTATE_INT8_V(_f, _s, 0)
#define VMSTATE_INT16(_f, _s) VMSTATE_INT16_V(_f, _s, 0)
#define VMSTATE_INT32(_f, _s) VMSTATE_INT32_V(_f, _s, 0)
#define VMSTATE_INT64(_f, _s) VMSTATE_INT64_V(_f, _s, 0)
#define VMSTATE_UINT8(_f, _s) VMSTATE_UINT8_V(_f, _s, 0)
#define VMSTATE_UINT16(_f, _s) VMSTATE_UINT16_V(_f, _s, 0)
#define VMSTATE_UINT32(_f, _s) VMSTATE_UINT32_V(_f, _s, 0)
#define VMSTATE_UINT64(_f, _s) VMSTATE_UINT64_V(_f, _s, 0)

#define VMSTATE_UINT8_EQUAL(_f, _s, _err_hint)                                                   \
    VMSTATE_SINGLE_FULL(_f, _s, 0, 0, vmstate_info_uint8_equal, uint8_t, _err_hint)
#define VMSTATE_UINT16_EQUAL(_f, _s, _err_hint)                                                  \
    VMSTATE_SINGLE_FULL(_f, _s, 0, 0, vmstate_info_uint16_equal, uint16_t, _err_hint)
#define VMSTATE_UINT16_EQUAL_V(_f, _s, _v, _err_hint)                                            \
    VMSTATE_SINGLE_FULL(_f, _s, 0, _v, vmstate_info_uint16_equal, uint16_t, _err_hint)
#define VMSTATE_INT32_EQUAL(_f, _s, _err_hint)                                                   \
    VMSTATE_SINGLE_FULL(_f, _s, 0, 0, vmstate_info_int32_equal, int32_t, _err_hint)
#define VMSTATE_UINT32_EQUAL_V(_f, _s, _v, _err_hint)                                            \
    VMSTATE_SINGLE_FULL(_f, _s, 0, _v, vmstate_info_uint32_equal, uint32_t, _err_hint)
#define VMSTATE_UINT32_EQUAL(_f, _s, _err_hint) VMSTATE_UINT32_EQUAL_V(_f, _s, 0, _err_hint)
#define VMSTATE_UINT64_EQUAL_V(_f, _s, _v, _err_hint)                                            \
    VMSTATE_SINGLE_FULL(_f, _s, 0, _v, vmstate_info_uint64_equal, uint64_t, _err_hint)
#define VMSTATE_UINT64_EQUAL(_f, _s, _err_hint) VMSTATE_UINT64_EQUAL_V(_f, _s, 0, _err_hint)
#define VMSTATE_INT32_POSITIVE_LE(_f, _s)                                                        \
    VMSTATE_SINGLE(_f, _s, 0, vmstate_info_int32_le, int32_t)

#define VMSTATE_BOOL_TEST(_f, _s, _t) VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_bool, bool)
#define VMSTATE_INT8_TEST(_f, _s, _t) VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_int8, int8_t)
#define VMSTATE_INT16_TEST(_f, _s, _t)                                                           \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_int16, int16_t)
#define VMSTATE_INT32_TEST(_f, _s, _t)                                                           \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_int32, int32_t)
#define VMSTATE_INT64_TEST(_f, _s, _t)                                                           \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_int64, int64_t)
#define VMSTATE_UINT8_TEST(_f, _s, _t)                                                           \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT16_TEST(_f, _s, _t)                                                          \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT32_TEST(_f, _s, _t)                                                          \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT64_TEST(_f, _s, _t)                                                          \
    VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_uint64, uint64_t)

/* ---- file descriptors (QEMU 10.0; see vmstate_info_fd) ---------------------------------- */

#if VMSTATE_QEMU_API == 1000
#define VMSTATE_FD_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_fd, int32_t)
#define VMSTATE_FD(_f, _s) VMSTATE_FD_V(_f, _s, 0)
#define VMSTATE_FD_TEST(_f, _s, _t) VMSTATE_SINGLE_TEST(_f, _s, _t, 0, vmstate_info_fd, int32_t)
#endif

/* ---- timers ------------------------------------------------------------------------------- */

#define VMSTATE_TIMER_PTR_TEST(_f, _s, _test)                                                    \
    VMSTATE_POINTER_TEST(_f, _s, _test, vmstate_info_timer, QEMUTimer *)
#define VMSTATE_TIMER_PTR_V(_f, _s, _v) VMSTATE_POINTER(_f, _s, _v, vmstate_info_timer, QEMUTimer *)
#define VMSTATE_TIMER_PTR(_f, _s) VMSTATE_TIMER_PTR_V(_f, _s, 0)
#define VMSTATE_TIMER_PTR_ARRAY(_f, _s, _n)                                                      \
    VMSTATE_ARRAY_OF_POINTER(_f, _s, _n, 0, vmstate_info_timer, QEMUTimer *)
#define VMSTATE_TIMER_TEST(_f, _s, _test)                                                        \
    VMSTATE_SINGLE_TEST(_f, _s, _test, 0, vmstate_info_timer, QEMUTimer)
#define VMSTATE_TIMER_V(_f, _s, _v) VMSTATE_SINGLE(_f, _s, _v, vmstate_info_timer, QEMUTimer)
#define VMSTATE_TIMER(_f, _s) VMSTATE_TIMER_V(_f, _s, 0)
#define VMSTATE_TIMER_ARRAY(_f, _s, _n)                                                          \
    VMSTATE_ARRAY(_f, _s, _n, 0, vmstate_info_timer, QEMUTimer)

/* ---- arrays ------------------------------------------------------------------------------- */

#define VMSTATE_BOOL_ARRAY_V(_f, _s, _n, _v) VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_bool, bool)
#define VMSTATE_BOOL_ARRAY(_f, _s, _n) VMSTATE_BOOL_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_BOOL_SUB_ARRAY(_f, _s, _start, _num)                                             \
    VMSTATE_SUB_ARRAY(_f, _s, _start, _num, 0, vmstate_info_bool, bool)

#define VMSTATE_UINT16_ARRAY_V(_f, _s, _n, _v)                                                   \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT16_2DARRAY_V(_f, _s, _n1, _n2, _v)                                           \
    VMSTATE_2DARRAY(_f, _s, _n1, _n2, _v, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT16_ARRAY(_f, _s, _n) VMSTATE_UINT16_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_UINT16_SUB_ARRAY(_f, _s, _start, _num)                                           \
    VMSTATE_SUB_ARRAY(_f, _s, _start, _num, 0, vmstate_info_uint16, uint16_t)
#define VMSTATE_UINT16_2DARRAY(_f, _s, _n1, _n2) VMSTATE_UINT16_2DARRAY_V(_f, _s, _n1, _n2, 0)

#define VMSTATE_UINT8_2DARRAY_V(_f, _s, _n1, _n2, _v)                                            \
    VMSTATE_2DARRAY(_f, _s, _n1, _n2, _v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT8_ARRAY_V(_f, _s, _n, _v)                                                    \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT8_ARRAY(_f, _s, _n) VMSTATE_UINT8_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_UINT8_SUB_ARRAY(_f, _s, _start, _num)                                            \
    VMSTATE_SUB_ARRAY(_f, _s, _start, _num, 0, vmstate_info_uint8, uint8_t)
#define VMSTATE_UINT8_2DARRAY(_f, _s, _n1, _n2) VMSTATE_UINT8_2DARRAY_V(_f, _s, _n1, _n2, 0)

#define VMSTATE_UINT32_ARRAY_V(_f, _s, _n, _v)                                                   \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT32_2DARRAY_V(_f, _s, _n1, _n2, _v)                                           \
    VMSTATE_2DARRAY(_f, _s, _n1, _n2, _v, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT32_ARRAY(_f, _s, _n) VMSTATE_UINT32_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_UINT32_SUB_ARRAY(_f, _s, _start, _num)                                           \
    VMSTATE_SUB_ARRAY(_f, _s, _start, _num, 0, vmstate_info_uint32, uint32_t)
#define VMSTATE_UINT32_2DARRAY(_f, _s, _n1, _n2) VMSTATE_UINT32_2DARRAY_V(_f, _s, _n1, _n2, 0)

#define VMSTATE_UINT64_ARRAY_V(_f, _s, _n, _v)                                                   \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_uint64, uint64_t)
#define VMSTATE_UINT64_ARRAY(_f, _s, _n) VMSTATE_UINT64_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_UINT64_SUB_ARRAY(_f, _s, _start, _num)                                           \
    VMSTATE_SUB_ARRAY(_f, _s, _start, _num, 0, vmstate_info_uint64, uint64_t)
#define VMSTATE_UINT64_2DARRAY_V(_f, _s, _n1, _n2, _v)                                           \
    VMSTATE_2DARRAY(_f, _s, _n1, _n2, _v, vmstate_info_uint64, uint64_t)
#define VMSTATE_UINT64_2DARRAY(_f, _s, _n1, _n2) VMSTATE_UINT64_2DARRAY_V(_f, _s, _n1, _n2, 0)

#define VMSTATE_INT16_ARRAY_V(_f, _s, _n, _v)                                                    \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_int16, int16_t)
#define VMSTATE_INT16_ARRAY(_f, _s, _n) VMSTATE_INT16_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_INT32_ARRAY_V(_f, _s, _n, _v)                                                    \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_int32, int32_t)
#define VMSTATE_INT32_ARRAY(_f, _s, _n) VMSTATE_INT32_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_INT64_ARRAY_V(_f, _s, _n, _v)                                                    \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_int64, int64_t)
#define VMSTATE_INT64_ARRAY(_f, _s, _n) VMSTATE_INT64_ARRAY_V(_f, _s, _n, 0)

#define VMSTATE_CPUDOUBLE_ARRAY_V(_f, _s, _n, _v)                                                \
    VMSTATE_ARRAY(_f, _s, _n, _v, vmstate_info_cpudouble, CPU_DoubleU)
#define VMSTATE_CPUDOUBLE_ARRAY(_f, _s, _n) VMSTATE_CPUDOUBLE_ARRAY_V(_f, _s, _n, 0)

/* ---- buffers ------------------------------------------------------------------------------ */

#define VMSTATE_BUFFER_V(_f, _s, _v)                                                             \
    VMSTATE_STATIC_BUFFER(_f, _s, _v, NULL, 0, sizeof(VMS_FIELD_TYPE(_s, _f)))
#define VMSTATE_BUFFER(_f, _s) VMSTATE_BUFFER_V(_f, _s, 0)
#define VMSTATE_PARTIAL_BUFFER(_f, _s, _size) VMSTATE_STATIC_BUFFER(_f, _s, 0, NULL, 0, _size)
#define VMSTATE_BUFFER_START_MIDDLE_V(_f, _s, _start, _v)                                        \
    VMSTATE_STATIC_BUFFER(_f, _s, _v, NULL, _start, sizeof(VMS_FIELD_TYPE(_s, _f)))
#define VMSTATE_BUFFER_START_MIDDLE(_f, _s, _start) VMSTATE_BUFFER_START_MIDDLE_V(_f, _s, _start, 0)
#define VMSTATE_PARTIAL_VBUFFER(_f, _s, _size) VMSTATE_VBUFFER(_f, _s, 0, NULL, _size)
#define VMSTATE_PARTIAL_VBUFFER_UINT32(_f, _s, _size) VMSTATE_VBUFFER_UINT32(_f, _s, 0, NULL, _size)
#define VMSTATE_BUFFER_TEST(_f, _s, _test)                                                       \
    VMSTATE_STATIC_BUFFER(_f, _s, 0, _test, 0, sizeof(VMS_FIELD_TYPE(_s, _f)))
#define VMSTATE_BUFFER_UNSAFE(_field, _state, _version, _size)                                   \
    VMSTATE_BUFFER_UNSAFE_INFO(_field, _state, _version, vmstate_info_buffer, _size)

#define VMSTATE_UNUSED_V(_v, _size) VMSTATE_UNUSED_BUFFER(NULL, _v, _size)
#define VMSTATE_UNUSED(_size) VMSTATE_UNUSED_V(0, _size)
#define VMSTATE_UNUSED_TEST(_test, _size) VMSTATE_UNUSED_BUFFER(_test, 0, _size)

#if VMSTATE_QEMU_API == 1000
#define VMSTATE_END_OF_LIST() {.flags = VMS_END}
#else
#define VMSTATE_END_OF_LIST() {0}
#endif

/*
 * QEMU's container_of() (qemu/osdep.h): the address of the `type` whose `member` is at `ptr`.
 * QEMU's custom VMStateInfo get/put functions reach their device with it from the field's
 * address (`PCIDevice *s = container_of(pv, PCIDevice, config)`). A `ptr` of another pointer
 * type than `member`'s (not void *) is a compiler diagnostic, as in QEMU.
 */
#ifndef container_of
#define container_of(ptr, type, member)                                                             \
    ((type *)(void *)((char *)(1 ? (ptr) : &((type *)0)->member) - offsetof(type, member)))
#endif

/*
 * QEMU's ARRAY_SIZE() (qemu/osdep.h): the number of elements of the array `x`, which hooks
 * copied from QEMU use (pl011's post_load bounds its FIFO with it). As QEMU's, a pointer in its
 * place (a struct ported with a pointer where QEMU has an array) is a compile error, not a bound
 * of sizeof(pointer) / sizeof(element).
 */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(x)                                                                              \
    (G_N_ELEMENTS(x) +                                                                             \
     VMS_ZERO_UNLESS(!__builtin_types_compatible_p(__typeof__(x), __typeof__(&(x)[0])),           \
                     "ARRAY_SIZE: not an array"))
#endif

/*
 * QEMU's DIV_ROUND_UP() (qemu/osdep.h): `n` divided by `d`, rounded up, for non-negative `n`
 * and positive `d`. Tables copied from QEMU size arrays with it (arm_gicv3's per-32-IRQ
 * bitmaps: DIV_ROUND_UP(GICV3_MAXIRQ - GIC_INTERNAL, 32)).
 */
#ifndef DIV_ROUND_UP
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#endif

/* QEMU's stringify(), used by the macros for field names. */
#ifndef stringify
#define vms_xstringify_(s) #s
#define stringify(s) vms_xstringify_(s)
#endif

#ifdef __cplusplus
}
#endif

#include "migration/vmstate-registry.h"
#include "migration/vmstate-schema.h"

#endif
