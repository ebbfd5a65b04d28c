/* queue-ops: see queue_ops.h. Each script starts from zeroed elements with id = index. */
#include "queue_ops.h"

#include <string.h>

typedef struct QOp {
    int32_t id;
    QLIST_ENTRY(QOp) l;
    QSLIST_ENTRY(QOp) s;
    QSIMPLEQ_ENTRY(QOp) q;
    QTAILQ_ENTRY(QOp) t;
} QOp;

typedef QLIST_HEAD(QOpList, QOp) QOpList;
typedef QSLIST_HEAD(QOpSList, QOp) QOpSList;
typedef QSIMPLEQ_HEAD(QOpSimpleQ, QOp) QOpSimpleQ;
typedef QTAILQ_HEAD(QOpTailQ, QOp) QOpTailQ;

/* The layouts the engine and QEMU's stream code rely on (64-bit host). */
_Static_assert(sizeof(QOpList) == sizeof(void *), "QLIST head: one pointer");
_Static_assert(sizeof(((QOp *)0)->l) == 2 * sizeof(void *), "QLIST entry: next, prev");
_Static_assert(offsetof(QOp, l.le_prev) - offsetof(QOp, l) == sizeof(void *), "le_prev second");
_Static_assert(sizeof(QOpSList) == sizeof(void *), "QSLIST head: one pointer");
_Static_assert(sizeof(((QOp *)0)->s) == sizeof(void *), "QSLIST entry: one pointer");
_Static_assert(sizeof(QOpSimpleQ) == 2 * sizeof(void *), "QSIMPLEQ head: first, last");
_Static_assert(offsetof(QOpSimpleQ, sqh_last) == sizeof(void *), "sqh_last second");
_Static_assert(sizeof(((QOp *)0)->q) == sizeof(void *), "QSIMPLEQ entry: one pointer");
_Static_assert(sizeof(QOpTailQ) == sizeof(QTailQLink), "QTAILQ head: a QTailQLink");
_Static_assert(offsetof(QOpTailQ, tqh_first) == 0 && offsetof(QOpTailQ, tqh_circ) == 0,
               "QTAILQ head: a union");
_Static_assert(sizeof(((QOp *)0)->t) == sizeof(QTailQLink), "QTAILQ entry: a QTailQLink");
_Static_assert(offsetof(QTailQLink, tql_prev) == sizeof(void *), "tql_prev second");

enum { QOPS_N = 10 };

typedef struct Rec {
    int32_t *out;
    size_t cap, n;
} Rec;

static void put(Rec *r, int32_t v) {
    if (r->n < r->cap) {
        r->out[r->n] = v;
    }
    r->n++;
}

static void put_elm(Rec *r, const QOp *e) { put(r, e ? e->id : QOPS_NULL); }

static void fresh(QOp *e) {
    memset(e, 0, sizeof(QOp) * QOPS_N);
    for (int32_t i = 0; i < QOPS_N; i++) {
        e[i].id = i;
    }
}

/* Dumps that also check every back pointer: a broken link records QOPS_NULL before the end. */
static void dump_qlist(Rec *r, QOpList *h) {
    QOp *v;
    QOp **expect_prev = &h->lh_first;
    QLIST_FOREACH(v, h, l) {
        put(r, v->l.le_prev == expect_prev ? v->id : QOPS_NULL);
        expect_prev = &v->l.le_next;
    }
    put(r, QOPS_END);
}

static void dump_qslist(Rec *r, QOpSList *h) {
    QOp *v;
    QSLIST_FOREACH(v, h, s) { put(r, v->id); }
    put(r, QOPS_END);
}

static void dump_qsimpleq(Rec *r, QOpSimpleQ *h) {
    QOp *v;
    QOp **last = &h->sqh_first;
    QSIMPLEQ_FOREACH(v, h, q) {
        put(r, v->id);
        last = &v->q.sqe_next;
    }
    if (h->sqh_last != last) {
        put(r, QOPS_NULL);
    }
    put(r, QOPS_END);
}

