/*
 * swift-vmstate: QEMU's Error, for the QEMU 10.0 API (vmstate_save_state_v and
 * vmstate_save_state_with_err take an `Error **errp`). Usable from either API.
 *
 * An Error holds one message (what error_get_pretty returns). As in QEMU, every function taking
 * `Error **errp` does nothing to it when `errp` is NULL, `*errp` must be NULL before an error is
 * set, and the caller owns the Error it receives (free it with error_free, or hand it to
 * error_report_err or error_propagate). `&error_abort` and `&error_fatal` may be passed as `errp`:
 * setting an error through them prints the message on stderr, then abort() or exit(1).
 *
 * Differences from QEMU (documented in docs/C-API.md, "The QEMU 10.0 API"): error_setg is a
 * function, not a macro recording the source position; hints and error_warn are not provided;
 * error_setg with `*errp` already set keeps the first Error and prints a warning instead of
 * asserting; error_prepend with `*errp` NULL does nothing (QEMU 10.0 dereferences it).
 */
#ifndef SWIFT_VMSTATE_QAPI_ERROR_H
#define SWIFT_VMSTATE_QAPI_ERROR_H

#include <glib.h>

#ifdef __cplusplus
extern "C" {
#endif

/** QEMU's opaque error: a message (own struct, not a GError). */
typedef struct Error Error;

/** Pass `&error_abort` as `errp` to abort() when an error is set (message on stderr first). */
extern Error *error_abort;
/** Pass `&error_fatal` as `errp` to exit(1) when an error is set (message on stderr first). */
extern Error *error_fatal;

/** Sets `*errp` to a new Error whose message is the printf-style `fmt` with its arguments. */
void error_setg(Error **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/** As error_setg, then ": " and strerror(`os_errno`) appended, as QEMU's. */
void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/** Puts the printf-style `fmt` text in front of `*errp`'s message; nothing when `errp` or
 *  `*errp` is NULL. */
void error_prepend(Error *const *errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/** Moves `local_err` into `*dst_errp` (then owned by the caller); frees it when `dst_errp` is
 *  NULL or `*dst_errp` is already set; nothing when `local_err` is NULL. */
void error_propagate(Error **dst_errp, Error *local_err);
/** Frees `err` and its message; NULL is allowed. */
void error_free(Error *err);
/** The message of `err`, owned by it (valid until error_free). */
const char *error_get_pretty(const Error *err);
/** Prints `err`'s message and a newline on stderr (g_printerr), then frees it; NULL is allowed. */
void error_report_err(Error *err);

#ifdef __cplusplus
}
#endif

#endif
