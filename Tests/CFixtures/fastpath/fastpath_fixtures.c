#include "fastpath_fixtures.h"

static bool fp_has_f(void *opaque, int version_id) { return ((FpDev *)opaque)->has_f; }
static bool fp_node_more(void *opaque) { return ((FpNode *)opaque)->more; }
static bool fp_dev_sub(void *opaque) { return ((FpDev *)opaque)->has_sub; }

static const VMStateDescription fp_item_vmsd = {
    .name = "fp-item",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, FpItem),
        VMSTATE_BOOL(y, FpItem),
        VMSTATE_UINT16_ARRAY(z, FpItem, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription fp_node_more_vmsd = {
    .name = "fp-node/more",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fp_node_more,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(w, FpNode),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription fp_node_vmsd = {
    .name = "fp-node",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, FpNode),
        VMSTATE_BOOL(more, FpNode),
        VMSTATE_STRUCT_ARRAY(inner, FpNode, 2, 1, fp_item_vmsd, FpItem),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&fp_node_more_vmsd, NULL},
};

static const VMStateDescription fp_dev_sub_vmsd = {
    .name = "fp-dev/sub",
    .version_id = 2,
    .minimum_version_id = 1,
    .needed = fp_dev_sub,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(s, FpDev),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription fp_dev_vmsd = {
    .name = "fp-dev",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, FpDev),
        VMSTATE_UINT16_V(b, FpDev, 2),
        VMSTATE_BOOL(c, FpDev),
        VMSTATE_UINT64_ARRAY(d, FpDev, 3),
        VMSTATE_UINT8_ARRAY(e, FpDev, 5),
        VMSTATE_BOOL(has_f, FpDev),
        VMSTATE_INT32_TEST(f, FpDev, fp_has_f),
        VMSTATE_STRUCT_ARRAY(g, FpDev, 3, 1, fp_item_vmsd, FpItem),
        VMSTATE_STRUCT_ARRAY(h, FpDev, 2, 1, fp_node_vmsd, FpNode),
        VMSTATE_UINT32_V(late, FpDev, 3),
        VMSTATE_UINT16(n, FpDev),
        VMSTATE_VARRAY_UINT16_UNSAFE(var, FpDev, n, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_BOOL(has_sub, FpDev),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&fp_dev_sub_vmsd, NULL},
};

/* The same description as another object: its plan is built by whoever uses it first (the
 * concurrency test). */
static const VMStateDescription fp_dev_race_vmsd = {
    .name = "fp-dev",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, FpDev),
        VMSTATE_UINT16_V(b, FpDev, 2),
        VMSTATE_BOOL(c, FpDev),
        VMSTATE_UINT64_ARRAY(d, FpDev, 3),
        VMSTATE_UINT8_ARRAY(e, FpDev, 5),
        VMSTATE_BOOL(has_f, FpDev),
        VMSTATE_INT32_TEST(f, FpDev, fp_has_f),
        VMSTATE_STRUCT_ARRAY(g, FpDev, 3, 1, fp_item_vmsd, FpItem),
        VMSTATE_STRUCT_ARRAY(h, FpDev, 2, 1, fp_node_vmsd, FpNode),
        VMSTATE_UINT32_V(late, FpDev, 3),
        VMSTATE_UINT16(n, FpDev),
        VMSTATE_VARRAY_UINT16_UNSAFE(var, FpDev, n, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_BOOL(has_sub, FpDev),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&fp_dev_sub_vmsd, NULL},
};

const VMStateDescription *fp_dev_vmsd_ptr(void) { return &fp_dev_vmsd; }
const VMStateDescription *fp_dev_race_vmsd_ptr(void) { return &fp_dev_race_vmsd; }
const VMStateDescription *fp_item_vmsd_ptr(void) { return &fp_item_vmsd; }

static const VMStateDescription fp_entry_vmsd = {
    .name = "fp-entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, FpEntry),
        VMSTATE_BOOL(y, FpEntry),
        VMSTATE_UINT16_ARRAY(z, FpEntry, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription fp_tree_vmsd[2] = {
    {
        .name = "fp-item",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(x, FpItem),
            VMSTATE_BOOL(y, FpItem),
            VMSTATE_UINT16_ARRAY(z, FpItem, 2),
            VMSTATE_END_OF_LIST(),
        },
    },
    {
        .name = "fp-key",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(key, FpKey),
            VMSTATE_END_OF_LIST(),
        },
    },
};

static const VMStateDescription fp_lists_vmsd = {
    .name = "fp-lists",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_QTAILQ_V(entries, FpLists, 1, fp_entry_vmsd, FpEntry, next),
        VMSTATE_GTREE_V(tree, FpLists, 1, fp_tree_vmsd, FpKey, FpItem),
        VMSTATE_UINT32(tail, FpLists),
        VMSTATE_END_OF_LIST(),
    },
};

static gint fp_key_compare(gconstpointer a, gconstpointer b, gpointer data) {
    uint32_t x = ((const FpKey *)a)->key, y = ((const FpKey *)b)->key;
    return x < y ? -1 : x > y;
}

FpLists *fp_lists_new(int n) {
    FpLists *l = g_new0(FpLists, 1);
    QTAILQ_INIT(&l->entries);
    l->tree = g_tree_new_full(fp_key_compare, NULL, g_free, g_free);
    for (int i = 0; i < n; i++) {
        FpEntry *e = g_new0(FpEntry, 1);
        e->x = 0x1000 + i;
        e->y = i & 1;
        e->z[0] = i;
        e->z[1] = ~i;
        QTAILQ_INSERT_TAIL(&l->entries, e, next);
        FpKey *k = g_new0(FpKey, 1);
        k->key = 7 * i + 3;
        FpItem *v = g_new0(FpItem, 1);
        v->x = 0x2000 + i;
        v->y = !(i & 1);
        v->z[0] = 2 * i;
        v->z[1] = 3 * i;
        g_tree_insert(l->tree, k, v);
    }
    l->tail = 0xCAFE;
    return l;
}

void fp_lists_free(FpLists *l) {
    FpEntry *e, *next;
    QTAILQ_FOREACH_SAFE(e, &l->entries, next, next) g_free(e);
    g_tree_unref(l->tree);
    g_free(l);
}

const VMStateDescription *fp_lists_vmsd_ptr(void) { return &fp_lists_vmsd; }
