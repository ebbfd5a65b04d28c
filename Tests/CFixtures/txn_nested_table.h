/*
 * A device loaded the way QEMU loads its virtio devices: VMSTATE_VIRTIO_DEVICE is a custom
 * VMStateInfo whose get (virtio_load) runs vmstate_load_state on the device's own table. Here
 * that nested table inserts into a GTree (direct keys, values the engine allocates, as
 * virtio-iommu's domains), allocates an array (VMSTATE_VARRAY_UINT32_ALLOC) and list elements
 * (VMSTATE_QLIST_V), and its post_load indexes the list elements in a second GTree (as
 * virtio-iommu's iommu_post_load fills `endpoints`), asking vmstate_load_on_rollback to take
 * them out again when `undo_index` is set; a field of the outer table after it
 * (VMSTATE_UINT32_EQUAL `tail`) fails the load when the stream's value differs. Included by txn_nested.c (QEMU 7.2 API) and
 * qemu10/txn_nested10.c (QEMU 10.0 API) with TXN_NESTED(name) naming the functions
 * (include/txn_fixtures.h declares both sets).
 */
#include "migration/vmstate.h"
#include "qemu/queue.h"
#include "txn_fixtures.h"

#include <glib.h>
#include <string.h>

typedef struct TxnNestedElem {
    uint32_t v;
    QLIST_ENTRY(TxnNestedElem) next;
} TxnNestedElem;

typedef struct TxnNestedDom {
    uint32_t id;
    uint32_t mark;
} TxnNestedDom;

struct TxnNested {
    uint32_t magic;
    GTree *domains; /* GUINT_TO_POINTER(id) -> TxnNestedDom * (g_free'd by the tree) */
    uint32_t n;
    uint32_t *tab; /* n entries */
    QLIST_HEAD(, TxnNestedElem) elems;
    GTree *by_value; /* GUINT_TO_POINTER(v) -> an element of `elems` (not owned) */
    bool undo_index;
    uint32_t tail;
};

/* vmstate_load_on_rollback's function: the elements the load indexed, out of the index again
 * (the list still holds them when it is called). */
static void txn_nested_unindex(void *opaque)
{
    TxnNested *s = opaque;
    TxnNestedElem *e;
    QLIST_FOREACH(e, &s->elems, next) {
        g_tree_remove(s->by_value, GUINT_TO_POINTER(e->v));
    }
}

static int txn_nested_post_load(void *opaque, int version_id)
{
    TxnNested *s = opaque;
    TxnNestedElem *e;
    (void)version_id;
    QLIST_FOREACH(e, &s->elems, next) {
        g_tree_insert(s->by_value, GUINT_TO_POINTER(e->v), e);
    }
    if (s->undo_index) {
        vmstate_load_on_rollback(txn_nested_unindex, s);
    }
    return 0;
}

static const VMStateDescription txn_nested_dom_vmsd = {
    .name = "txn-nested-dom",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(id, TxnNestedDom),
        VMSTATE_UINT32(mark, TxnNestedDom),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription txn_nested_elem_vmsd = {
    .name = "txn-nested-elem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, TxnNestedElem),
        VMSTATE_END_OF_LIST(),
    },
};

/* The device's own table, which the custom get loads (QEMU: vdc->vmsd). */
static const VMStateDescription txn_nested_inner_vmsd = {
    .name = "txn-nested-inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = txn_nested_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(magic, TxnNested),
        VMSTATE_GTREE_DIRECT_KEY_V(domains, TxnNested, 1, &txn_nested_dom_vmsd, TxnNestedDom),
        VMSTATE_UINT32(n, TxnNested),
        VMSTATE_VARRAY_UINT32_ALLOC(tab, TxnNested, n, 0, vmstate_info_uint32, uint32_t),
        VMSTATE_QLIST_V(elems, TxnNested, 1, txn_nested_elem_vmsd, TxnNestedElem, next),
        VMSTATE_END_OF_LIST(),
    },
};

static int txn_nested_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    (void)size;
    (void)field;
    return vmstate_load_state(f, &txn_nested_inner_vmsd, pv, 1);
}

static int txn_nested_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc)
{
    (void)size;
    (void)field;
    return vmstate_save_state(f, &txn_nested_inner_vmsd, pv, vmdesc);
}

