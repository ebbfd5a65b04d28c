/*
 * C fixture devices for the engine acceptance tests (Tests/VMStateTests/Engine*.swift).
 *
 * Every description is reached through an eng_vmsd_* function so that Swift gets the address
 * of the C object itself (Swift may copy imported globals). Device structs are plain C structs
 * that the tests fill in; helpers are provided only for things Swift handles badly (intrusive
 * lists, GTree, char logs).
 */
#ifndef ENGINE_FIXTURES_H
#define ENGINE_FIXTURES_H

#include "migration/vmstate.h"

/* ---- a small nested struct used everywhere ------------------------------------------------ */

/* "eng-inner" v1: uint16 a, uint32 b (6 bytes). */
typedef struct EngInner {
    uint16_t a;
    uint32_t b;
} EngInner;
const VMStateDescription *eng_vmsd_inner(void);

/* ---- standard scalar infos ------------------------------------------------------------------ */

/* "eng-scalars" v1: bool b, int8..int64, uint8..uint64, CPU_DoubleU d (39 bytes). */
typedef struct EngScalars {
    bool b;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    CPU_DoubleU d;
} EngScalars;
const VMStateDescription *eng_vmsd_scalars(void);

/* "eng-bools" v1: BOOL_ARRAY flags[4]. */
typedef struct EngBools {
    bool flags[4];
} EngBools;
const VMStateDescription *eng_vmsd_bools(void);

/* "eng-equal" v1: INT32_EQUAL i32, UINT8_EQUAL u8, UINT16_EQUAL u16, UINT32_EQUAL u32,
 * UINT64_EQUAL u64 (err hints "hint-<name>"), INT32_POSITIVE_LE le. */
typedef struct EngEqual {
    int32_t i32;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int32_t le;
} EngEqual;
const VMStateDescription *eng_vmsd_equal(void);

/* "eng-buffers" v1: BUFFER buf (4), UNUSED(3), BUFFER_START_MIDDLE mid from 2 (4 bytes),
 * PARTIAL_BUFFER part (first 3 bytes), UINT8 tail. */
typedef struct EngBuffers {
    uint8_t buf[4];
    uint8_t mid[6];
    uint8_t part[8];
    uint8_t tail;
} EngBuffers;
const VMStateDescription *eng_vmsd_buffers(void);

/* "eng-nullptr-save" v1: UINT8 before, ptrs[2] as an ARRAY_OF_POINTER of vmstate_info_nullptr,
 * UINT8 after. "eng-nullptr-load" v1: UINT8 before, one VMS_SINGLE nullptr field, UINT8 after. */
typedef struct EngNullptr {
    uint8_t before;
    void *ptrs[2];
    uint8_t after;
} EngNullptr;
const VMStateDescription *eng_vmsd_nullptr_save(void);
const VMStateDescription *eng_vmsd_nullptr_load(void);
/* Calls vmstate_info_nullptr.put(f, NULL, ...) / .get directly from C. */
int eng_call_nullptr_put(QEMUFile *f);
int eng_call_nullptr_get(QEMUFile *f);

/* "eng-timers" v1: TIMER t, TIMER_PTR tp, TIMER_PTR_ARRAY arr[3]. */
typedef struct EngTimers {
    QEMUTimer t;
    QEMUTimer *tp;
    QEMUTimer *arr[3];
} EngTimers;
const VMStateDescription *eng_vmsd_timers(void);

/* Custom timer functions: timers initialised with eng_special_timer_init are "special": reading
 * one returns ENG_SPECIAL_EXPIRE and records the call; mod/del record the call and the value.
 * Every other timer behaves as with the default functions, so concurrent tests are unaffected. */
#define ENG_SPECIAL_EXPIRE 0x0102030405060708LL
typedef struct EngTimerRecord {
    int reads;
    int mods;
    int dels;
    int64_t last_mod;
    int user_ok; /* every call received &record as its user pointer */
} EngTimerRecord;
void eng_special_timer_init(QEMUTimer *t);
void eng_timer_ops_install(EngTimerRecord *record);
void eng_timer_ops_reset(void);