static void dump_qtailq(Rec *r, QOpTailQ *h) {
    QOp *v;
    QTailQLink *expect_prev = &h->tqh_circ;
    QTAILQ_FOREACH(v, h, t) {
        put(r, v->t.tqe_circ.tql_prev == expect_prev ? v->id : QOPS_NULL);
        expect_prev = &v->t.tqe_circ;
    }
    if (h->tqh_circ.tql_prev != expect_prev) {
        put(r, QOPS_NULL);
    }
    put(r, QOPS_END);
}

static void dump_qtailq_reverse(Rec *r, QOpTailQ *h) {
    QOp *v;
    QTAILQ_FOREACH_REVERSE(v, h, t) { put(r, v->id); }
    put(r, QOPS_END);
}

size_t qops_qlist(int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    QOp e[QOPS_N];
    fresh(e);
    QOpList h = QLIST_HEAD_INITIALIZER(h);
    QOpList h2;
    QOp *v, *nv;

    put(&r, QLIST_EMPTY(&h));                       /* 1 */
    QLIST_INSERT_HEAD(&h, &e[2], l);
    QLIST_INSERT_HEAD(&h, &e[0], l);
    QLIST_INSERT_AFTER(&e[0], &e[1], l);
    QLIST_INSERT_BEFORE(&e[0], &e[5], l);           /* before the first: becomes the head */
    QLIST_INSERT_AFTER(&e[2], &e[3], l);            /* after the last */
    QLIST_INSERT_BEFORE(&e[3], &e[4], l);
    dump_qlist(&r, &h);                             /* 5 0 1 2 4 3 */
    put(&r, QLIST_EMPTY(&h));                       /* 0 */
    put_elm(&r, QLIST_FIRST(&h));                   /* 5 */
    put_elm(&r, QLIST_NEXT(&e[2], l));              /* 4 */
    put_elm(&r, QLIST_NEXT(&e[3], l));              /* NULL */
    put(&r, QLIST_IS_INSERTED(&e[6], l));           /* 0 */
    put(&r, QLIST_IS_INSERTED(&e[1], l));           /* 1 */

    QLIST_REMOVE(&e[5], l);                         /* the head */
    QLIST_REMOVE(&e[3], l);                         /* the tail */
    QLIST_REMOVE(&e[1], l);                         /* a middle one */
    put(&r, QLIST_IS_INSERTED(&e[5], l));           /* 0 */
    put_elm(&r, QLIST_NEXT(&e[1], l));              /* NULL: links cleared */
    QLIST_SAFE_REMOVE(&e[5], l);                    /* not inserted: nothing */
    QLIST_SAFE_REMOVE(&e[4], l);
    put(&r, QLIST_IS_INSERTED(&e[4], l));           /* 0 */
    dump_qlist(&r, &h);                             /* 0 2 */

    QLIST_INIT(&h2);
    QLIST_INSERT_HEAD(&h2, &e[7], l);
    QLIST_INSERT_HEAD(&h2, &e[6], l);
    QLIST_INSERT_HEAD(&h2, &e[4], l);
    QLIST_SWAP(&h, &h2, l);
    dump_qlist(&r, &h);                             /* 4 6 7 */
    dump_qlist(&r, &h2);                            /* 0 2 */
    QLIST_REMOVE(&e[0], l);                         /* back pointer into h2 after the swap */
    dump_qlist(&r, &h2);                            /* 2 */

    /* FOREACH_SAFE: remove the even ids while walking */
    QLIST_INSERT_AFTER(&e[7], &e[8], l);
    QLIST_FOREACH_SAFE(v, &h, l, nv) {
        put(&r, v->id);                             /* 4 6 7 8 */
        if (v->id % 2 == 0) {
            QLIST_REMOVE(v, l);
        }
    }
    put(&r, QOPS_END);
    dump_qlist(&r, &h);                             /* 7 */

    QLIST_SWAP(&h, &h2, l);                         /* with an empty list */
    QLIST_INIT(&h2);
    QLIST_SWAP(&h, &h2, l);
    put(&r, QLIST_EMPTY(&h));                       /* 1 */
    dump_qlist(&r, &h2);                            /* 2 */
    return r.n;
}

