/*
 * fx-queues: a request-queue device holding a QTAILQ of requests, a QLIST of open handles,
 * a GTree of address ranges -> mappings (keys described by a second description) and a GTree
 * of domains keyed directly by their id (GUINT_TO_POINTER keys).
 */
#ifndef FX_QUEUES_H
#define FX_QUEUES_H

#include "fx_common.h"

typedef struct FxQReq {
    uint32_t id;
    uint32_t opcode;
    uint64_t lba;
    QTAILQ_ENTRY(FxQReq) next;
} FxQReq;

typedef struct FxQHandle {
    int32_t fd;
    uint32_t flags;
    QLIST_ENTRY(FxQHandle) link;
} FxQHandle;

/* GTree key of `mappings` (compared by `low`) */
typedef struct FxRange {
    uint64_t low;
    uint64_t high;
} FxRange;

/* GTree value of `mappings` */
typedef struct FxMapping {
    uint64_t phys;
    uint32_t prot;
} FxMapping;

/* GTree value of `domains`; the key is GUINT_TO_POINTER(id) */
typedef struct FxDomain {
    uint32_t id;
    uint32_t nr_endpoints;
    bool bypass;
} FxDomain;

typedef struct FxQueuesState {
    uint32_t next_id;
    QTAILQ_HEAD(, FxQReq) pending;
    QLIST_HEAD(, FxQHandle) handles;
    GTree *mappings;             /* FxRange * -> FxMapping *, both g_malloc'd */
    GTree *domains;              /* GUINT_TO_POINTER(id) -> FxDomain * */
} FxQueuesState;

extern const VMStateDescription fx_qreq_vmsd;
extern const VMStateDescription fx_qhandle_vmsd;
/* [0] describes the values (FxMapping), [1] the keys (FxRange). */
extern const VMStateDescription fx_mapping_vmsds[2];
extern const VMStateDescription fx_domain_vmsd;
extern const VMStateDescription fx_queues_vmsd;
extern const VMStateField fx_qreq_fields[];
extern const VMStateField fx_qhandle_fields[];
extern const VMStateField fx_mapping_fields[];
extern const VMStateField fx_range_fields[];
extern const VMStateField fx_domain_fields[];
extern const VMStateField fx_queues_fields[];

gint fx_range_compare(gconstpointer a, gconstpointer b, gpointer user_data);
gint fx_domain_id_compare(gconstpointer a, gconstpointer b, gpointer user_data);

void fx_queues_init(void *state, unsigned seed);
void fx_queues_cleanup(void *state);

#endif
