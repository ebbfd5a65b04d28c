/*
 * The benchmark's devices, described with the VMSTATE_* macros:
 *   cpu    about 300 scalar fields of mixed widths, a few arrays, a custom info, subsections
 *   table  an array of 4,096 structs of 8 fields
 *   bulk   a 64 MiB buffer and a 4-million-element uint32 array
 *   deep   structs nested 6 levels, each with a subsection and field_exists tests
 *   lists  a QTAILQ and a GTree of 10,000 elements each
 */
#include "cases.h"

#include <string.h>

/* Fills `n` bytes with a pattern that differs per byte and per object. */
static void fill(void *p, size_t n, uint32_t seed) {
    uint8_t *b = p;
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        b[i] = (uint8_t)x;
    }
}

static bool always(void *opaque) { return true; }
static bool never(void *opaque) { return false; }
static bool exists_yes(void *opaque, int version_id) { return true; }
static bool exists_no(void *opaque, int version_id) { return false; }

/* ==== cpu =================================================================================== */

/* Ten scalar fields of mixed widths (type, VMSTATE_ macro suffix, name). */
#define MIX10(X, p)                                                                              \
    X(uint32_t, UINT32, p##0) X(uint8_t, UINT8, p##1) X(uint64_t, UINT64, p##2)                  \
    X(uint16_t, UINT16, p##3) X(int32_t, INT32, p##4) X(bool, BOOL, p##5)                        \
    X(uint64_t, UINT64, p##6) X(uint32_t, UINT32, p##7) X(int64_t, INT64, p##8)                  \
    X(uint8_t, UINT8, p##9)
#define CPU_SCALARS(X)                                                                           \
    MIX10(X, ra) MIX10(X, rb) MIX10(X, rc) MIX10(X, rd) MIX10(X, re) MIX10(X, rf)                \
    MIX10(X, rg) MIX10(X, rh) MIX10(X, ri) MIX10(X, rj) MIX10(X, rk) MIX10(X, rl)                \
    MIX10(X, rm) MIX10(X, rn) MIX10(X, ro) MIX10(X, rp) MIX10(X, rq) MIX10(X, rr)                \
    MIX10(X, rs) MIX10(X, rt) MIX10(X, ru) MIX10(X, rv) MIX10(X, rw) MIX10(X, rx)                \
    MIX10(X, ry) MIX10(X, rz) MIX10(X, sa) MIX10(X, sb) MIX10(X, sc) MIX10(X, sd)
#define CPU_MEMBER(type, macro, name) type name;
#define CPU_FIELD(type, macro, name) VMSTATE_##macro(name, BenchCPU),
#define CPU_COUNT(type, macro, name) +1

typedef struct BenchCPU {
    CPU_SCALARS(CPU_MEMBER)
    uint64_t gpr[16];
    uint32_t xmm[64];
    uint8_t cmos[128];
    uint16_t fpus[8];
    CPU_DoubleU fpregs[8];
    uint32_t eflags_lo, eflags_hi; /* one custom info saves both */
    uint64_t msr[32];
    uint32_t pkru;
    uint64_t tsc_aux;
    uint64_t pmc[8];
    uint32_t pmu_version;
    uint64_t nested[64];
} BenchCPU;

/* A device-specific info, as devices have: it writes two words with qemu_put_be32. */
static int put_eflags(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JSONWriter *vmdesc) {
    uint32_t *w = pv;
    qemu_put_be32(f, w[0]);
    qemu_put_be32(f, w[1]);
    return 0;
}
static int get_eflags(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    uint32_t *w = pv;
    w[0] = qemu_get_be32(f);
    w[1] = qemu_get_be32(f);
    return 0;
}
static const VMStateInfo info_eflags = {.name = "eflags", .get = get_eflags, .put = put_eflags};

static const VMStateDescription vmstate_cpu_msr = {
    .name = "bench-cpu/msr",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = always,
    .fields = (VMStateField[]){VMSTATE_UINT64_ARRAY(msr, BenchCPU, 32),
                               VMSTATE_UINT32(pkru, BenchCPU), VMSTATE_UINT64(tsc_aux, BenchCPU),
                               VMSTATE_END_OF_LIST()},
};
static const VMStateDescription vmstate_cpu_pmu = {
    .name = "bench-cpu/pmu",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = always,
    .fields = (VMStateField[]){VMSTATE_UINT64_ARRAY(pmc, BenchCPU, 8),
                               VMSTATE_UINT32(pmu_version, BenchCPU), VMSTATE_END_OF_LIST()},
};
static const VMStateDescription vmstate_cpu_nested = {
    .name = "bench-cpu/nested",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = never,
    .fields = (VMStateField[]){VMSTATE_UINT64_ARRAY(nested, BenchCPU, 64), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_cpu = {
    .name = "bench-cpu",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields =
        (VMStateField[]){
            CPU_SCALARS(CPU_FIELD)
            VMSTATE_UINT64_ARRAY(gpr, BenchCPU, 16),
            VMSTATE_UINT32_ARRAY(xmm, BenchCPU, 64),
            VMSTATE_UINT8_ARRAY(cmos, BenchCPU, 128),
            VMSTATE_UINT16_ARRAY(fpus, BenchCPU, 8),
            VMSTATE_CPUDOUBLE_ARRAY(fpregs, BenchCPU, 8),
            VMSTATE_SINGLE(eflags_lo, BenchCPU, 2, info_eflags, uint32_t),
            VMSTATE_END_OF_LIST(),
        },
    .subsections =
        (const VMStateDescription *[]){&vmstate_cpu_msr, &vmstate_cpu_pmu, &vmstate_cpu_nested,
                                       NULL},
};

static void *cpu_create_empty(void) { return g_malloc0(sizeof(BenchCPU)); }
static void *cpu_create(void) {
    BenchCPU *c = cpu_create_empty();
    fill(c, sizeof *c, 1);
    /* bools hold 0 or 1 */
#define CPU_FIX_BOOL(type, macro, name)                                                          \
    if (__builtin_types_compatible_p(type, bool)) *(uint8_t *)&c->name &= 1;
    CPU_SCALARS(CPU_FIX_BOOL)
    return c;
}

/* ==== table ================================================================================= */

typedef struct BenchEntry {
    uint64_t addr;
    uint32_t flags;
    uint32_t len;
    uint16_t id;
    uint16_t type;
    uint8_t state;
    bool valid;
    int32_t owner;
} BenchEntry;

typedef struct BenchTable {
    BenchEntry entries[4096];
} BenchTable;

static const VMStateDescription vmstate_entry = {
    .name = "bench-entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT64(addr, BenchEntry), VMSTATE_UINT32(flags, BenchEntry),
                               VMSTATE_UINT32(len, BenchEntry), VMSTATE_UINT16(id, BenchEntry),
                               VMSTATE_UINT16(type, BenchEntry), VMSTATE_UINT8(state, BenchEntry),
                               VMSTATE_BOOL(valid, BenchEntry), VMSTATE_INT32(owner, BenchEntry),
                               VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_table = {
    .name = "bench-table",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_STRUCT_ARRAY(entries, BenchTable, 4096, 1, vmstate_entry,
                                                    BenchEntry),
                               VMSTATE_END_OF_LIST()},
};

static void *table_create_empty(void) { return g_malloc0(sizeof(BenchTable)); }
static void *table_create(void) {
    BenchTable *t = table_create_empty();
    fill(t, sizeof *t, 2);
    for (int i = 0; i < 4096; i++) *(uint8_t *)&t->entries[i].valid &= 1;
    return t;
}

/* ==== bulk ================================================================================== */

#define BULK_BUFFER (64u << 20)
#define BULK_WORDS (4u << 20)

typedef struct BenchBulk {
    uint8_t *ram;
    uint32_t nwords;
    uint32_t *words;
} BenchBulk;

static const VMStateDescription vmstate_bulk = {
    .name = "bench-bulk",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_BUFFER_POINTER_UNSAFE(ram, BenchBulk, 0, BULK_BUFFER),
                               VMSTATE_VARRAY_UINT32(words, BenchBulk, nwords, 0,
                                                     vmstate_info_uint32, uint32_t),
                               VMSTATE_END_OF_LIST()},
};

static void *bulk_create_empty(void) {
    BenchBulk *b = g_malloc0(sizeof *b);
    b->ram = g_malloc0(BULK_BUFFER);
    b->words = g_malloc0(BULK_WORDS * sizeof(uint32_t));
    /* touch every page so that no case pays for first-touch faults in its timing */
    memset(b->ram, 0, BULK_BUFFER);
    memset(b->words, 0, BULK_WORDS * sizeof(uint32_t));
    b->nwords = BULK_WORDS;
    return b;
}
static void *bulk_create(void) {
    BenchBulk *b = bulk_create_empty();
    fill(b->ram, BULK_BUFFER, 3);
    fill(b->words, BULK_WORDS * sizeof(uint32_t), 4);
    return b;
}
static void bulk_destroy(void *p) {
    BenchBulk *b = p;
    g_free(b->ram);
    g_free(b->words);
    g_free(b);
}

/* ==== deep ================================================================================== */

/* Level k holds scalars, two children of level k+1, and a subsection; `d` and `opt` have
 * field_exists tests (one true, one false). */
#define DEEP_COMMON                                                                              \
    uint32_t a;                                                                                  \
    uint64_t b;                                                                                  \
    uint16_t c[4];                                                                               \
    bool flag;                                                                                   \
    int32_t d;                                                                                   \
    uint32_t opt;                                                                                \
    uint8_t e[8];                                                                                \
    uint32_t extra1;                                                                             \
    uint64_t extra2;

#define DEEP_FIELDS(T)                                                                           \
    VMSTATE_UINT32(a, T), VMSTATE_UINT64(b, T), VMSTATE_UINT16_ARRAY(c, T, 4),                   \
        VMSTATE_BOOL(flag, T), VMSTATE_INT32_TEST(d, T, exists_yes),                             \
        VMSTATE_UINT32_TEST(opt, T, exists_no), VMSTATE_UINT8_ARRAY(e, T, 8)

#define DEEP_SUB(k, T)                                                                           \
    static const VMStateDescription vmstate_deep##k##_extra = {                                  \
        .name = "bench-deep" #k "/extra",                                                        \
        .version_id = 1,                                                                         \
        .minimum_version_id = 1,                                                                 \
        .needed = always,                                                                        \
        .fields = (VMStateField[]){VMSTATE_UINT32(extra1, T), VMSTATE_UINT64(extra2, T),         \
                                   VMSTATE_END_OF_LIST()},                                       \
    };

typedef struct Deep5 {
    DEEP_COMMON
} Deep5;
DEEP_SUB(5, Deep5)
static const VMStateDescription vmstate_deep5 = {
    .name = "bench-deep5",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){DEEP_FIELDS(Deep5), VMSTATE_END_OF_LIST()},
    .subsections = (const VMStateDescription *[]){&vmstate_deep5_extra, NULL},
};

#define DEEP_LEVEL(k, child)                                                                     \
    typedef struct Deep##k {                                                                     \
        DEEP_COMMON                                                                              \
        Deep##child kids[2];                                                                     \
    } Deep##k;                                                                                   \
    DEEP_SUB(k, Deep##k)                                                                         \
    static const VMStateDescription vmstate_deep##k = {                                          \
        .name = "bench-deep" #k,                                                                 \
        .version_id = 1,                                                                         \
        .minimum_version_id = 1,                                                                 \
        .fields = (VMStateField[]){DEEP_FIELDS(Deep##k),                                         \
                                   VMSTATE_STRUCT_ARRAY(kids, Deep##k, 2, 1, vmstate_deep##child, \
                                                        Deep##child),                            \
                                   VMSTATE_END_OF_LIST()},                                       \
        .subsections = (const VMStateDescription *[]){&vmstate_deep##k##_extra, NULL},           \
    };

DEEP_LEVEL(4, 5)
DEEP_LEVEL(3, 4)
DEEP_LEVEL(2, 3)
DEEP_LEVEL(1, 2)
DEEP_LEVEL(0, 1)

static void *deep_create_empty(void) { return g_malloc0(sizeof(Deep0)); }

/* bools hold 0 or 1 (set through a byte: the random fill may have left any value) */
#define DEEP_FIX(node) (*(uint8_t *)&(node)->flag &= 1)
static void *deep_create(void) {
    Deep0 *d = deep_create_empty();
    fill(d, sizeof *d, 5);
    DEEP_FIX(d);
    for (int i = 0; i < 2; i++) {
        Deep1 *d1 = &d->kids[i];
        DEEP_FIX(d1);
        for (int j = 0; j < 2; j++) {
            Deep2 *d2 = &d1->kids[j];
            DEEP_FIX(d2);
            for (int k = 0; k < 2; k++) {
                Deep3 *d3 = &d2->kids[k];
                DEEP_FIX(d3);
                for (int l = 0; l < 2; l++) {
                    Deep4 *d4 = &d3->kids[l];
                    DEEP_FIX(d4);
                    for (int m = 0; m < 2; m++) DEEP_FIX(&d4->kids[m]);
                }
            }
        }
    }
    return d;
}

/* ==== lists ================================================================================= */

#define LIST_COUNT 10000

typedef struct ListItem {
    uint32_t id;
    uint64_t value;
    QTAILQ_ENTRY(ListItem) next;
} ListItem;

typedef struct TreeKey {
    uint32_t key;
} TreeKey;

typedef struct TreeValue {
    uint64_t a;
    uint32_t b;
} TreeValue;

typedef struct BenchLists {
    QTAILQ_HEAD(, ListItem) items;
    GTree *tree;
} BenchLists;

static const VMStateDescription vmstate_item = {
    .name = "bench-item",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT32(id, ListItem), VMSTATE_UINT64(value, ListItem),
                               VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_tree[2] = {
    {
        .name = "bench-tree-value",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (VMStateField[]){VMSTATE_UINT64(a, TreeValue), VMSTATE_UINT32(b, TreeValue),
                                   VMSTATE_END_OF_LIST()},
    },
    {
        .name = "bench-tree-key",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (VMStateField[]){VMSTATE_UINT32(key, TreeKey), VMSTATE_END_OF_LIST()},
    },
};

static const VMStateDescription vmstate_lists = {
    .name = "bench-lists",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_QTAILQ_V(items, BenchLists, 1, vmstate_item, ListItem, next),
                               VMSTATE_GTREE_V(tree, BenchLists, 1, vmstate_tree, TreeKey,
                                               TreeValue),
                               VMSTATE_END_OF_LIST()},
};

static gint key_compare(gconstpointer a, gconstpointer b, gpointer data) {
    uint32_t x = ((const TreeKey *)a)->key, y = ((const TreeKey *)b)->key;
    return x < y ? -1 : x > y;
}

static void lists_empty(void *p) {
    BenchLists *l = p;
    ListItem *item, *next;
    QTAILQ_FOREACH_SAFE(item, &l->items, next, next) g_free(item);
    QTAILQ_INIT(&l->items);
    g_tree_remove_all(l->tree);
}

static void *lists_create_empty(void) {
    BenchLists *l = g_malloc0(sizeof *l);
    QTAILQ_INIT(&l->items);
    l->tree = g_tree_new_full(key_compare, NULL, g_free, g_free);
    return l;
}

static void *lists_create(void) {
    BenchLists *l = lists_create_empty();
    for (uint32_t i = 0; i < LIST_COUNT; i++) {
        ListItem *item = g_new0(ListItem, 1);
        item->id = i;
        item->value = (uint64_t)i * 0x9E3779B97F4A7C15ull;
        QTAILQ_INSERT_TAIL(&l->items, item, next);
        TreeKey *key = g_new0(TreeKey, 1);
        key->key = i * 7919u;
        TreeValue *value = g_new0(TreeValue, 1);
        value->a = (uint64_t)i << 20 | 0xabc;
        value->b = ~i;
        g_tree_insert(l->tree, key, value);
    }
    return l;
}

static void lists_destroy(void *p) {
    BenchLists *l = p;
    lists_empty(l);
    g_tree_unref(l->tree);
    g_free(l);
}

/* ==== the table of cases ==================================================================== */

#define CPU_SCALAR_COUNT (0 CPU_SCALARS(CPU_COUNT))

const BenchCase bench_cases[] = {
    {"cpu", "300 mixed scalars, 5 arrays, custom info, 3 subsections (2 needed)", &vmstate_cpu,
     cpu_create, cpu_create_empty, NULL, g_free,
     /* scalars, arrays, the custom field, msr subsection, pmu subsection */
     CPU_SCALAR_COUNT + 16 + 64 + 128 + 8 + 8 + 1 + (32 + 2) + (8 + 1), sizeof(BenchCPU)},
    {"table", "4,096 structs of 8 scalars", &vmstate_table, table_create, table_create_empty,
     NULL, g_free, 4096 * 8, sizeof(BenchTable)},
    {"bulk", "64 MiB buffer + 4 Mi uint32", &vmstate_bulk, bulk_create, bulk_create_empty, NULL,
     bulk_destroy, 1 + BULK_WORDS, sizeof(BenchBulk)},
    {"deep", "6 levels of structs (127 nodes), subsections, field_exists", &vmstate_deep0,
     deep_create, deep_create_empty, NULL, g_free,
     /* per node: a, b, c[4], flag, d, e[8] and the subsection's 2 (opt does not exist) */
     127 * (1 + 1 + 4 + 1 + 1 + 8 + 2), sizeof(Deep0)},
    {"lists", "QTAILQ and GTree of 10,000 elements each", &vmstate_lists, lists_create,
     lists_create_empty, lists_empty, lists_destroy,
     /* each list element's 2 fields, each tree node's key and 2 value fields */
     LIST_COUNT * 2 + LIST_COUNT * 3, sizeof(BenchLists)},
};
const int bench_case_count = sizeof bench_cases / sizeof bench_cases[0];
