/* fx-queues: see fx_queues.h. */
#include "fx_queues.h"

#include <string.h>

const VMStateField fx_qreq_fields[] = {
    VMSTATE_UINT32(id, FxQReq),
    VMSTATE_UINT32(opcode, FxQReq),
    VMSTATE_UINT64(lba, FxQReq),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_qreq_vmsd = {
    .name = "fx-qreq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_qreq_fields,
};

const VMStateField fx_qhandle_fields[] = {
    VMSTATE_INT32(fd, FxQHandle),
    VMSTATE_UINT32(flags, FxQHandle),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_qhandle_vmsd = {
    .name = "fx-qhandle",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_qhandle_fields,
};

const VMStateField fx_mapping_fields[] = {
    VMSTATE_UINT64(phys, FxMapping),
    VMSTATE_UINT32(prot, FxMapping),
    VMSTATE_END_OF_LIST()
};

const VMStateField fx_range_fields[] = {
    VMSTATE_UINT64(low, FxRange),
    VMSTATE_UINT64(high, FxRange),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_mapping_vmsds[2] = {
    {
        .name = "fx-mapping",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = fx_mapping_fields,
    },
    {
        .name = "fx-range",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = fx_range_fields,
    },
};

const VMStateField fx_domain_fields[] = {
    VMSTATE_UINT32(id, FxDomain),
    VMSTATE_UINT32(nr_endpoints, FxDomain),
    VMSTATE_BOOL(bypass, FxDomain),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_domain_vmsd = {
    .name = "fx-domain",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_domain_fields,
};

const VMStateField fx_queues_fields[] = {
    VMSTATE_UINT32(next_id, FxQueuesState),
    VMSTATE_QTAILQ_V(pending, FxQueuesState, 1, fx_qreq_vmsd, FxQReq, next),
    VMSTATE_QLIST_V(handles, FxQueuesState, 1, fx_qhandle_vmsd, FxQHandle, link),
    VMSTATE_GTREE_V(mappings, FxQueuesState, 1, fx_mapping_vmsds, FxRange, FxMapping),
    VMSTATE_GTREE_DIRECT_KEY_V(domains, FxQueuesState, 1, &fx_domain_vmsd, FxDomain),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_queues_vmsd = {
    .name = "fx-queues",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_queues_fields,
};

const FxTable fx_queues_tables[] = {
    FX_TABLE(&fx_queues_vmsd, fx_queues_fields),
    FX_TABLE(&fx_qreq_vmsd, fx_qreq_fields),
    FX_TABLE(&fx_qhandle_vmsd, fx_qhandle_fields),
    FX_TABLE(&fx_mapping_vmsds[0], fx_mapping_fields),
    FX_TABLE(&fx_mapping_vmsds[1], fx_range_fields),
    FX_TABLE(&fx_domain_vmsd, fx_domain_fields),
};
const size_t fx_queues_table_count = FX_N_ELEMENTS(fx_queues_tables);

gint fx_range_compare(gconstpointer a, gconstpointer b, gpointer user_data) {
    (void)user_data;
    const FxRange *x = a, *y = b;
    return x->low < y->low ? -1 : x->low > y->low ? 1 : 0;
}

gint fx_domain_id_compare(gconstpointer a, gconstpointer b, gpointer user_data) {
    (void)user_data;
    guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);
    return x < y ? -1 : x > y ? 1 : 0;
}

void fx_queues_init(void *state, unsigned seed) {
    FxQueuesState *s = state;
    memset(s, 0, sizeof(*s));
    QTAILQ_INIT(&s->pending);
    QLIST_INIT(&s->handles);
    s->mappings = g_tree_new_full(fx_range_compare, NULL, g_free, g_free);
    s->domains = g_tree_new_full(fx_domain_id_compare, NULL, NULL, g_free);
    if (seed == 0) {
        return;
    }
    s->next_id = 100 + seed;
    for (unsigned i = 0; i < 3; i++) {
        FxQReq *r = g_new0(FxQReq, 1);
        r->id = seed * 10 + i;
        r->opcode = i % 2 ? 0x28 : 0x2a;
        r->lba = 0x1000ULL * i + seed;
        QTAILQ_INSERT_TAIL(&s->pending, r, next);
    }
    /* QLIST_INSERT_HEAD reverses: insert 2, 1, 0 to get 0, 1, 2 */
    for (unsigned i = 3; i-- > 0;) {
        FxQHandle *h = g_new0(FxQHandle, 1);
        h->fd = (int32_t)(3 + i);
        h->flags = seed | (i << 16);
        QLIST_INSERT_HEAD(&s->handles, h, link);
    }
    for (unsigned i = 0; i < 2; i++) {
        FxRange *k = g_new0(FxRange, 1);
        FxMapping *v = g_new0(FxMapping, 1);
        k->low = 0x100000ULL * (i + 1);
        k->high = k->low + 0xfff;
        v->phys = 0x80000000ULL + k->low + seed;
        v->prot = 3 - i;
        g_tree_insert(s->mappings, k, v);
    }
    for (unsigned i = 0; i < 2; i++) {
        FxDomain *d = g_new0(FxDomain, 1);
        d->id = 5 + i * 7;
        d->nr_endpoints = seed + i;
        d->bypass = i == 1;
        g_tree_insert(s->domains, GUINT_TO_POINTER(d->id), d);
    }
}

void fx_queues_cleanup(void *state) {
    FxQueuesState *s = state;
    FxQReq *r, *rn;
    QTAILQ_FOREACH_SAFE(r, &s->pending, next, rn) {
        QTAILQ_REMOVE(&s->pending, r, next);
        g_free(r);
    }
    FxQHandle *h, *hn;
    QLIST_FOREACH_SAFE(h, &s->handles, link, hn) {
        QLIST_REMOVE(h, link);
        g_free(h);
    }
    if (s->mappings) {
        g_tree_destroy(s->mappings);
    }
    if (s->domains) {
        g_tree_destroy(s->domains);
    }
    memset(s, 0, sizeof(*s));
}