static const VMStateInfo txn_nested_info = {
    .name = "virtio",
    .get = txn_nested_get,
    .put = txn_nested_put,
};

static const VMStateDescription txn_nested_vmsd = {
    .name = "txn-nested",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        /* VMSTATE_VIRTIO_DEVICE's shape */
        {.name = "virtio", .info = &txn_nested_info, .flags = VMS_SINGLE},
        VMSTATE_UINT32_EQUAL(tail, TxnNested, NULL),
        VMSTATE_END_OF_LIST(),
    },
};

static gint txn_nested_compare(gconstpointer a, gconstpointer b, gpointer user_data)
{
    (void)user_data;
    guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
    return (x > y) - (x < y);
}

TxnNested *TXN_NESTED(new)(uint32_t tail)
{
    TxnNested *s = g_new0(TxnNested, 1);
    s->domains = g_tree_new_full(txn_nested_compare, NULL, NULL, g_free);
    s->by_value = g_tree_new_full(txn_nested_compare, NULL, NULL, NULL);
    QLIST_INIT(&s->elems);
    s->tail = tail;
    return s;
}

void TXN_NESTED(free)(TxnNested *s)
{
    g_tree_destroy(s->domains);
    g_tree_destroy(s->by_value);
    g_free(s->tab);
    while (!QLIST_EMPTY(&s->elems)) {
        TxnNestedElem *e = QLIST_FIRST(&s->elems);
        QLIST_REMOVE(e, next);
        g_free(e);
    }
    g_free(s);
}

void TXN_NESTED(set_undo_index)(TxnNested *s, bool undo)
{
    s->undo_index = undo;
}

void TXN_NESTED(add_domain)(TxnNested *s, uint32_t id, uint32_t mark)
{
    TxnNestedDom *d = g_new0(TxnNestedDom, 1);
    d->id = id;
    d->mark = mark;
    g_tree_insert(s->domains, GUINT_TO_POINTER(id), d);
}

size_t TXN_NESTED(saved)(uint32_t count, uint32_t mark, uint32_t tail, uint8_t *out, size_t cap)
{
    TxnNested *s = TXN_NESTED(new)(tail);
    s->magic = 0x5eed;
    s->n = count;
    s->tab = g_new0(uint32_t, count ? count : 1);
    for (uint32_t i = count; i > 0; i--) {
        TXN_NESTED(add_domain)(s, i, mark);
        s->tab[i - 1] = 100 + i;
        TxnNestedElem *e = g_new0(TxnNestedElem, 1);
        e->v = i;
        QLIST_INSERT_HEAD(&s->elems, e, next);
    }
    GByteArray *bytes = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(bytes);
    int rc = vmstate_save_state(f, &txn_nested_vmsd, s, NULL);
    qemu_fclose(f);
    size_t len = rc == 0 && bytes->len <= cap ? bytes->len : 0;
    if (len) {
        memcpy(out, bytes->data, len);
    }
    g_byte_array_unref(bytes);
    TXN_NESTED(free)(s);
    return len;
}

bool TXN_NESTED(load)(TxnNested *s, const uint8_t *bytes, size_t len, unsigned flags, char *message, size_t cap)
{
    GBytes *in = g_bytes_new(bytes, len);
    GError *err = NULL;
    bool ok = vmstate_load_checked(&txn_nested_vmsd, s, sizeof *s, 1, in, flags, &err);
    g_strlcpy(message, err ? err->message : "", cap);
    g_clear_error(&err);
    g_bytes_unref(in);
    return ok;
}

void TXN_NESTED(summary)(const TxnNested *s, TxnNestedSummary *out)
{
    memset(out, 0, sizeof *out);
    out->magic = s->magic;
    out->domains = (uint32_t)g_tree_nnodes(s->domains);
    out->n = s->n;
    out->tab_allocated = s->tab != NULL;
    if (s->tab && s->n) {
        out->tab_first = s->tab[0];
    }
    TxnNestedElem *e;
    QLIST_FOREACH(e, &s->elems, next) {
        out->elems++;
    }
    TxnNestedDom *d = g_tree_lookup(s->domains, GUINT_TO_POINTER(2));
    out->mark_of_2 = d ? d->mark : 0;
    out->indexed = (uint32_t)g_tree_nnodes(s->by_value);
}