size_t qops_qslist(int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    QOp e[QOPS_N];
    fresh(e);
    QOpSList h = QSLIST_HEAD_INITIALIZER(h);
    QOpSList h2;
    QOp *v, *tv;

    put(&r, QSLIST_EMPTY(&h));                      /* 1 */
    QSLIST_INSERT_HEAD(&h, &e[3], s);
    QSLIST_INSERT_HEAD(&h, &e[1], s);
    QSLIST_INSERT_AFTER(&e[1], &e[2], s);
    QSLIST_INSERT_HEAD_ATOMIC(&h, &e[0], s);
    QSLIST_INSERT_AFTER(&e[3], &e[4], s);
    dump_qslist(&r, &h);                            /* 0 1 2 3 4 */
    put_elm(&r, QSLIST_FIRST(&h));                  /* 0 */
    put_elm(&r, QSLIST_NEXT(&e[2], s));             /* 3 */
    put(&r, QSLIST_EMPTY(&h));                      /* 0 */

    QSLIST_REMOVE_HEAD(&h, s);
    put_elm(&r, QSLIST_NEXT(&e[0], s));             /* NULL: cleared */
    QSLIST_REMOVE_AFTER(&e[1], s);                  /* removes 2 */
    put_elm(&r, QSLIST_NEXT(&e[2], s));             /* NULL */
    QSLIST_REMOVE(&h, &e[4], QOp, s);               /* the tail */
    QSLIST_REMOVE(&h, &e[1], QOp, s);               /* the head */
    dump_qslist(&r, &h);                            /* 3 */
    QSLIST_INSERT_HEAD(&h, &e[5], s);
    QSLIST_INSERT_HEAD(&h, &e[6], s);
    QSLIST_REMOVE(&h, &e[5], QOp, s);               /* a middle one */
    dump_qslist(&r, &h);                            /* 6 3 */

    QSLIST_INIT(&h2);
    QSLIST_INSERT_HEAD(&h2, &e[9], s);              /* dropped by MOVE_ATOMIC */
    QSLIST_MOVE_ATOMIC(&h2, &h);
    put(&r, QSLIST_EMPTY(&h));                      /* 1 */
    dump_qslist(&r, &h2);                           /* 6 3 */

    QSLIST_INSERT_HEAD(&h2, &e[8], s);
    QSLIST_INSERT_HEAD(&h2, &e[7], s);
    QSLIST_FOREACH_SAFE(v, &h2, s, tv) {
        put(&r, v->id);                             /* 7 8 6 3 */
        if (v->id != 8) {
            QSLIST_REMOVE(&h2, v, QOp, s);
        }
    }
    put(&r, QOPS_END);
    dump_qslist(&r, &h2);                           /* 8 */
    return r.n;
}

static void put_last(Rec *r, QOpSimpleQ *h) { put_elm(r, QSIMPLEQ_LAST(h, QOp, q)); }