/* A trace of the installed functions' mod and del calls, of every timer, made on the calling
 * thread between eng_timer_trace_start and eng_timer_trace_stop (other threads' calls, from
 * tests running at the same time, are not in it). */
typedef struct EngTimerCall {
    char op; /* 'm' (mod) or 'd' (del) */
    const QEMUTimer *timer;
    int64_t expire; /* mod's; -1 for del */
} EngTimerCall;
#define ENG_TIMER_TRACE_MAX 32
void eng_timer_trace_start(void);
/* Stops the trace; copies its first min(count, max) calls to `out` and returns the count. */
int eng_timer_trace_stop(EngTimerCall *out, int max);

/* "eng-timer-alloc" v1: INT32 n; STRUCT_VARRAY_ALLOC elems (n elements of "eng-timer-elem" v1:
 * TIMER t, UINT8 v, in memory the load allocates); UINT8_EQUAL tail. */
typedef struct EngTimerElem {
    QEMUTimer t;
    uint8_t v;
} EngTimerElem;
typedef struct EngTimerAlloc {
    int32_t n;
    EngTimerElem *elems;
    uint8_t tail;
} EngTimerAlloc;
const VMStateDescription *eng_vmsd_timer_alloc(void);

/* "eng-planted" v1 (as QEMU 7.2's openpic: a stream count past an array reaches a pointer the
 * load then writes through): UINT32 n; STRUCT_VARRAY_UINT32 arr (n elements of
 * "eng-planted-word" v1, UINT64 x, room for 2);
 * STRUCT_VARRAY_UINT32 slots (ns elements of "eng-planted-slot" v1: UINT8 v, TIMER_PTR t, room
 * for 2, as hpet's timers); UINT32 ns before it; BUFFER_POINTER_UNSAFE target (8 bytes through
 * the pointer). */
typedef struct EngPlantedWord {
    uint64_t x;
} EngPlantedWord;
typedef struct EngPlantedSlot {
    uint8_t v;
    QEMUTimer *t;
} EngPlantedSlot;
typedef struct EngPlanted {
    uint32_t n;
    uint32_t ns;
    EngPlantedWord arr[2];
    uint64_t *target;
    EngPlantedSlot slots[2];
} EngPlanted;
const VMStateDescription *eng_vmsd_planted(void);

/* "eng-planted-hook" v1: UINT32 n; STRUCT_VARRAY_UINT32 e (n elements of "eng-planted-helem"
 * v1, room for 2, whose pre_load points `t` at the element's own `spare`: UINT32 i, TIMER_PTR t).
 * A hook, not the stream, writes the pointer: followed. */
typedef struct EngPlantedHookElem {
    uint32_t i;
    QEMUTimer *t;
    QEMUTimer spare;
} EngPlantedHookElem;
typedef struct EngPlantedHook {
    uint32_t n;
    EngPlantedHookElem e[2];
} EngPlantedHook;
const VMStateDescription *eng_vmsd_planted_hook(void);

/* "eng-planted-alloc" v1: INT32 n; STRUCT_VARRAY_ALLOC e (n elements, in memory the load
 * allocates, of "eng-planted-aelem" v1: INT32 m; ARRAY_INT32_UNSAFE a (m uint32, room for 2);
 * ARRAY_OF_POINTER p (1 uint32 *)): m above 2 writes over p[0] inside engine memory. */
typedef struct EngPlantedAllocElem {
    int32_t m;
    uint32_t a[2];
    uint32_t *p[1];
} EngPlantedAllocElem;
typedef struct EngPlantedAlloc {
    int32_t n;
    EngPlantedAllocElem *e;
} EngPlantedAlloc;
const VMStateDescription *eng_vmsd_planted_alloc(void);

/* "eng-timer-overrun" v1: INT32 n; ARRAY_INT32_UNSAFE a (n uint32, room for 2); TIMER t (inline,
 * at offset 16): a count above 2 runs onto t (a[3], a[4]: expire_time; a[5], a[6]: timer_list). */
typedef struct EngTimerOverrun {
    int32_t n;
    uint32_t a[2];
    QEMUTimer t;
} EngTimerOverrun;
const VMStateDescription *eng_vmsd_timer_overrun(void);
/* "eng-timer-overrun-late" v1: TIMER t first (armed), then INT32 n; ARRAY_INT32_UNSAFE a (n
 * uint32, room for 2; a[5], a[6] are t.timer_list); UINT8_EQUAL tail: a load that armed t, then
 * wrote over its pointers, then failed. */
