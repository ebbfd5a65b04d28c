/*
 * Devices for the hostile-input tests and the fuzz targets (prefix hx_).
 *
 * Together they use every VMStateFlags bit and every standard VMStateInfo, with counters and
 * sizes loaded from the stream before the arrays and buffers they govern, pointers into the
 * device's own storage (so a checked load can bound them), allocations, lists, trees, a tmp
 * scratch struct, subsections, hooks that can fail, and a self-recursive description.
 *
 * Each fixture has an init function (`sample` false: a blank load target whose _equal fields
 * and pointers are set up; true: sample values worth saving), a cleanup that frees everything
 * init or a load allocated, and a digest over the struct and everything reachable from it
 * (lists, trees, allocated buffers), so a test can tell whether a load changed anything.
 */
#ifndef HOSTILE_FIXTURES_H
#define HOSTILE_FIXTURES_H
#include "migration/vmstate.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- shared element types ------------------------------------------------------------------ */

typedef struct HxPair {
    uint32_t a;
    uint16_t b;
} HxPair;

/* ---- hx-scalars: every scalar info, _equal/_le checks, timers, buffers, arrays, hooks ----- */

typedef struct HxScalars {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32; /* post_load fails when it is 0xDEADBEEF */
    uint64_t u64;
    CPU_DoubleU d[2];
    uint8_t eq8;
    uint16_t eq16;
    uint32_t eq32;
    int32_t ieq32;
    uint64_t eq64;
    int32_t le; /* int32_le: incoming must be 0..current */
    QEMUTimer timer;
    QEMUTimer *timer_ptr; /* -> timer_storage */
    QEMUTimer timer_storage;
    uint8_t buf[16];
    uint8_t partial[8];
    uint8_t middle[8];
    bool flags[4];
    uint16_t grid[2][3];
    uint32_t sub[6];
    uint64_t wide[2];
    int16_t s16[2];
    int32_t s32[2];
    int64_t s64[2];
    uint8_t v2only;  /* only in version 2 */
    uint32_t tested; /* present when u8 is odd */
    int32_t unlucky; /* VMSTATE_VALIDATE: le must not be this (13); not migrated */
    int pre_load_calls;
} HxScalars;

/* ---- hx-varray: counters in the struct governing arrays in the struct ---------------------- */

typedef struct HxVarray {
    uint8_t n8;
    uint16_t n16;
    int32_t n32;
    uint32_t nu32;
    int32_t ni32;
    uint32_t nmul;
    uint32_t nunused;
    HxPair p8[4];
    HxPair p32[4];
    HxPair pu32[4];
    uint16_t a16[8];
    uint32_t ai32[4];
    uint8_t mul[12];
    uint32_t tail;
} HxVarray;

/* ---- hx-ptr: pointer fields: allocated, into own storage, arrays of pointers -------------- */

typedef struct HxPtr {
    uint16_t n16;
    uint32_t nu32;
    int32_t nstruct;
    uint32_t blen;
    int32_t vlen;
    uint32_t vulen;
    uint32_t mlen;
    int32_t ni32;
    uint32_t nvu32;
    int32_t bits;
    int32_t nsp32;
    uint32_t nspu32;
    uint16_t nsp16;
    /* allocated on load (NULL in a blank target) */
    uint16_t *a16;
    uint32_t *a32;
    HxPair *pairs;
    uint8_t *blob;
    /* pointing into `st` below */
    uint8_t *vbuf;
    uint8_t *vubuf;
    uint8_t *mbuf;
    int32_t *vi32;
    uint32_t *vu32;
    unsigned long *bitmap;
    uint64_t *pval;
    HxPair *sp;
    HxPair *spi32;
    HxPair *spu32;
    HxPair *spu16;
    HxPair *known;
    uint8_t *raw;
    HxPair *pa[3];     /* pa[1] NULL */
    QEMUTimer *tp[2];  /* tp[1] NULL */
    void *nulls[2];    /* both NULL, vmstate_info_nullptr */
    struct {
        uint8_t vb[32];
        uint8_t vub[16];
        uint8_t mb[16];
        int32_t vi[4];
        uint32_t vu[4];
        unsigned long bm[2];
        uint64_t val;
        HxPair sps[4];
        HxPair spi[4];
        HxPair spu[4];
        HxPair sp16[4];
        HxPair known[2];
        uint8_t raws[4];
        HxPair pas[2];
        QEMUTimer t0;
    } st;
} HxPtr;

/* ---- hx-nest: structs, vstructs, tmp, subsections (nested), hooks ------------------------- */

typedef struct HxInner {
    uint32_t x;
    uint8_t y[2]; /* version 2 */
} HxInner;