size_t qops_qsimpleq(int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    QOp e[QOPS_N];
    fresh(e);
    QOpSimpleQ h = QSIMPLEQ_HEAD_INITIALIZER(h);
    QOpSimpleQ rem, p, x;
    QOp *v, *nv;

    put(&r, QSIMPLEQ_EMPTY(&h));                    /* 1 */
    put_last(&r, &h);                               /* NULL */
    QSIMPLEQ_INSERT_TAIL(&h, &e[1], q);
    QSIMPLEQ_INSERT_TAIL(&h, &e[2], q);
    QSIMPLEQ_INSERT_HEAD(&h, &e[0], q);
    QSIMPLEQ_INSERT_AFTER(&h, &e[2], &e[4], q);     /* after the last: moves the tail */
    QSIMPLEQ_INSERT_TAIL(&h, &e[5], q);
    QSIMPLEQ_INSERT_AFTER(&h, &e[2], &e[3], q);
    dump_qsimpleq(&r, &h);                          /* 0 1 2 3 4 5 */
    put_last(&r, &h);                               /* 5 */
    put_elm(&r, QSIMPLEQ_FIRST(&h));                /* 0 */
    put_elm(&r, QSIMPLEQ_NEXT(&e[3], q));           /* 4 */

    QSIMPLEQ_REMOVE_HEAD(&h, q);
    put_elm(&r, QSIMPLEQ_NEXT(&e[0], q));           /* NULL */
    QSIMPLEQ_REMOVE(&h, &e[5], QOp, q);             /* the tail */
    put_last(&r, &h);                               /* 4 */
    QSIMPLEQ_INSERT_TAIL(&h, &e[6], q);
    QSIMPLEQ_REMOVE(&h, &e[3], QOp, q);
    QSIMPLEQ_REMOVE(&h, &e[1], QOp, q);             /* the head */
    dump_qsimpleq(&r, &h);                          /* 2 4 6 */

    QSIMPLEQ_INSERT_HEAD(&h, &e[1], q);
    QSIMPLEQ_SPLIT_AFTER(&h, &e[2], q, &rem);
    dump_qsimpleq(&r, &rem);                        /* 1 2 */
    dump_qsimpleq(&r, &h);                          /* 4 6 */
    QSIMPLEQ_INSERT_TAIL(&rem, &e[7], q);
    QSIMPLEQ_CONCAT(&rem, &h);
    put(&r, QSIMPLEQ_EMPTY_ATOMIC(&h));             /* 1 */
    dump_qsimpleq(&r, &rem);                        /* 1 2 7 4 6 */
    QSIMPLEQ_CONCAT(&rem, &h);                      /* empty head2: nothing */
    put_last(&r, &rem);                             /* 6 */

    QSIMPLEQ_INSERT_TAIL(&h, &e[0], q);
    QSIMPLEQ_PREPEND(&rem, &h);
    put(&r, QSIMPLEQ_EMPTY(&h));                    /* 1 */
    dump_qsimpleq(&r, &rem);                        /* 0 1 2 7 4 6 */

    QSIMPLEQ_INIT(&p);
    QSIMPLEQ_INSERT_TAIL(&p, &e[3], q);
    QSIMPLEQ_INSERT_TAIL(&p, &e[5], q);
    QSIMPLEQ_PREPEND(&h, &p);                       /* onto an empty queue (see queue.h) */
    QSIMPLEQ_INSERT_TAIL(&h, &e[8], q);
    dump_qsimpleq(&r, &h);                          /* 3 5 8 */
    put_last(&r, &h);                               /* 8 */

    QSIMPLEQ_FOREACH_SAFE(v, &rem, q, nv) {
        put(&r, v->id);                             /* 0 1 2 7 4 6 */
        if (v->id % 2 == 1) {
            QSIMPLEQ_REMOVE(&rem, v, QOp, q);
        }
    }
    put(&r, QOPS_END);
    dump_qsimpleq(&r, &rem);                        /* 0 2 4 6 */

    QSIMPLEQ_SPLIT_AFTER(&rem, &e[6], q, &x);       /* at the last: rem left empty */
    dump_qsimpleq(&r, &x);                          /* 0 2 4 6 */
    dump_qsimpleq(&r, &rem);                        /* (empty) */
    QSIMPLEQ_SPLIT_AFTER(&rem, &e[0], q, &p);       /* of an empty queue */
    put(&r, QSIMPLEQ_EMPTY(&rem) && QSIMPLEQ_EMPTY(&p)); /* 1 */
    QSIMPLEQ_INSERT_TAIL(&rem, &e[9], q);
    dump_qsimpleq(&r, &rem);                        /* 9 */
    return r.n;
}