typedef struct EngTimerOverrunLate {
    int32_t n;
    uint32_t a[2];
    QEMUTimer t;
    uint8_t tail;
} EngTimerOverrunLate;
const VMStateDescription *eng_vmsd_timer_overrun_late(void);

/* "eng-counted" v1 (a checked load's compiled runs inside a counted field record what they
 * write): UINT32 n; STRUCT_VARRAY_UINT32 e (n elements of "eng-counted-elem" v1, room for 2:
 * UINT16 tag; STRUCT_ARRAY pairs (2 of "eng-counted-pair" v1: UINT8 a, UINT32 b, flat); UINT64
 * w; TIMER_PTR t); then undescribed room, so that e[2] lies in the struct with its `w` on
 * `target` and its `t` on `spare`; BUFFER_POINTER_UNSAFE target (8 bytes through the pointer). */
typedef struct EngCountedPair {
    uint8_t a;
    uint32_t b;
} EngCountedPair;
typedef struct EngCountedElem {
    uint16_t tag;
    EngCountedPair pairs[2];
    uint64_t w;
    QEMUTimer *t;
} EngCountedElem;
typedef struct EngCounted {
    uint32_t n;
    EngCountedElem e[2];
    uint8_t room[24];
    uint64_t *target;
    QEMUTimer *spare;
} EngCounted;
const VMStateDescription *eng_vmsd_counted(void);

/* "eng-counted-wide" v1: UINT32 n; STRUCT_VARRAY_UINT32 e (n elements, room for 2, of
 * "eng-counted-welem" v1: STRUCT_ARRAY pairs (70 of "eng-counted-pair"): written in more spans
 * than a run records, so loaded field by field inside the count); then room for a third
 * element, whose pairs[1].b lies on `target`; BUFFER_POINTER_UNSAFE target. */
typedef struct EngCountedWideElem {
    EngCountedPair pairs[70];
} EngCountedWideElem;
typedef struct EngCountedWide {
    uint32_t n;
    EngCountedWideElem e[2];
    uint8_t room[8];
    uint64_t *target;
    uint8_t rest[552];
} EngCountedWide;
const VMStateDescription *eng_vmsd_counted_wide(void);
/* "eng-counted-nest" v1: as "eng-counted-wide" (the same layout), each element holding the 70
 * pairs as a one-element STRUCT_ARRAY of "eng-counted-welem": a fixed array of flat structs whose
 * element alone has more spans than a run records. */
typedef struct EngCountedNestElem {
    EngCountedWideElem inner[1];
} EngCountedNestElem;
typedef struct EngCountedNest {
    uint32_t n;
    EngCountedNestElem e[2];
    uint8_t room[8];
    uint64_t *target;
    uint8_t rest[552];
} EngCountedNest;
const VMStateDescription *eng_vmsd_counted_nest(void);

/* "eng-timer-q" v1: QTAILQ q of "eng-timer-qelem" v1 (TIMER t, UINT8_EQUAL v: an element whose
 * v is not 0 fails after its timer was loaded, and the load frees it). */
typedef struct EngTimerQElem {
    QEMUTimer t;
    uint8_t v;
    QTAILQ_ENTRY(EngTimerQElem) next;
} EngTimerQElem;
typedef struct EngTimerQ {
    QTAILQ_HEAD(, EngTimerQElem) q;
} EngTimerQ;
const VMStateDescription *eng_vmsd_timer_q(void);
void eng_timer_q_init(EngTimerQ *d);

/* "eng-timer-sub" v1: UINT8 x; subsection "eng-timer-sub/timer" v1 (TIMER t), needed when
 * timer_pending(&t), as QEMU's serial saves its FIFO timeout timer. */
