/*
 * queue-ops: scripted sequences of qemu/queue.h operations (QLIST, QSLIST, QSIMPLEQ, QTAILQ and
 * the *_RAW_* forms) that record element ids into an array, so a Swift test can compare the
 * exact resulting orders; and "queue-ops-dev", a device whose QTAILQ is migrated
 * (VMSTATE_QTAILQ_V) next to QSIMPLEQ and QSLIST members the engine must leave alone.
 *
 * Every recorder writes at most `cap` int32 values into `out` and returns how many it wrote
 * (or the number it needed, if larger than cap: the extra values are dropped). A dump of a list
 * is its element ids in order followed by QOPS_END; a NULL element is recorded as QOPS_NULL.
 */
#ifndef QUEUE_OPS_H
#define QUEUE_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "migration/vmstate.h"

#define QOPS_END (-1)
#define QOPS_NULL (-2)

size_t qops_qlist(int32_t *out, size_t cap);
size_t qops_qslist(int32_t *out, size_t cap);
size_t qops_qsimpleq(int32_t *out, size_t cap);
size_t qops_qtailq(int32_t *out, size_t cap);
size_t qops_raw(int32_t *out, size_t cap);
/*
 * sizeof and offsetof of the heads and entries, in this order: QLIST head, QLIST entry,
 * le_next, le_prev, QSLIST head, QSLIST entry, QSIMPLEQ head, sqh_first, sqh_last,
 * QSIMPLEQ entry, QTAILQ head, tqh_first, tqh_circ, QTAILQ entry, tqe_next, tqe_circ,
 * QTailQLink, tql_next, tql_prev.
 */
size_t qops_layout(size_t *out, size_t cap);

/* "queue-ops-dev" v1: UINT32 tag, QTAILQ_V reqs (QOpsReq "queue-ops-req": UINT32 id,
 * UINT16 len), UINT16 tail. Its QSIMPLEQ pend and QSLIST spare are not described. */
typedef struct QOpsDev QOpsDev;
const VMStateDescription *qops_dev_vmsd(void);
/* sizeof(QOpsDev), for vmstate_registry_add_sized. */
size_t qops_dev_size(void);
/* A zeroed device with empty lists (free with qops_dev_free, which frees every element). */
QOpsDev *qops_dev_new(void);
void qops_dev_free(QOpsDev *d);
/* Set the described scalars; append a request (QTAILQ_INSERT_TAIL), a pending entry
 * (QSIMPLEQ_INSERT_TAIL) or a spare entry (QSLIST_INSERT_HEAD). */
void qops_dev_set(QOpsDev *d, uint32_t tag, uint16_t tail);
void qops_dev_add_req(QOpsDev *d, uint32_t id, uint16_t len);
void qops_dev_add_pend(QOpsDev *d, int32_t id);
void qops_dev_add_spare(QOpsDev *d, int32_t id);
/*
 * Records tag, tail, then the reqs (id, len pairs), QOPS_END, the pend ids, QOPS_END, the
 * spare ids, QOPS_END, then 1 if every QTAILQ prev-link and the QSIMPLEQ tail pointer are
 * consistent (else 0).
 */
size_t qops_dev_describe(const QOpsDev *d, int32_t *out, size_t cap);

#endif
