/* A device mixing every kind of step the engine's compiled fast path has (runs of scalars,
 * flat struct arrays, field_exists scalars, struct recursion, per-field fallbacks, subsections),
 * for tests that compare it with the per-field path. */
#ifndef FASTPATH_FIXTURES_H
#define FASTPATH_FIXTURES_H
#include "migration/vmstate.h"

typedef struct {
    uint32_t x;
    bool y;
    uint16_t z[2];
} FpItem; /* flat: inlined into its parent's run */

typedef struct {
    uint32_t v;
    uint64_t w; /* in subsection "fp-node/more" when more is set */
    bool more;
    FpItem inner[2];
} FpNode; /* not flat: has a subsection */

typedef struct {
    uint32_t a;
    uint16_t b; /* version 2 */
    bool c;
    uint64_t d[3];
    uint8_t e[5];
    int32_t f; /* field_exists: has_f */
    bool has_f;
    FpItem g[3];
    FpNode h[2];
    uint32_t late; /* version 3 */
    uint16_t n;
    uint16_t var[4]; /* n of them */
    uint32_t s; /* in subsection "fp-dev/sub" when has_sub is set */
    bool has_sub;
    int32_t post_loads; /* counts post_load calls of the nodes */
} FpDev;

const VMStateDescription *fp_dev_vmsd_ptr(void);
/* A separate but identical description object, planned first by the concurrency test. */
const VMStateDescription *fp_dev_race_vmsd_ptr(void);
const VMStateDescription *fp_item_vmsd_ptr(void);

/* A QTAILQ and a GTree of flat elements (list and tree elements take the flat shortcut). */
typedef struct FpEntry {
    uint32_t x;
    bool y;
    uint16_t z[2];
    QTAILQ_ENTRY(FpEntry) next;
} FpEntry;

typedef struct {
    uint32_t key;
} FpKey;

typedef struct {
    QTAILQ_HEAD(, FpEntry) entries;
    GTree *tree; /* FpKey -> FpItem */
    uint32_t tail;
} FpLists;

const VMStateDescription *fp_lists_vmsd_ptr(void);
/* `n` entries and `n` tree nodes with distinct values; free with fp_lists_free. */
FpLists *fp_lists_new(int n);
void fp_lists_free(FpLists *lists);

#endif