typedef struct EngTimerSub {
    uint8_t x;
    QEMUTimer t;
} EngTimerSub;
const VMStateDescription *eng_vmsd_timer_sub(void);
/* "eng-through" v1: a custom info on a 256-byte VMS_BUFFER field whose get and put go through
 * the struct's `config` pointer, as QEMU's vmstate_info_pci_config does (VMSTATE_BUFFER_UNSAFE_INFO);
 * then UINT32 n and VARRAY_MULTIPLY small[2] (n x 1 elements) of a custom byte info that writes at
 * the element, the count from the stream. */
typedef struct EngThrough {
    uint8_t *config;
    uint32_t n;
    uint8_t small[2];
} EngThrough;
const VMStateDescription *eng_vmsd_through(void);

/* qemu/timer.h's timer_pending and timer_expire_time_ns, called from C as a device's hook would. */
bool eng_timer_pending(QEMUTimer *t);
uint64_t eng_timer_expire_time_ns(QEMUTimer *t);

/* "eng-tmp" v1: VMSTATE_WITH_TMP over "eng-tmp-scratch" v0: UINT64 combined (hi:lo),
 * UINT32_EQUAL limit. pre_save fills combined and limit from the parent, pre_load fills limit,
 * post_load writes lo/hi back. */
typedef struct EngTmpParent {
    uint32_t lo;
    uint32_t hi;
    uint32_t limit;
    int scratch_pre_load_calls;
} EngTmpParent;
typedef struct EngTmpScratch {
    EngTmpParent *parent;
    uint64_t combined;
    uint32_t limit;
} EngTmpScratch;
const VMStateDescription *eng_vmsd_tmp(void);

/* "eng-bitmap" v1: INT32 bits, BITMAP bm (bits). */
typedef struct EngBitmap {
    int32_t bits;
    unsigned long *bm;
} EngBitmap;
const VMStateDescription *eng_vmsd_bitmap(void);

/* ---- lists and trees ------------------------------------------------------------------------ */

/* "eng-qelem" v1: UINT32 v, UINT16 w. */
typedef struct EngQElem {
    uint32_t v;
    QTAILQ_ENTRY(EngQElem) next;
    uint16_t w;
} EngQElem;
/* "eng-ldev"'s element "eng-lelem" v1: UINT32 v. */
typedef struct EngLElem {
    uint8_t pad;
    QLIST_ENTRY(EngLElem) link;
    uint32_t v;
} EngLElem;

/* "eng-qdev" v1: UINT8 tag, QTAILQ_V q (version 1). */
typedef struct EngQDev {
    uint8_t tag;
    QTAILQ_HEAD(, EngQElem) q;
} EngQDev;
const VMStateDescription *eng_vmsd_qdev(void);
void eng_qdev_init(EngQDev *d);
void eng_qdev_append(EngQDev *d, uint32_t v, uint16_t w);
int eng_qdev_count(const EngQDev *d);
/* The i-th element's values; false past the end. */
bool eng_qdev_get(const EngQDev *d, int i, uint32_t *v, uint16_t *w);
/* True when every element's prev-link points at its predecessor's next and the head's last
 * link points at the last element. */
bool eng_qdev_links_ok(const EngQDev *d);
void eng_qdev_free(EngQDev *d);

/* "eng-ldev" v1: QLIST_V l (version 1), UINT8 tag. */
typedef struct EngLDev {
    QLIST_HEAD(, EngLElem) l;
    uint8_t tag;
} EngLDev;
const VMStateDescription *eng_vmsd_ldev(void);
void eng_ldev_insert_head(EngLDev *d, uint32_t v);
int eng_ldev_count(const EngLDev *d);
bool eng_ldev_get(const EngLDev *d, int i, uint32_t *v);
bool eng_ldev_links_ok(const EngLDev *d);
void eng_ldev_free(EngLDev *d);