typedef struct HxNest {
    HxInner one;
    HxInner arr[3];
    HxInner grid[2][2];
    HxInner sub[4];
    HxInner v;
    HxInner tested;
    bool has_tested;
    uint16_t tv[3];
    uint16_t tn;
    uint32_t sub_a; /* subsection hx-nest/a; its post_load fails on 0xBAD */
    uint64_t sub_b; /* subsection hx-nest/b */
    uint32_t sub_c; /* subsection hx-nest/b/c, nested in hx-nest/b */
    int pre_load_calls;
    int post_load_calls;
} HxNest;

typedef struct HxNestTmp {
    HxNest *parent;
    uint16_t n;
    uint16_t vals[3];
} HxNestTmp;

/* ---- hx-coll: QTAILQ (elements with an allocated buffer), QLIST, GTrees ------------------- */

typedef struct HxElem {
    uint32_t id;
    uint32_t len;
    uint8_t *data; /* len bytes, allocated on load */
    QTAILQ_ENTRY(HxElem) next;
} HxElem;

typedef struct HxLink {
    uint16_t v;
    QLIST_ENTRY(HxLink) link;
} HxLink;

typedef struct HxKey {
    uint64_t k;
} HxKey;

typedef struct HxVal {
    uint32_t a;
    uint32_t b;
} HxVal;

typedef struct HxColl {
    uint32_t before;
    QTAILQ_HEAD(, HxElem) q;
    QLIST_HEAD(, HxLink) l;
    GTree *tree;  /* HxKey * -> HxVal *, both freed by the tree */
    GTree *dtree; /* direct uint64 keys -> HxVal *, values freed by the tree */
    uint32_t after;
} HxColl;

/* ---- hx-deep: a description that contains a list of itself -------------------------------- */

typedef struct HxNode {
    uint32_t v;
    QTAILQ_HEAD(, HxNode) kids;
    QTAILQ_ENTRY(HxNode) next;
} HxNode;

typedef struct HxDeep {
    HxNode root;
} HxDeep;

/* ---- hx-custom: a device-written VMStateInfo using the qemu_get_* / peek / skip API -------- */

typedef struct HxCustom {
    uint32_t head;
    uint8_t name[16]; /* custom info: counted string, clamped */
    uint8_t bytes[8]; /* custom info: be16 length, then that many bytes (at most 8 kept) */
    uint32_t tail;
} HxCustom;

/* ---- the fixture table --------------------------------------------------------------------- */

typedef struct HxFixture {
    const char *name; /* also the registry idstr */
    const VMStateDescription *vmsd;
    size_t size;
    void (*init)(void *opaque, bool sample);
    void (*cleanup)(void *opaque);
    uint64_t (*digest)(const void *opaque);
} HxFixture;

/* All fixtures; `*count` receives how many. */
const HxFixture *hx_fixtures(size_t *count);
/* The fixture called `name`, or NULL. */
const HxFixture *hx_fixture(const char *name);

/* A new zeroed struct of the fixture's exact size, initialised; free with hx_destroy. */
void *hx_create(const HxFixture *fx, bool sample);
void hx_destroy(const HxFixture *fx, void *opaque);

/* FNV-1a over bytes, chained. */
uint64_t hx_hash(uint64_t h, const void *data, size_t len);

/* Counters of hook calls across all fixtures (reset with hx_reset_counters). */
extern int hx_post_load_failures;
void hx_reset_counters(void);

/* Descriptions by address (Swift may copy imported globals). */
const VMStateDescription *hx_scalars_vmsd_ptr(void);
const VMStateDescription *hx_varray_vmsd_ptr(void);
const VMStateDescription *hx_ptr_vmsd_ptr(void);
const VMStateDescription *hx_nest_vmsd_ptr(void);
const VMStateDescription *hx_coll_vmsd_ptr(void);
const VMStateDescription *hx_deep_vmsd_ptr(void);
const VMStateDescription *hx_custom_vmsd_ptr(void);

/* Helpers for Swift tests (list/tree access without C macros). */
size_t hx_coll_queue_length(const HxColl *s);
size_t hx_coll_list_length(const HxColl *s);
int hx_coll_tree_size(const HxColl *s);
int hx_coll_dtree_size(const HxColl *s);
/* Adds a pre-existing element / node (as a device would before a load). */
void hx_coll_add_elem(HxColl *s, uint32_t id, uint32_t len);
void hx_coll_add_link(HxColl *s, uint16_t v);
void hx_coll_add_tree(HxColl *s, uint64_t key, uint32_t a, uint32_t b);
void hx_coll_add_dtree(HxColl *s, uint64_t key, uint32_t a, uint32_t b);
size_t hx_deep_depth(const HxDeep *s);

#ifdef __cplusplus
}
#endif
#endif