size_t qops_qtailq(int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    QOp e[QOPS_N];
    fresh(e);
    QOpTailQ h = QTAILQ_HEAD_INITIALIZER(h);
    QOpTailQ h2;
    QOp *v, *nv;

    put(&r, QTAILQ_EMPTY(&h));                      /* 1 */
    put_elm(&r, QTAILQ_LAST(&h));                   /* NULL */
    QTAILQ_INSERT_TAIL(&h, &e[2], t);
    QTAILQ_INSERT_HEAD(&h, &e[0], t);
    QTAILQ_INSERT_AFTER(&h, &e[0], &e[1], t);
    QTAILQ_INSERT_AFTER(&h, &e[2], &e[4], t);       /* after the last: moves the tail */
    QTAILQ_INSERT_BEFORE(&e[4], &e[3], t);
    QTAILQ_INSERT_BEFORE(&e[0], &e[9], t);          /* before the first */
    dump_qtailq(&r, &h);                            /* 9 0 1 2 3 4 */
    dump_qtailq_reverse(&r, &h);                    /* 4 3 2 1 0 9 */
    put_elm(&r, QTAILQ_FIRST(&h));                  /* 9 */
    put_elm(&r, QTAILQ_LAST(&h));                   /* 4 */
    put_elm(&r, QTAILQ_NEXT(&e[1], t));             /* 2 */
    put_elm(&r, QTAILQ_PREV(&e[3], t));             /* 2 */
    put_elm(&r, QTAILQ_PREV(&e[9], t));             /* NULL */
    put_elm(&r, QTAILQ_LINK_PREV(e[1].t.tqe_circ)); /* 0 */
    put(&r, QTAILQ_IN_USE(&e[5], t));               /* 0 */
    put(&r, QTAILQ_IN_USE(&e[9], t));               /* 1 */
    put(&r, QTAILQ_EMPTY(&h));                      /* 0 */

    QTAILQ_REMOVE(&h, &e[9], t);                    /* the head */
    QTAILQ_REMOVE(&h, &e[4], t);                    /* the tail */
    put(&r, QTAILQ_IN_USE(&e[9], t));               /* 0 */
    put_elm(&r, QTAILQ_NEXT(&e[9], t));             /* NULL: cleared */
    QTAILQ_REMOVE(&h, &e[2], t);
    dump_qtailq(&r, &h);                            /* 0 1 3 */

    QTAILQ_INSERT_TAIL(&h, &e[5], t);
    QTAILQ_INSERT_TAIL(&h, &e[6], t);
    QTAILQ_INSERT_TAIL(&h, &e[7], t);
    QTAILQ_REMOVE_SEVERAL(&h, &e[1], &e[5], t);     /* 1 3 5 */
    dump_qtailq(&r, &h);                            /* 0 6 7 */
    dump_qtailq_reverse(&r, &h);                    /* 7 6 0 */
    QTAILQ_REMOVE_SEVERAL(&h, &e[6], &e[7], t);     /* up to the tail */
    dump_qtailq(&r, &h);                            /* 0 */
    QTAILQ_REMOVE_SEVERAL(&h, &e[0], &e[0], t);     /* the only one */
    put(&r, QTAILQ_EMPTY(&h));                      /* 1 */
    put_elm(&r, QTAILQ_LAST(&h));                   /* NULL */

    for (int i = 0; i < 6; i++) {
        QTAILQ_INSERT_TAIL(&h, &e[i], t);
    }
    QTAILQ_FOREACH_SAFE(v, &h, t, nv) {
        put(&r, v->id);                             /* 0 1 2 3 4 5 */
        if (v->id % 2 == 0) {
            QTAILQ_REMOVE(&h, v, t);
        }
    }
    put(&r, QOPS_END);
    dump_qtailq(&r, &h);                            /* 1 3 5 */
    QTAILQ_FOREACH_REVERSE_SAFE(v, &h, t, nv) {
        put(&r, v->id);                             /* 5 3 1 */
        if (v->id != 3) {
            QTAILQ_REMOVE(&h, v, t);
        }
    }
    put(&r, QOPS_END);
    dump_qtailq(&r, &h);                            /* 3 */

    QTAILQ_INIT(&h2);
    QTAILQ_INSERT_HEAD(&h2, &e[8], t);              /* into an empty queue: also the tail */
    QTAILQ_INSERT_TAIL(&h2, &e[9], t);
    dump_qtailq(&r, &h2);                           /* 8 9 */
    dump_qtailq_reverse(&r, &h2);                   /* 9 8 */
    return r.n;
}