/* GTree values "eng-tval" v1: UINT32 v. Keys "eng-tkey" v1: UINT32 id, UINT8 tag. */
typedef struct EngTreeVal {
    uint32_t v;
} EngTreeVal;
typedef struct EngTreeKey {
    uint32_t id;
    uint8_t tag;
} EngTreeKey;
/* "eng-trees" v1: GTREE_DIRECT_KEY_V direct, GTREE_V keyed, UINT8 tail. */
typedef struct EngTrees {
    GTree *direct;
    GTree *keyed;
    uint8_t tail;
} EngTrees;
const VMStateDescription *eng_vmsd_trees(void);
/* Creates two empty trees that own their values (and, for keyed, their keys). */
void eng_trees_init(EngTrees *t);
void eng_trees_add_direct(EngTrees *t, uint64_t key, uint32_t v);
void eng_trees_add_keyed(EngTrees *t, uint32_t id, uint8_t tag, uint32_t v);
int eng_trees_direct_count(const EngTrees *t);
int eng_trees_keyed_count(const EngTrees *t);
/* The value stored under a key, or -1 when absent. */
int64_t eng_trees_direct_lookup(const EngTrees *t, uint64_t key);
int64_t eng_trees_keyed_lookup(const EngTrees *t, uint32_t id, uint8_t *tag_out);
void eng_trees_destroy(EngTrees *t);

/* "eng-picky-qdev" (a QTAILQ_V q of EngQDev) and "eng-picky-trees" (a GTREE_V keyed of EngTrees):
 * an element, tree value or tree key id equal to ENG_PICKY_REFUSED fails its pre_save (-7 for
 * elements and values, -9 for keys). */
#define ENG_PICKY_REFUSED 0xBADu
const VMStateDescription *eng_vmsd_picky_qdev(void);
const VMStateDescription *eng_vmsd_picky_trees(void);

/* ---- flags ---------------------------------------------------------------------------------- */

typedef struct EngFlags {
    uint16_t arr[3];
    uint8_t grid[2][3];
    uint32_t sub[5];
    int32_t vi32_n;
    uint32_t *vi32;
    int32_t ui32_n;
    int16_t ui32_inline[4];
    uint8_t vu8_n;
    EngInner vu8[3];
    uint16_t vu16_n;
    uint16_t vu16[4];
    uint32_t vu32_n;
    uint64_t *vu32;
    uint32_t su32_n;
    EngInner su32[3];
    uint32_t mul_n;
    uint8_t mul[8];
    int32_t vbuf_len;
    uint8_t *vbuf;
    uint32_t vbm_len;
    uint8_t *vbm;
    uint32_t vbu_len;
    uint8_t *vbu;
    uint8_t *praw;
    EngInner s;
    EngInner *sp;
    EngInner sarr[2];
    EngInner *parr[3];
} EngFlags;
/* "eng-array": UINT16_ARRAY arr[3], UINT8_2DARRAY grid[2][3], UINT32_SUB_ARRAY sub from 1, 3. */
const VMStateDescription *eng_vmsd_array(void);
/* "eng-varray": INT32 vi32_n, VARRAY_INT32 vi32 (POINTER, uint32), INT32 ui32_n,
 * ARRAY_INT32_UNSAFE ui32_inline (int16), UINT8 vu8_n, STRUCT_VARRAY_UINT8 vu8,
 * UINT16 vu16_n, VARRAY_UINT16_UNSAFE vu16, UINT32 vu32_n, VARRAY_UINT32 vu32 (POINTER,
 * uint64), UINT32 su32_n, STRUCT_VARRAY_UINT32 su32. */
const VMStateDescription *eng_vmsd_varray(void);
/* "eng-multiply": UINT32 mul_n, VARRAY_MULTIPLY mul (mul_n * 2 uint8). */
const VMStateDescription *eng_vmsd_multiply(void);
/* "eng-vbuffer": INT32 vbuf_len, VBUFFER vbuf, UINT32 vbm_len, VBUFFER_MULTIPLY vbm (x3),
 * UINT32 vbu_len, VBUFFER_UINT32 vbu, BUFFER_POINTER_UNSAFE praw (2 bytes). */
const VMStateDescription *eng_vmsd_vbuffer(void);
/* "eng-struct": STRUCT s, STRUCT_POINTER sp, STRUCT_ARRAY sarr[2]. */
const VMStateDescription *eng_vmsd_struct(void);
/* "eng-ptrarray": ARRAY_OF_POINTER_TO_STRUCT parr[3]. */
const VMStateDescription *eng_vmsd_ptrarray(void);

/* "eng-alloc" v1: UINT32 n, VARRAY_UINT32_ALLOC vals (uint16), INT32 sn, STRUCT_VARRAY_ALLOC
 * structs, UINT32 blen, VBUFFER_ALLOC_UINT32 blob, UINT16 hn, VARRAY_UINT16_ALLOC h (uint8). */
