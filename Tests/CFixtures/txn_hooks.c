/* See include/txn_fixtures.h. */
#include "migration/vmstate.h"
#include "migration/vmstate-registry.h"
#include "txn_fixtures.h"

#include <glib.h>
#include <errno.h>
#include <string.h>

static int txn_pre_load(void *opaque)
{
    TxnBuf *s = opaque;
    vmstate_free_after_load(s->buf);
    s->buf = NULL;
    return 0;
}

const VMStateDescription vmstate_txn_buf = {
    .name = "txn-buf",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = txn_pre_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, TxnBuf),
        VMSTATE_VBUFFER_ALLOC_UINT32(buf, TxnBuf, 0, NULL, n),
        VMSTATE_UINT32(tail, TxnBuf),
        VMSTATE_END_OF_LIST(),
    },
};

void txn_buf_init(TxnBuf *s, const uint8_t *bytes, uint32_t n, uint32_t tail)
{
    s->n = n;
    s->buf = g_memdup2(bytes, n);
    s->tail = tail;
}

void txn_buf_clear(TxnBuf *s)
{
    g_free(s->buf);
    s->buf = NULL;
}

bool txn_load_checked(TxnBuf *s, const uint8_t *bytes, size_t len)
{
    return txn_load_checked_flags(s, bytes, len, VMSTATE_LOAD_TRANSACTIONAL);
}

bool txn_load_checked_flags(TxnBuf *s, const uint8_t *bytes, size_t len, unsigned flags)
{
    GBytes *in = g_bytes_new(bytes, len);
    GError *err = NULL;
    bool ok = vmstate_load_checked(&vmstate_txn_buf, s, sizeof *s, 1, in, flags, &err);
    g_clear_error(&err);
    g_bytes_unref(in);
    return ok;
}

/* Loads `bytes` transactionally into `reg` when `ok` (its devices were added), copies the error's
 * message (or "") into `message`, frees `err` and `reg`. */
static bool txn_registry_finish(VMStateRegistry *reg, bool ok, GError *err, const uint8_t *bytes, size_t len,
                                char *message, size_t cap)
{
    if (ok) {
        GBytes *in = g_bytes_new(bytes, len);
        ok = vmstate_registry_load(reg, in, VMSTATE_LOAD_TRANSACTIONAL, &err);
        g_bytes_unref(in);
    }
    if (message && cap) {
        g_strlcpy(message, err ? err->message : "", cap);
    }
    g_clear_error(&err);
    vmstate_registry_free(reg);
    return ok;
}

bool txn_registry_load(TxnBuf *a, bool a_sized, TxnBuf *b, const uint8_t *bytes, size_t len, char *message,
                       size_t cap)
{
    VMStateRegistry *reg = vmstate_registry_new();
    GError *err = NULL;
    bool ok = (a_sized ? vmstate_registry_add_sized(reg, "txn-a", 0, &vmstate_txn_buf, a, sizeof *a, &err)
                       : vmstate_registry_add(reg, "txn-a", 0, &vmstate_txn_buf, a, &err)) &&
              vmstate_registry_add_sized(reg, "txn-b", 0, &vmstate_txn_buf, b, sizeof *b, &err);
    return txn_registry_finish(reg, ok, err, bytes, len, message, cap);
}

static int txn_outer_post_load(void *opaque, int version_id)
{
    TxnOuter *o = opaque;
    (void)version_id;
    return txn_load_checked_flags(&o->inner, o->inner_bytes, o->inner_len,
                                  o->inner_plain ? 0 : VMSTATE_LOAD_TRANSACTIONAL)
               ? 0
               : -EINVAL;
}

const VMStateDescription vmstate_txn_outer = {
    .name = "txn-outer",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = txn_outer_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, TxnOuter),
        VMSTATE_END_OF_LIST(),
    },
};

bool txn_outer_load_checked(TxnOuter *o, const uint8_t *bytes, size_t len)
{
    GBytes *in = g_bytes_new(bytes, len);
    GError *err = NULL;
    bool ok = vmstate_load_checked(&vmstate_txn_outer, o, sizeof *o, 1, in, VMSTATE_LOAD_TRANSACTIONAL, &err);
    g_clear_error(&err);
    g_bytes_unref(in);
    return ok;
}

static int txn_taken_post_load(void *opaque, int version_id)
{
    TxnTaken *t = opaque;
    (void)version_id;
    for (uint32_t i = 0; i < t->n; i++) {
        t->sum += t->buf[i];
    }
    g_free(t->buf);
    t->buf = NULL;
    t->n = 0;
    return 0;
}

const VMStateDescription vmstate_txn_taken = {
    .name = "txn-taken",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = txn_taken_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, TxnTaken),
        VMSTATE_VBUFFER_ALLOC_UINT32(buf, TxnTaken, 0, NULL, n),
        VMSTATE_END_OF_LIST(),
    },
};

bool txn_taken_registry_load(TxnTaken *t, TxnBuf *b, const uint8_t *bytes, size_t len, char *message,
                             size_t cap)
{
    VMStateRegistry *reg = vmstate_registry_new();
    GError *err = NULL;
    bool ok = vmstate_registry_add_sized(reg, "txn-taken", 0, &vmstate_txn_taken, t, sizeof *t, &err) &&
              vmstate_registry_add_sized(reg, "txn-b", 0, &vmstate_txn_buf, b, sizeof *b, &err);
    return txn_registry_finish(reg, ok, err, bytes, len, message, cap);
}