size_t qops_raw(int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    QOp e[QOPS_N];
    fresh(e);
    QOpTailQ th = QTAILQ_HEAD_INITIALIZER(th);
    QOpList lh = QLIST_HEAD_INITIALIZER(lh);
    void *v;
    const size_t toff = offsetof(QOp, t), loff = offsetof(QOp, l);

    QTAILQ_RAW_INSERT_TAIL(&th, &e[4], toff);
    QTAILQ_RAW_INSERT_TAIL(&th, &e[2], toff);
    QTAILQ_INSERT_TAIL(&th, &e[7], t);
    QTAILQ_RAW_FOREACH(v, &th, toff) { put(&r, ((QOp *)v)->id); }
    put(&r, QOPS_END);                              /* 4 2 7 */
    dump_qtailq(&r, &th);                           /* 4 2 7 */
    dump_qtailq_reverse(&r, &th);                   /* 7 2 4 */
    put_elm(&r, *QTAILQ_RAW_FIRST(&th));            /* 4 */
    put_elm(&r, *QTAILQ_RAW_NEXT(&e[4], toff));     /* 2 */
    put(&r, QTAILQ_RAW_TQH_CIRC(&th)->tql_prev == &e[7].t.tqe_circ);     /* 1 */
    put(&r, QTAILQ_RAW_TQE_CIRC(&e[2], toff)->tql_prev == &e[4].t.tqe_circ); /* 1 */
    put(&r, *field_at_offset(&e[5], offsetof(QOp, id), int32_t));        /* 5 */

    QLIST_RAW_INSERT_HEAD(&lh, &e[3], loff);
    QLIST_RAW_INSERT_HEAD(&lh, &e[1], loff);
    QLIST_RAW_INSERT_AFTER(&lh, &e[3], &e[6], loff);
    QLIST_RAW_FOREACH(v, &lh, loff) { put(&r, ((QOp *)v)->id); }
    put(&r, QOPS_END);                              /* 1 3 6 */
    dump_qlist(&r, &lh);                            /* 1 3 6 */
    put_elm(&r, *QLIST_RAW_FIRST(&lh));             /* 1 */
    put_elm(&r, *QLIST_RAW_NEXT(&e[1], loff));      /* 3 */
    put(&r, *QLIST_RAW_PREVIOUS(&e[3], loff) == (void *)&e[1].l.le_next); /* 1 */
    QLIST_REMOVE(&e[3], l);
    dump_qlist(&r, &lh);                            /* 1 6 */
    return r.n;
}

size_t qops_layout(size_t *out, size_t cap) {
    const size_t v[] = {
        sizeof(QOpList),
        sizeof(((QOp *)0)->l),
        offsetof(QOp, l.le_next) - offsetof(QOp, l),
        offsetof(QOp, l.le_prev) - offsetof(QOp, l),
        sizeof(QOpSList),
        sizeof(((QOp *)0)->s),
        sizeof(QOpSimpleQ),
        offsetof(QOpSimpleQ, sqh_first),
        offsetof(QOpSimpleQ, sqh_last),
        sizeof(((QOp *)0)->q),
        sizeof(QOpTailQ),
        offsetof(QOpTailQ, tqh_first),
        offsetof(QOpTailQ, tqh_circ),
        sizeof(((QOp *)0)->t),
        offsetof(QOp, t.tqe_next) - offsetof(QOp, t),
        offsetof(QOp, t.tqe_circ) - offsetof(QOp, t),
        sizeof(QTailQLink),
        offsetof(QTailQLink, tql_next),
        offsetof(QTailQLink, tql_prev),
    };
    size_t n = sizeof(v) / sizeof(v[0]);
    for (size_t i = 0; i < n && i < cap; i++) {
        out[i] = v[i];
    }
    return n;
}

/* ---- queue-ops-dev ---- */

typedef struct QOpsReq {
    uint32_t id;
    uint16_t len;
    QTAILQ_ENTRY(QOpsReq) link;
} QOpsReq;

typedef struct QOpsItem {
    int32_t id;
    QSIMPLEQ_ENTRY(QOpsItem) pend_link;
    QSLIST_ENTRY(QOpsItem) spare_link;
} QOpsItem;