typedef struct EngAlloc {
    uint32_t n;
    uint16_t *vals;
    int32_t sn;
    EngInner *structs;
    uint32_t blen;
    uint8_t *blob;
    uint16_t hn;
    uint8_t *h;
} EngAlloc;
const VMStateDescription *eng_vmsd_alloc(void);

/* "eng-validate" v1: UINT32 x, VALIDATE("x below 100"). */
typedef struct EngValidate {
    uint32_t x;
} EngValidate;
const VMStateDescription *eng_vmsd_validate(void);

/* ---- VSTRUCT -------------------------------------------------------------------------------- */

/* "eng-vinner" v2 (minimum 1): UINT16 a, UINT32_V b (2). */
typedef struct EngVInner {
    uint16_t a;
    uint32_t b;
} EngVInner;
/* "eng-vstruct" v1: VSTRUCT v1s at struct_version_id 1, VSTRUCT v2s at 2. */
typedef struct EngVStruct {
    EngVInner v1s;
    EngVInner v2s;
} EngVStruct;
const VMStateDescription *eng_vmsd_vstruct(void);
/* "eng-vstruct-bad" v1: VSTRUCT at struct_version_id 3 (too new for eng-vinner). */
const VMStateDescription *eng_vmsd_vstruct_bad(void);

/* ---- versions and field_exists -------------------------------------------------------------- */

/* "eng-versioned" v2, minimum 1: UINT32 a, UINT32_V b (2), UINT16 c, BOOL has_d,
 * UINT8_TEST d (has_d), UINT8_TEST e (exists when the version is >= 2). */
typedef struct EngVersioned {
    uint32_t a;
    uint32_t b;
    uint16_t c;
    bool has_d;
    uint8_t d;
    uint8_t e;
    int e_test_calls;
    int e_test_last_version;
} EngVersioned;
const VMStateDescription *eng_vmsd_versioned(void);

/* ---- subsections ---------------------------------------------------------------------------- */

/* "eng-sub" v1: UINT32 a; subsections "eng-sub/x" v2 (needed: need_x) UINT16 x,
 * "eng-sub/y" v1 (needed: need_y) UINT8 y. */
typedef struct EngSub {
    uint32_t a;
    bool need_x;
    uint16_t x;
    bool need_y;
    uint8_t y;
} EngSub;
const VMStateDescription *eng_vmsd_sub(void);

/* "eng-outer" v1: UINT8 v, STRUCT in ("eng-in" v1: UINT8 p; subsection "eng-in/q" v1 UINT8 q,
 * always needed); subsection "eng-outer/w" v1 UINT8 w, always needed. */
typedef struct EngIn {
    uint8_t p;
    uint8_t q;
} EngIn;
typedef struct EngOuter {
    uint8_t v;
    EngIn in;
    uint8_t w;
} EngOuter;
const VMStateDescription *eng_vmsd_outer(void);

/* ---- hooks and custom infos ----------------------------------------------------------------- */

/* "eng-hooks" v3, minimum 2: LOGGED v (custom info, be32, logs "put"/"get");
 * subsection "eng-hooks/sub" v1 UINT8 s. Every hook appends "<name>;" to log ("sub." for the
 * subsection's hooks; post_load appends "post_load:<version>;"). *_ret make a hook (or the
 * custom info) return that value. */
typedef struct EngHooks {
    uint32_t v;
    uint8_t s;
    int32_t pre_save_ret;
    int32_t post_save_ret;
    int32_t pre_load_ret;
    int32_t post_load_ret;
    int32_t put_ret;
    int32_t get_ret;
    char log[512];
} EngHooks;
const VMStateDescription *eng_vmsd_hooks(void);
const char *eng_hooks_log(const EngHooks *h);

/* eng_vmsd_positive: field "in" (eng-positive-inner: a, then subsection "eng-positive-inner/sub": b,
 * whose pre_load returns 4). */
typedef struct EngInner8 {
    uint8_t a;
    uint8_t b;
} EngInner8;
typedef struct EngPositive {
    EngInner8 in;
} EngPositive;
const VMStateDescription *eng_vmsd_positive(void);

