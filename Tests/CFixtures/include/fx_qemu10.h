/*
 * A device described the way a QEMU 10.0 device author writes it (Tests/CFixtures/qemu10/
 * fx_qemu10.c defines VMSTATE_QEMU_API 1000 before its first include): early_setup, VMS_END
 * lists, const subsection arrays, VMSTATE_BITMAP_TEST, VMSTATE_WITH_TMP_TEST, VMSTATE_FD_TEST,
 * arrays of pointers with NULL entries; plus small tables for QEMU 10.0's error rules. The
 * functions below run the QEMU 10.0 C API on them, so tests see what a 10.0 C caller sees.
 * This header itself has no 10.0-only types (Swift imports it with the default API).
 */
#ifndef FX_QEMU10_H
#define FX_QEMU10_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migration/vmstate.h"

/* What fx10_save_case and fx10_load_case run. */
typedef enum {
    FX10_DEVICE = 0,        /* the device "q10dev" (its state: fx10_device_reset) */
    FX10_DEVICE_FD,         /* the device with its VMSTATE_FD_TEST field present */
    FX10_PRE_SAVE_FAILS,    /* "top": pre_save returns -7 */
    FX10_PUT_FAILS,         /* "top": a custom put returns -EINVAL */
    FX10_PUT_POSITIVE,      /* "top": a custom put returns 1 (QEMU 10.0 crashes with errp) */
    FX10_STRUCT_FAILS,      /* "top": a VMS_STRUCT element whose pre_save returns -7 (ditto) */
    FX10_VSTRUCT_FAILS,     /* "top": a VMS_VSTRUCT element whose custom put returns -EINVAL */
    FX10_POST_SAVE_FAILS,   /* "top": post_save returns -3 */
    FX10_SUBSECTION_FAILS,  /* "top": a needed subsection whose pre_save returns -7 */
    FX10_ELEMSUB,           /* "elemsub": uint32 v + always-needed subsection "elemsub/s" */
    FX10_TMP_FAILS,         /* "top": a VMSTATE_WITH_TMP whose description's pre_save returns -7 */
    FX10_POSITIVE_SUB,      /* "pos": uint8 in[2] of "posin" (uint8 a + subsection "posin/s": uint8 b,
                               whose post_load returns 5), then uint8 x */
} Fx10Case;
/* The state FX10_POSITIVE_SUB loads into: "in0=A/B in1=A/B x=X" (g_free it). */
char *fx10_positive_summary(void);

/* The device's state back to its fixed values (pointer arrays: P N N P and N P N). */
void fx10_device_reset(void);
/* The device's state all zero but for its pointer arrays (the same NULL pattern, zeroed
 * elements) and its bitmap (zeroed, 70 bits), ready to be loaded into. */
void fx10_device_clear(void);
/* The device's description and state (for Swift: the 7.2 dialect on the same table). */
const VMStateDescription *fx10_device_vmsd(void);
/* vmstate_dump_schema of "q10dev" called from this QEMU 10.0 file (its _v1000 symbol: QEMU
 * 10.0's -dump-vmstate format), machine "pc-i440fx-10.0"; g_free the text. */
char *fx10_dump_schema(GError **error);
void *fx10_device_state(void);
/* A one-line summary of the device's state ("id=... regs=... ..."), g_free it. */
char *fx10_device_summary(void);
/* QEMU 10.0's VMSTATE_FD field of the device (-1 after a failed load). */
int32_t fx10_device_fd(void);

/*
 * Saves `which` with vmstate_save_state_with_err (or vmstate_save_state when `with_errp` is
 * false) into a new output file, describing it into a JSONWriter object. Returns the save's
 * result; `*out` gets the bytes (g_byte_array_unref), `*vmdesc` the JSON ("" after a failure;
 * g_free), `*error` the
 * Error's message or NULL (g_free), `*file_error` qemu_file_get_error after the save.
 */
int fx10_save_case(Fx10Case which, bool with_errp, GByteArray **out, char **vmdesc, char **error,
                   int *file_error);
/* Loads `which` at `version_id` from `len` bytes with vmstate_load_state (QEMU 10.0's); after
 * it `*file_error` is qemu_file_get_error and `*remaining` the unread bytes. FX10_DEVICE and
 * FX10_DEVICE_FD load into the device (fx10_device_clear first). */
int fx10_load_case(Fx10Case which, const uint8_t *bytes, size_t len, int version_id, int *file_error,
                   size_t *remaining);
/* The same load through QEMU 7.2's vmstate_load_state (the table is the same bytes). */
int fx10_load_case_72(Fx10Case which, const uint8_t *bytes, size_t len, int version_id, int *file_error,
                      size_t *remaining);

/*
 * QEMU 10.0's notes harness patterns: a description "dev" with one field `p`, an array of
 * `strlen(pattern)` (2..4) pointers to Elem ('P': element i with v = 0x11 * (i + 1), 'N': NULL),
 * of "elem" (compressible) or "elemsub" (not: it has a subsection). Saved with
 * vmstate_save_state_with_err into an object of a JSONWriter. Returns the result.
 */
int fx10_save_pattern(const char *pattern, bool compressible, GByteArray **out, char **vmdesc);

/* offsetof VMStateDescription's unmigratable, early_setup, version_id, subsections and
 * sizeof(VMStateDescription), as the QEMU 10.0 API lays it out (5 values). */
void fx10_layout(size_t out[5]);
/* The flags of the device's VMSTATE_END_OF_LIST() entry (QEMU 10.0: VMS_END). */
uint32_t fx10_end_of_list_flags(void);
/* Whether vmstate_section_needed says the device's subsection is needed (has_extra). */
bool fx10_extra_needed(bool has_extra);
/* A QEMU 10.0 table with an unconditional VMSTATE_FD field ("fd_dev"/fd), for lint. */
const VMStateDescription *fx10_fd_vmsd(void);
/* A QEMU 10.0 table ("noend_dev") whose subsection's field list ends with {}, for lint. */
const VMStateDescription *fx10_noend_vmsd(void);
/* vmstate_info_fd's put and get called directly by C (a custom info may): returns the put's
 * result; the get's result, the value it stores and both files' errors through the pointers. */
int fx10_fd_info_direct(int *get_ret, int32_t *value, int *get_file_error, int *put_file_error);
/* The indexes ("i;") of QEMU 10.0's new macros (VMSTATE_FD, _FD_V, _FD_TEST, _BITMAP_TEST,
 * _BITMAP, _WITH_TMP_TEST, _WITH_TMP, END_OF_LIST) whose field differs from the one written out
 * by hand from QEMU 10.0's header; "" when all agree (g_free). */
char *fx10_macro_mismatches(void);
/* error_setg / error_prepend / error_propagate / error_setg_errno round, as text (g_free). */
char *fx10_error_api_demo(void);

/* Registers the device "q10dev" (early_setup, sized) in `reg` through vmstate_registry_add_sized
 * as a QEMU 10.0 file calls it (the _v1000 symbol), and with `with_unmigratable` also
 * "q10blocked", a QEMU 10.0 table with `unmigratable = true`. */
typedef struct VMStateRegistry VMStateRegistry;
bool fx10_register(VMStateRegistry *reg, bool with_unmigratable, GError **error);
/* Registers "q10early", a plain early-setup device (a uint32 and a uint64), in `reg`; with
 * `with_priority` also "q10early-first", the same with priority MIG_PRI_VIRTIO_MEM. */
bool fx10_register_early(VMStateRegistry *reg, bool with_priority, GError **error);
/* "q10blocked"'s description. */
const VMStateDescription *fx10_blocked_vmsd(void);

#endif
