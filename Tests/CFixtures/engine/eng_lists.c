/* Engine fixtures: QTAILQ, QLIST and GTree fields. */
#include <string.h>

#include "engine_fixtures.h"

/* ---- QTAILQ ------------------------------------------------------------------------------- */

static const VMStateDescription eng_qelem_vmsd = {
    .name = "eng-qelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, EngQElem),
        VMSTATE_UINT16(w, EngQElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_qdev_vmsd = {
    .name = "eng-qdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(tag, EngQDev),
        VMSTATE_QTAILQ_V(q, EngQDev, 1, eng_qelem_vmsd, EngQElem, next),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_qdev(void) { return &eng_qdev_vmsd; }

void eng_qdev_init(EngQDev *d) { QTAILQ_INIT(&d->q); }

void eng_qdev_append(EngQDev *d, uint32_t v, uint16_t w) {
    EngQElem *e = g_new0(EngQElem, 1);
    e->v = v;
    e->w = w;
    QTAILQ_INSERT_TAIL(&d->q, e, next);
}

int eng_qdev_count(const EngQDev *d) {
    int n = 0;
    EngQElem *e;
    QTAILQ_FOREACH(e, &d->q, next) { n++; }
    return n;
}

bool eng_qdev_get(const EngQDev *d, int i, uint32_t *v, uint16_t *w) {
    EngQElem *e;
    QTAILQ_FOREACH(e, &d->q, next) {
        if (i-- == 0) {
            *v = e->v;
            *w = e->w;
            return true;
        }
    }
    return false;
}

bool eng_qdev_links_ok(const EngQDev *d) {
    const QTailQLink *expected_prev = &d->q.tqh_circ;
    EngQElem *e;
    QTAILQ_FOREACH(e, &d->q, next) {
        if (e->next.tqe_circ.tql_prev != expected_prev) {
            return false;
        }
        expected_prev = &e->next.tqe_circ;
    }
    return d->q.tqh_circ.tql_prev == expected_prev;
}

void eng_qdev_free(EngQDev *d) {
    EngQElem *e, *n;
    QTAILQ_FOREACH_SAFE(e, &d->q, next, n) {
        QTAILQ_REMOVE(&d->q, e, next);
        g_free(e);
    }
}

/* ---- QLIST -------------------------------------------------------------------------------- */

static const VMStateDescription eng_lelem_vmsd = {
    .name = "eng-lelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, EngLElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_ldev_vmsd = {
    .name = "eng-ldev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_QLIST_V(l, EngLDev, 1, eng_lelem_vmsd, EngLElem, link),
        VMSTATE_UINT8(tag, EngLDev),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_ldev(void) { return &eng_ldev_vmsd; }

void eng_ldev_insert_head(EngLDev *d, uint32_t v) {
    EngLElem *e = g_new0(EngLElem, 1);
    e->v = v;
    QLIST_INSERT_HEAD(&d->l, e, link);
}

int eng_ldev_count(const EngLDev *d) {
    int n = 0;
    EngLElem *e;
    QLIST_FOREACH(e, &d->l, link) { n++; }
    return n;
}

bool eng_ldev_get(const EngLDev *d, int i, uint32_t *v) {
    EngLElem *e;
    QLIST_FOREACH(e, &d->l, link) {
        if (i-- == 0) {
            *v = e->v;
            return true;
        }
    }
    return false;
}

bool eng_ldev_links_ok(const EngLDev *d) {
    EngLElem *e;
    QLIST_FOREACH(e, &d->l, link) {
        if (e->link.le_prev == NULL || *e->link.le_prev != e) {
            return false;
        }
    }
    return true;
}

void eng_ldev_free(EngLDev *d) {
    EngLElem *e, *n;
    QLIST_FOREACH_SAFE(e, &d->l, link, n) {
        QLIST_REMOVE(e, link);
        g_free(e);
    }
}

/* ---- GTree -------------------------------------------------------------------------------- */

static const VMStateDescription eng_tval_vmsd = {
    .name = "eng-tval",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, EngTreeVal),
        VMSTATE_END_OF_LIST(),
    },
};

/* [0] values, [1] keys, as VMSTATE_GTREE_V wants. */
static const VMStateDescription eng_tree_vmsds[2] = {
    {
        .name = "eng-tval",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(v, EngTreeVal),
            VMSTATE_END_OF_LIST(),
        },
    },
    {
        .name = "eng-tkey",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(id, EngTreeKey),
            VMSTATE_UINT8(tag, EngTreeKey),
            VMSTATE_END_OF_LIST(),
        },
    },
};