/* Custom infos written in C with qemu_get_* / qemu_put_*:
 *   eng_info_be24: 3 bytes big-endian of a uint32 (put fails with -ERANGE above 0xffffff);
 *   eng_info_wrapped: be16 0xCAFE, then the element as "eng-inner" through
 *     vmstate_save_state / vmstate_load_state (get fails with -EINVAL on a wrong tag);
 *   eng_info_name: a counted string (qemu_put_counted_string / qemu_get_counted_string). */
extern const VMStateInfo eng_info_be24;
extern const VMStateInfo eng_info_wrapped;
extern const VMStateInfo eng_info_name;
/* "eng-custom" v1: be24 u24, wrapped w, name name. */
typedef struct EngCustom {
    uint32_t u24;
    EngInner w;
    char name[16];
} EngCustom;
const VMStateDescription *eng_vmsd_custom(void);

/* "eng-direct" v1: one field "pair" (the whole struct) whose custom info calls
 * vmstate_info_uint16, vmstate_info_bool and vmstate_info_uint8_equal's get/put itself. */
typedef struct EngDirect {
    uint16_t a;
    bool flag;
    uint8_t magic;
} EngDirect;
const VMStateDescription *eng_vmsd_direct(void);

/* "eng-tolerant" v1: magic through a custom info whose get calls vmstate_info_uint8_equal.get,
 * stores its result in inner_ret and returns 0; UINT8 after. */
typedef struct EngTolerant {
    uint8_t magic;
    uint8_t after;
    int32_t inner_ret;
} EngTolerant;
const VMStateDescription *eng_vmsd_tolerant(void);

/* "eng-seterr" v1: UINT8 a, then "mark" through a custom info whose put and get record an error
 * on the file themselves (qemu_file_set_error: put_error / get_error) and return 0, UINT8 b. The
 * put writes one byte 0x4D before recording the error; the get reads one byte. */
typedef struct EngSetErr {
    uint8_t a;
    uint8_t mark;
    uint8_t b;
    int32_t put_error;
    int32_t get_error;
} EngSetErr;
const VMStateDescription *eng_vmsd_seterr(void);

/* "eng-hooks-parent" v1: STRUCT h ("eng-hooks", at its version 3), UINT8 after. */
typedef struct EngHooksParent {
    EngHooks h;
    uint8_t after;
} EngHooksParent;
const VMStateDescription *eng_vmsd_hooks_parent(void);

/* ---- truncation and vmdesc ------------------------------------------------------------------ */

/* "eng-trunc" v1: UINT8 head, UINT32_ARRAY arr[5], STRUCT_ARRAY structs[2], STRUCT in;
 * subsection "eng-trunc/sub" v1 UINT16 sub_val, always needed. */
typedef struct EngTrunc {
    uint8_t head;
    uint32_t arr[5];
    EngInner structs[2];
    EngInner in;
    uint16_t sub_val;
} EngTrunc;
const VMStateDescription *eng_vmsd_trunc(void);

/* "eng-desc" v1:
 *   UINT8 dup, a second field named "dup" (uint8 at dup2), UNUSED(2), UNUSED(1),
 *   UINT16_ARRAY arr[3], ARRAY_TEST idx[2] (uint32, test always true),
 *   STRUCT s, STRUCT_ARRAY sarr[2] (eng-inner), STRUCT_ARRAY tarr[2] of "eng-inner-sub"
 *   (eng-inner with a never-needed subsection), VSTRUCT vs at 1 (eng-vinner),
 *   ARRAY_OF_POINTER_TO_STRUCT parr[2];
 *   subsections "eng-desc/sub" v1 UINT8 sub (needed), "eng-desc/none" (never needed). */
typedef struct EngDesc {
    uint8_t dup;
    uint8_t dup2;
    uint16_t arr[3];
    uint32_t idx[2];
    EngInner s;
    EngInner sarr[2];
    EngInner tarr[2];
    EngVInner vs;
    EngInner *parr[2];
    uint8_t sub;
} EngDesc;
const VMStateDescription *eng_vmsd_desc(void);
const VMStateDescription *eng_vmsd_desc_empty(void);

#endif