struct QOpsDev {
    uint32_t tag;
    QSIMPLEQ_HEAD(, QOpsItem) pend;
    QTAILQ_HEAD(, QOpsReq) reqs;
    QSLIST_HEAD(, QOpsItem) spare;
    uint16_t tail;
};

static const VMStateDescription qops_req_vmsd = {
    .name = "queue-ops-req",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(id, QOpsReq),
        VMSTATE_UINT16(len, QOpsReq),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription qops_dev_vmsd_ = {
    .name = "queue-ops-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32(tag, QOpsDev),
        VMSTATE_QTAILQ_V(reqs, QOpsDev, 1, qops_req_vmsd, QOpsReq, link),
        VMSTATE_UINT16(tail, QOpsDev),
        VMSTATE_END_OF_LIST()
    },
};

const VMStateDescription *qops_dev_vmsd(void) { return &qops_dev_vmsd_; }

size_t qops_dev_size(void) { return sizeof(QOpsDev); }

QOpsDev *qops_dev_new(void) {
    QOpsDev *d = g_new0(QOpsDev, 1);
    QSIMPLEQ_INIT(&d->pend);
    QTAILQ_INIT(&d->reqs);
    QSLIST_INIT(&d->spare);
    return d;
}

void qops_dev_free(QOpsDev *d) {
    QOpsReq *req, *nreq;
    QOpsItem *it, *nit;
    QTAILQ_FOREACH_SAFE(req, &d->reqs, link, nreq) {
        QTAILQ_REMOVE(&d->reqs, req, link);
        g_free(req);
    }
    QSIMPLEQ_FOREACH_SAFE(it, &d->pend, pend_link, nit) { g_free(it); }
    QSLIST_FOREACH_SAFE(it, &d->spare, spare_link, nit) { g_free(it); }
    g_free(d);
}

void qops_dev_set(QOpsDev *d, uint32_t tag, uint16_t tail) {
    d->tag = tag;
    d->tail = tail;
}

void qops_dev_add_req(QOpsDev *d, uint32_t id, uint16_t len) {
    QOpsReq *req = g_new0(QOpsReq, 1);
    req->id = id;
    req->len = len;
    QTAILQ_INSERT_TAIL(&d->reqs, req, link);
}

void qops_dev_add_pend(QOpsDev *d, int32_t id) {
    QOpsItem *it = g_new0(QOpsItem, 1);
    it->id = id;
    QSIMPLEQ_INSERT_TAIL(&d->pend, it, pend_link);
}

void qops_dev_add_spare(QOpsDev *d, int32_t id) {
    QOpsItem *it = g_new0(QOpsItem, 1);
    it->id = id;
    QSLIST_INSERT_HEAD(&d->spare, it, spare_link);
}

size_t qops_dev_describe(const QOpsDev *d, int32_t *out, size_t cap) {
    Rec r = { out, cap, 0 };
    const QOpsReq *req;
    const QOpsItem *it;
    bool ok = true;
    const QTailQLink *expect_prev = &d->reqs.tqh_circ;
    QOpsItem *const *last = &d->pend.sqh_first;

    put(&r, (int32_t)d->tag);
    put(&r, d->tail);
    QTAILQ_FOREACH(req, &d->reqs, link) {
        put(&r, (int32_t)req->id);
        put(&r, req->len);
        ok = ok && req->link.tqe_circ.tql_prev == expect_prev;
        expect_prev = &req->link.tqe_circ;
    }
    ok = ok && d->reqs.tqh_circ.tql_prev == expect_prev;
    put(&r, QOPS_END);
    QSIMPLEQ_FOREACH(it, &d->pend, pend_link) {
        put(&r, it->id);
        last = &it->pend_link.sqe_next;
    }
    ok = ok && d->pend.sqh_last == last;
    put(&r, QOPS_END);
    QSLIST_FOREACH(it, &d->spare, spare_link) { put(&r, it->id); }
    put(&r, QOPS_END);
    put(&r, ok);
    return r.n;
}