static const VMStateDescription eng_trees_vmsd = {
    .name = "eng-trees",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_GTREE_DIRECT_KEY_V(direct, EngTrees, 1, &eng_tval_vmsd, EngTreeVal),
        VMSTATE_GTREE_V(keyed, EngTrees, 1, eng_tree_vmsds, EngTreeKey, EngTreeVal),
        VMSTATE_UINT8(tail, EngTrees),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_trees(void) { return &eng_trees_vmsd; }

static gint direct_cmp(gconstpointer a, gconstpointer b, gpointer user) {
    (void)user;
    uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    return x < y ? -1 : x > y;
}

static gint keyed_cmp(gconstpointer a, gconstpointer b, gpointer user) {
    (void)user;
    const EngTreeKey *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

void eng_trees_init(EngTrees *t) {
    t->direct = g_tree_new_full(direct_cmp, NULL, NULL, g_free);
    t->keyed = g_tree_new_full(keyed_cmp, NULL, g_free, g_free);
}

void eng_trees_add_direct(EngTrees *t, uint64_t key, uint32_t v) {
    EngTreeVal *val = g_new0(EngTreeVal, 1);
    val->v = v;
    g_tree_insert(t->direct, (gpointer)(uintptr_t)key, val);
}

void eng_trees_add_keyed(EngTrees *t, uint32_t id, uint8_t tag, uint32_t v) {
    EngTreeKey *key = g_new0(EngTreeKey, 1);
    key->id = id;
    key->tag = tag;
    EngTreeVal *val = g_new0(EngTreeVal, 1);
    val->v = v;
    g_tree_insert(t->keyed, key, val);
}

int eng_trees_direct_count(const EngTrees *t) { return g_tree_nnodes(t->direct); }
int eng_trees_keyed_count(const EngTrees *t) { return g_tree_nnodes(t->keyed); }

int64_t eng_trees_direct_lookup(const EngTrees *t, uint64_t key) {
    EngTreeVal *val = g_tree_lookup(t->direct, (gconstpointer)(uintptr_t)key);
    return val ? (int64_t)val->v : -1;
}

int64_t eng_trees_keyed_lookup(const EngTrees *t, uint32_t id, uint8_t *tag_out) {
    EngTreeKey probe = {.id = id};
    gpointer orig_key = NULL, value = NULL;
    if (!g_tree_lookup_extended(t->keyed, &probe, &orig_key, &value)) {
        return -1;
    }
    if (tag_out) {
        *tag_out = ((EngTreeKey *)orig_key)->tag;
    }
    return ((EngTreeVal *)value)->v;
}

void eng_trees_destroy(EngTrees *t) {
    if (t->direct) {
        g_tree_destroy(t->direct);
    }
    if (t->keyed) {
        g_tree_destroy(t->keyed);
    }
    t->direct = t->keyed = NULL;
}

/* ---- "picky" lists and trees: an element whose value is ENG_PICKY_REFUSED fails its pre_save,
 * for the paths of save errors inside lists and trees. ------------------------------------ */

static int eng_picky_qelem_pre_save(void *opaque) {
    return ((EngQElem *)opaque)->v == ENG_PICKY_REFUSED ? -7 : 0;
}

static const VMStateDescription eng_picky_qelem_vmsd = {
    .name = "eng-picky-qelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = eng_picky_qelem_pre_save,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, EngQElem),
        VMSTATE_END_OF_LIST(),
    },
};

static int eng_picky_tval_pre_save(void *opaque) {
    return ((EngTreeVal *)opaque)->v == ENG_PICKY_REFUSED ? -7 : 0;
}

static int eng_picky_tkey_pre_save(void *opaque) {
    return ((EngTreeKey *)opaque)->id == ENG_PICKY_REFUSED ? -9 : 0;
}

static const VMStateDescription eng_picky_tree_vmsds[2] = {
    {
        .name = "eng-picky-tval",
        .version_id = 1,
        .minimum_version_id = 1,
        .pre_save = eng_picky_tval_pre_save,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(v, EngTreeVal),
            VMSTATE_END_OF_LIST(),
        },
    },
    {
        .name = "eng-picky-tkey",
        .version_id = 1,
        .minimum_version_id = 1,
        .pre_save = eng_picky_tkey_pre_save,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(id, EngTreeKey),
            VMSTATE_END_OF_LIST(),
        },
    },
};

static const VMStateDescription eng_picky_qdev_vmsd = {
    .name = "eng-picky-qdev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_QTAILQ_V(q, EngQDev, 1, eng_picky_qelem_vmsd, EngQElem, next),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_picky_qdev(void) { return &eng_picky_qdev_vmsd; }

static const VMStateDescription eng_picky_trees_vmsd = {
    .name = "eng-picky-trees",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_GTREE_V(keyed, EngTrees, 1, eng_picky_tree_vmsds, EngTreeKey, EngTreeVal),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_picky_trees(void) { return &eng_picky_trees_vmsd; }
