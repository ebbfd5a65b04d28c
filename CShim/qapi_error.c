/*
 * QEMU's Error (qapi/error.h): one message per Error, in a small struct of this library's own.
 * The engine sets an Error through vmstate_error_set_message (vmstate-internal.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmstate-internal.h"

struct Error {
    char *msg;
};

/* The addresses are what matters: error_abort and error_fatal stay NULL. */
Error *error_abort;
Error *error_fatal;

/* Sets *errp to an Error owning `msg` (a g_malloc'ed string), honouring NULL, error_abort,
 * error_fatal and an Error already set. */
static void set_owned(Error **errp, char *msg) {
    if (errp == &error_abort || errp == &error_fatal) {
        g_printerr("%s\n", msg);
        g_free(msg);
        if (errp == &error_abort) {
            abort();
        }
        exit(1);
    }
    if (errp == NULL) {
        g_free(msg);
        return;
    }
    if (*errp != NULL) {
        g_printerr("error_setg: an Error is already set (\"%s\"); dropping \"%s\"\n", (*errp)->msg, msg);
        g_free(msg);
        return;
    }
    Error *err = g_new0(Error, 1);
    err->msg = msg;
    *errp = err;
}

void error_setg(Error **errp, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    set_owned(errp, msg);
}

void error_setg_errno(Error **errp, int os_errno, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *text = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *msg = g_strdup_printf("%s: %s", text, g_strerror(os_errno));
    g_free(text);
    set_owned(errp, msg);
}

void error_prepend(Error *const *errp, const char *fmt, ...) {
    if (errp == NULL || *errp == NULL) {
        return; /* QEMU 10.0 dereferences a NULL *errp here; this does nothing instead */
    }
    va_list ap;
    va_start(ap, fmt);
    char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *msg = g_strconcat(prefix, (*errp)->msg, NULL);
    g_free(prefix);
    g_free((*errp)->msg);
    (*errp)->msg = msg;
}

void error_propagate(Error **dst_errp, Error *local_err) {
    if (local_err == NULL) {
        return;
    }
    if (dst_errp == &error_abort || dst_errp == &error_fatal) {
        char *msg = local_err->msg;
        g_free(local_err);
        set_owned(dst_errp, msg);
        return;
    }
    if (dst_errp == NULL || *dst_errp != NULL) {
        error_free(local_err);
        return;
    }
    *dst_errp = local_err;
}

void error_free(Error *err) {
    if (err) {
        g_free(err->msg);
        g_free(err);
    }
}

const char *error_get_pretty(const Error *err) {
    return err ? err->msg : NULL;
}

void error_report_err(Error *err) {
    if (err) {
        g_printerr("%s\n", err->msg);
        error_free(err);
    }
}

void vmstate_error_set_message(Error **errp, const char *msg) {
    set_owned(errp, g_strdup(msg ? msg : ""));
}

void vmstate_log_critical(const char *message)
{
    g_log("swift-vmstate", G_LOG_LEVEL_CRITICAL, "%s", message);
}
