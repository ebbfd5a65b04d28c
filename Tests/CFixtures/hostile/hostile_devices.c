/*
 * The hx_ devices: descriptions covering every flag and standard info (see hostile_fixtures.h).
 * Device code here is written the way a careful device author would (custom infos clamp what
 * they copy), so that anything a hostile stream breaks is the engine's doing.
 */
#include <errno.h>
#include <string.h>

#include "hostile_fixtures.h"

int hx_post_load_failures;
void hx_reset_counters(void) { hx_post_load_failures = 0; }

uint64_t hx_hash(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (h == 0) {
        h = 0xcbf29ce484222325ULL;
    }
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ============================================================================================
 * HxPair
 * ========================================================================================== */

static const VMStateDescription hx_pair_vmsd = {
    .name = "hx-pair",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, HxPair),
        VMSTATE_UINT16(b, HxPair),
        VMSTATE_END_OF_LIST(),
    },
};

/* ============================================================================================
 * hx-scalars
 * ========================================================================================== */

static bool hx_tested_exists(void *opaque, int version_id)
{
    (void)version_id;
    return ((HxScalars *)opaque)->u8 & 1;
}

static bool hx_le_valid(void *opaque, int version_id)
{
    HxScalars *s = opaque;
    (void)version_id;
    return s->le != s->unlucky;
}

static int hx_scalars_pre_load(void *opaque)
{
    ((HxScalars *)opaque)->pre_load_calls++;
    return 0;
}

static int hx_scalars_post_load(void *opaque, int version_id)
{
    HxScalars *s = opaque;
    (void)version_id;
    if (s->u32 == 0xDEADBEEF) {
        hx_post_load_failures++;
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription hx_scalars_vmsd = {
    .name = "hx-scalars",
    .version_id = 2,
    .minimum_version_id = 1,
    .pre_load = hx_scalars_pre_load,
    .post_load = hx_scalars_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(b, HxScalars),
        VMSTATE_INT8(i8, HxScalars),
        VMSTATE_INT16(i16, HxScalars),
        VMSTATE_INT32(i32, HxScalars),
        VMSTATE_INT64(i64, HxScalars),
        VMSTATE_UINT8(u8, HxScalars),
        VMSTATE_UINT16(u16, HxScalars),
        VMSTATE_UINT32(u32, HxScalars),
        VMSTATE_UINT64(u64, HxScalars),
        VMSTATE_CPUDOUBLE_ARRAY(d, HxScalars, 2),
        VMSTATE_UINT8_EQUAL(eq8, HxScalars, "eq8 is fixed by the machine"),
        VMSTATE_UINT16_EQUAL(eq16, HxScalars, NULL),
        VMSTATE_UINT32_EQUAL(eq32, HxScalars, NULL),
        VMSTATE_INT32_EQUAL(ieq32, HxScalars, NULL),
        VMSTATE_UINT64_EQUAL(eq64, HxScalars, NULL),
        VMSTATE_INT32_POSITIVE_LE(le, HxScalars),
        VMSTATE_VALIDATE("le is not unlucky", hx_le_valid),
        VMSTATE_TIMER(timer, HxScalars),
        VMSTATE_TIMER_PTR(timer_ptr, HxScalars),
        VMSTATE_BUFFER(buf, HxScalars),
        VMSTATE_PARTIAL_BUFFER(partial, HxScalars, 4),
        VMSTATE_BUFFER_START_MIDDLE(middle, HxScalars, 2),
        VMSTATE_UNUSED(4),
        VMSTATE_BOOL_ARRAY(flags, HxScalars, 4),
        VMSTATE_UINT16_2DARRAY(grid, HxScalars, 2, 3),
        VMSTATE_UINT32_SUB_ARRAY(sub, HxScalars, 2, 3),
        VMSTATE_UINT64_ARRAY(wide, HxScalars, 2),
        VMSTATE_INT16_ARRAY(s16, HxScalars, 2),
        VMSTATE_INT32_ARRAY(s32, HxScalars, 2),
        VMSTATE_INT64_ARRAY(s64, HxScalars, 2),
        VMSTATE_UINT8_V(v2only, HxScalars, 2),
        VMSTATE_UINT32_TEST(tested, HxScalars, hx_tested_exists),
        VMSTATE_END_OF_LIST(),
    },
};

static void hx_scalars_init(void *opaque, bool sample)
{
    HxScalars *s = opaque;
    s->eq8 = 0x5A;
    s->eq16 = 0x1234;
    s->eq32 = 0xCAFEF00D;
    s->ieq32 = -42;
    s->eq64 = 0x0123456789ABCDEFULL;
    s->le = sample ? 7 : 100;
    s->unlucky = 13;
    vmstate_timer_init(&s->timer, NULL, NULL);
    vmstate_timer_init(&s->timer_storage, NULL, NULL);
    s->timer_ptr = &s->timer_storage;
    if (!sample) {
        return;
    }
    s->b = true;
    s->i8 = -5;
    s->i16 = -300;
    s->i32 = -70000;
    s->i64 = -5000000000LL;
    s->u8 = 3;
    s->u16 = 0xBEEF;
    s->u32 = 0x12345678;
    s->u64 = 0xFEDCBA9876543210ULL;
    s->d[0].d = 0x400921FB54442D18ULL;
    s->d[1].l.upper = 0x11223344;
    s->d[1].l.lower = 0x55667788;
    s->timer.expire_time = 123456789;
    s->timer_storage.expire_time = 42;
    for (int i = 0; i < 16; i++) {
        s->buf[i] = (uint8_t)(0xB0 + i);
    }
    memcpy(s->partial, "PART", 4);
    memcpy(s->middle + 2, "MIDDLE", 6);
    s->flags[1] = s->flags[3] = true;
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 3; j++) {
            s->grid[i][j] = (uint16_t)(i * 10 + j);
        }
    }
    s->sub[2] = 22;
    s->sub[3] = 33;
    s->sub[4] = 44;
    s->wide[0] = 1;
    s->wide[1] = UINT64_MAX;
    s->s16[0] = -1;
    s->s16[1] = 2;
    s->s32[0] = INT32_MIN;
    s->s32[1] = INT32_MAX;
    s->s64[0] = INT64_MIN;
    s->s64[1] = 9;
    s->v2only = 9;
    s->tested = 0x77;
}

static void hx_plain_cleanup(void *opaque) { (void)opaque; }

static uint64_t hx_scalars_digest(const void *opaque)
{
    return hx_hash(0, opaque, sizeof(HxScalars));
}

/* ============================================================================================
 * hx-varray
 * ========================================================================================== */

static const VMStateDescription hx_varray_vmsd = {
    .name = "hx-varray",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(n8, HxVarray),
        VMSTATE_UINT16(n16, HxVarray),
        VMSTATE_INT32(n32, HxVarray),
        VMSTATE_UINT32(nu32, HxVarray),
        VMSTATE_INT32(ni32, HxVarray),
        VMSTATE_UINT32(nmul, HxVarray),
        VMSTATE_UINT32(nunused, HxVarray),
        VMSTATE_STRUCT_VARRAY_UINT8(p8, HxVarray, n8, 0, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_INT32(p32, HxVarray, n32, 0, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_UINT32(pu32, HxVarray, nu32, 0, hx_pair_vmsd, HxPair),
        VMSTATE_VARRAY_UINT16_UNSAFE(a16, HxVarray, n16, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_ARRAY_INT32_UNSAFE(ai32, HxVarray, ni32, vmstate_info_uint32, uint32_t),
        VMSTATE_VARRAY_MULTIPLY(mul, HxVarray, nmul, 3, vmstate_info_uint8, uint8_t),
        VMSTATE_UNUSED_VARRAY_UINT32(HxVarray, NULL, 0, nunused, 2),
        VMSTATE_UINT32(tail, HxVarray),
        VMSTATE_END_OF_LIST(),
    },
};

static void hx_varray_init(void *opaque, bool sample)
{
    HxVarray *s = opaque;
    if (!sample) {
        return;
    }
    s->n8 = 2;
    s->n16 = 5;
    s->n32 = 3;
    s->nu32 = 4;
    s->ni32 = 2;
    s->nmul = 4;
    s->nunused = 3;
    for (int i = 0; i < 4; i++) {
        s->p8[i] = (HxPair){(uint32_t)(0x800 + i), (uint16_t)i};
        s->p32[i] = (HxPair){(uint32_t)(0x3200 + i), (uint16_t)(i * 2)};
        s->pu32[i] = (HxPair){(uint32_t)(0xA3200 + i), (uint16_t)(i * 3)};
        s->ai32[i] = (uint32_t)(0x1000 * i);
    }
    for (int i = 0; i < 8; i++) {
        s->a16[i] = (uint16_t)(0x1600 + i);
    }
    for (int i = 0; i < 12; i++) {
        s->mul[i] = (uint8_t)(0xC0 + i);
    }
    s->tail = 0x7A17;
}

static uint64_t hx_varray_digest(const void *opaque)
{
    return hx_hash(0, opaque, sizeof(HxVarray));
}

/* ============================================================================================
 * hx-ptr
 * ========================================================================================== */

static const VMStateDescription hx_ptr_vmsd = {
    .name = "hx-ptr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(n16, HxPtr),
        VMSTATE_UINT32(nu32, HxPtr),
        VMSTATE_INT32(nstruct, HxPtr),
        VMSTATE_UINT32(blen, HxPtr),
        VMSTATE_INT32(vlen, HxPtr),
        VMSTATE_UINT32(vulen, HxPtr),
        VMSTATE_UINT32(mlen, HxPtr),
        VMSTATE_INT32(ni32, HxPtr),
        VMSTATE_UINT32(nvu32, HxPtr),
        VMSTATE_INT32(bits, HxPtr),
        VMSTATE_INT32(nsp32, HxPtr),
        VMSTATE_UINT32(nspu32, HxPtr),
        VMSTATE_UINT16(nsp16, HxPtr),
        VMSTATE_VARRAY_UINT16_ALLOC(a16, HxPtr, n16, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_VARRAY_UINT32_ALLOC(a32, HxPtr, nu32, 0, vmstate_info_uint32, uint32_t),
        VMSTATE_STRUCT_VARRAY_ALLOC(pairs, HxPtr, nstruct, 0, hx_pair_vmsd, HxPair),
        VMSTATE_VBUFFER_ALLOC_UINT32(blob, HxPtr, 0, NULL, blen),
        VMSTATE_VBUFFER(vbuf, HxPtr, 0, NULL, vlen),
        VMSTATE_VBUFFER_UINT32(vubuf, HxPtr, 0, NULL, vulen),
        VMSTATE_VBUFFER_MULTIPLY(mbuf, HxPtr, 0, NULL, mlen, 4),
        VMSTATE_VARRAY_INT32(vi32, HxPtr, ni32, 0, vmstate_info_int32, int32_t),
        VMSTATE_VARRAY_UINT32(vu32, HxPtr, nvu32, 0, vmstate_info_uint32, uint32_t),
        VMSTATE_BITMAP(bitmap, HxPtr, 0, bits),
        VMSTATE_POINTER(pval, HxPtr, 0, vmstate_info_uint64, uint64_t *),
        VMSTATE_STRUCT_POINTER(sp, HxPtr, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_POINTER_INT32(spi32, HxPtr, nsp32, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(spu32, HxPtr, nspu32, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT16(spu16, HxPtr, nsp16, hx_pair_vmsd, HxPair),
        VMSTATE_STRUCT_VARRAY_POINTER_KNOWN(known, HxPtr, 2, 0, hx_pair_vmsd, HxPair),
        VMSTATE_BUFFER_POINTER_UNSAFE(raw, HxPtr, 0, 4),
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(pa, HxPtr, 3, 0, hx_pair_vmsd, HxPair),
        VMSTATE_TIMER_PTR_ARRAY(tp, HxPtr, 2),
        VMSTATE_ARRAY_OF_POINTER(nulls, HxPtr, 2, 0, vmstate_info_nullptr, void *),
        VMSTATE_END_OF_LIST(),
    },
};

static void hx_ptr_init(void *opaque, bool sample)
{
    HxPtr *s = opaque;
    s->vbuf = s->st.vb;
    s->vubuf = s->st.vub;
    s->mbuf = s->st.mb;
    s->vi32 = s->st.vi;
    s->vu32 = s->st.vu;
    s->bitmap = s->st.bm;
    s->pval = &s->st.val;
    s->sp = &s->st.sps[0];
    s->spi32 = s->st.spi;
    s->spu32 = s->st.spu;
    s->spu16 = s->st.sp16;
    s->known = s->st.known;
    s->raw = s->st.raws;
    s->pa[0] = &s->st.pas[0];
    s->pa[2] = &s->st.pas[1];
    s->tp[0] = &s->st.t0;
    vmstate_timer_init(&s->st.t0, NULL, NULL);
    if (!sample) {
        return;
    }
    s->n16 = 3;
    s->a16 = g_new(uint16_t, 3);
    for (int i = 0; i < 3; i++) {
        s->a16[i] = (uint16_t)(0xA160 + i);
    }
    s->nu32 = 2;
    s->a32 = g_new(uint32_t, 2);
    s->a32[0] = 0xA3200000;
    s->a32[1] = 0xA3200001;
    s->nstruct = 2;
    s->pairs = g_new0(HxPair, 2);
    s->pairs[0] = (HxPair){0x9A1, 1};
    s->pairs[1] = (HxPair){0x9A2, 2};
    s->blen = 5;
    s->blob = g_malloc(5);
    memcpy(s->blob, "blob!", 5);
    s->vlen = 10;
    memcpy(s->st.vb, "vbuffer-10", 10);
    s->vulen = 6;
    memcpy(s->st.vub, "vubuf6", 6);
    s->mlen = 3;
    for (int i = 0; i < 12; i++) {
        s->st.mb[i] = (uint8_t)(0x40 + i);
    }
    s->ni32 = 3;
    s->st.vi[0] = -1;
    s->st.vi[1] = -2;
    s->st.vi[2] = -3;
    s->nvu32 = 4;
    for (int i = 0; i < 4; i++) {
        s->st.vu[i] = (uint32_t)(0x5000 + i);
    }
    s->bits = 100;
    s->st.bm[0] = 0x8000000000000001UL;
    s->st.bm[1] = 0xFUL;
    s->st.val = 0x76616c756521ULL;
    s->st.sps[0] = (HxPair){0x5F5, 5};
    s->nsp32 = 2;
    s->st.spi[0] = (HxPair){1, 1};
    s->st.spi[1] = (HxPair){2, 2};
    s->nspu32 = 3;
    s->st.spu[2] = (HxPair){3, 3};
    s->nsp16 = 4;
    s->st.sp16[3] = (HxPair){4, 4};
    s->st.known[0] = (HxPair){0xC0, 0};
    s->st.known[1] = (HxPair){0xC1, 1};
    memcpy(s->st.raws, "RAW4", 4);
    s->st.pas[0] = (HxPair){0xAA, 0};
    s->st.pas[1] = (HxPair){0xBB, 2};
    s->st.t0.expire_time = 1000;
}

static void hx_ptr_cleanup(void *opaque)
{
    HxPtr *s = opaque;
    g_clear_pointer(&s->a16, g_free);
    g_clear_pointer(&s->a32, g_free);
    g_clear_pointer(&s->pairs, g_free);
    g_clear_pointer(&s->blob, g_free);
}

static uint64_t hx_ptr_digest(const void *opaque)
{
    const HxPtr *s = opaque;
    uint64_t h = hx_hash(0, s, sizeof(*s));
    if (s->a16) {
        h = hx_hash(h, s->a16, (size_t)s->n16 * sizeof(uint16_t));
    }
    if (s->a32) {
        h = hx_hash(h, s->a32, (size_t)s->nu32 * sizeof(uint32_t));
    }
    if (s->pairs && s->nstruct > 0) {
        h = hx_hash(h, s->pairs, (size_t)s->nstruct * sizeof(HxPair));
    }
    if (s->blob) {
        h = hx_hash(h, s->blob, s->blen);
    }
    return h;
}

/* ============================================================================================
 * hx-nest
 * ========================================================================================== */

static const VMStateDescription hx_inner_vmsd = {
    .name = "hx-inner",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, HxInner),
        VMSTATE_UINT8_ARRAY_V(y, HxInner, 2, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static bool hx_nest_has_tested(void *opaque, int version_id)
{
    (void)version_id;
    return ((HxNest *)opaque)->has_tested;
}

static int hx_nest_tmp_pre_save(void *opaque)
{
    HxNestTmp *t = opaque;
    t->n = t->parent->tn > 3 ? 3 : t->parent->tn;
    memcpy(t->vals, t->parent->tv, sizeof(t->vals));
    return 0;
}

static int hx_nest_tmp_post_load(void *opaque, int version_id)
{
    HxNestTmp *t = opaque;
    (void)version_id;
    t->parent->tn = t->n > 3 ? 3 : t->n;
    memcpy(t->parent->tv, t->vals, sizeof(t->vals));
    return 0;
}

static const VMStateDescription hx_nest_tmp_vmsd = {
    .name = "hx-nest/tmp",
    .version_id = 0,
    .minimum_version_id = 0,
    .pre_save = hx_nest_tmp_pre_save,
    .post_load = hx_nest_tmp_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(n, HxNestTmp),
        VMSTATE_VARRAY_UINT16_UNSAFE(vals, HxNestTmp, n, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_END_OF_LIST(),
    },
};

static bool hx_nest_a_needed(void *opaque) { return ((HxNest *)opaque)->sub_a != 0; }
static bool hx_nest_b_needed(void *opaque) { return ((HxNest *)opaque)->sub_b != 0; }
static bool hx_nest_c_needed(void *opaque) { return ((HxNest *)opaque)->sub_c != 0; }

static int hx_nest_a_post_load(void *opaque, int version_id)
{
    (void)version_id;
    if (((HxNest *)opaque)->sub_a == 0xBAD) {
        hx_post_load_failures++;
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription hx_nest_a_vmsd = {
    .name = "hx-nest/a",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = hx_nest_a_needed,
    .post_load = hx_nest_a_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(sub_a, HxNest),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription hx_nest_c_vmsd = {
    .name = "hx-nest/b/c",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = hx_nest_c_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(sub_c, HxNest),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription hx_nest_b_vmsd = {
    .name = "hx-nest/b",
    .version_id = 2,
    .minimum_version_id = 1,
    .needed = hx_nest_b_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(sub_b, HxNest),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&hx_nest_c_vmsd, NULL},
};

static int hx_nest_pre_load(void *opaque)
{
    ((HxNest *)opaque)->pre_load_calls++;
    return 0;
}

static int hx_nest_post_load(void *opaque, int version_id)
{
    (void)version_id;
    ((HxNest *)opaque)->post_load_calls++;
    return 0;
}

static const VMStateDescription hx_nest_vmsd = {
    .name = "hx-nest",
    .version_id = 3,
    .minimum_version_id = 1,
    .pre_load = hx_nest_pre_load,
    .post_load = hx_nest_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(one, HxNest, 0, hx_inner_vmsd, HxInner),
        VMSTATE_STRUCT_ARRAY(arr, HxNest, 3, 0, hx_inner_vmsd, HxInner),
        VMSTATE_STRUCT_2DARRAY(grid, HxNest, 2, 2, 0, hx_inner_vmsd, HxInner),
        VMSTATE_STRUCT_SUB_ARRAY(sub, HxNest, 1, 2, 0, hx_inner_vmsd, HxInner),
        VMSTATE_VSTRUCT_V(v, HxNest, 2, hx_inner_vmsd, HxInner, 1),
        VMSTATE_BOOL(has_tested, HxNest),
        VMSTATE_STRUCT_TEST(tested, HxNest, hx_nest_has_tested, 0, hx_inner_vmsd, HxInner),
        VMSTATE_WITH_TMP(HxNest, HxNestTmp, hx_nest_tmp_vmsd),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&hx_nest_a_vmsd, &hx_nest_b_vmsd, NULL},
};

static void hx_nest_inner(HxInner *in, uint32_t x)
{
    in->x = x;
    in->y[0] = (uint8_t)x;
    in->y[1] = (uint8_t)(x >> 8);
}

static void hx_nest_init(void *opaque, bool sample)
{
    HxNest *s = opaque;
    if (!sample) {
        return;
    }
    hx_nest_inner(&s->one, 0x101);
    for (int i = 0; i < 3; i++) {
        hx_nest_inner(&s->arr[i], 0x200 + i);
    }
    for (int i = 0; i < 2; i++) {
        for (int j = 0; j < 2; j++) {
            hx_nest_inner(&s->grid[i][j], 0x300 + i * 2 + j);
        }
    }
    hx_nest_inner(&s->sub[1], 0x401);
    hx_nest_inner(&s->sub[2], 0x402);
    s->v.x = 0x500; /* saved at struct version 1: y is not on the wire */
    s->has_tested = true;
    hx_nest_inner(&s->tested, 0x600);
    s->tn = 2;
    s->tv[0] = 0x7001;
    s->tv[1] = 0x7002;
    s->sub_a = 0xA;
    s->sub_b = 0xB0B0B0B0B0ULL;
    s->sub_c = 0xC;
}

static uint64_t hx_nest_digest(const void *opaque)
{
    return hx_hash(0, opaque, sizeof(HxNest));
}

/* ============================================================================================
 * hx-coll
 * ========================================================================================== */

static const VMStateDescription hx_elem_vmsd = {
    .name = "hx-elem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(id, HxElem),
        VMSTATE_UINT32(len, HxElem),
        VMSTATE_VBUFFER_ALLOC_UINT32(data, HxElem, 0, NULL, len),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription hx_link_vmsd = {
    .name = "hx-link",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(v, HxLink),
        VMSTATE_END_OF_LIST(),
    },
};

/* [0] values, [1] keys. */
static const VMStateDescription hx_tree_vmsds[2] = {
    {
        .name = "hx-val",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT32(a, HxVal),
            VMSTATE_UINT32(b, HxVal),
            VMSTATE_END_OF_LIST(),
        },
    },
    {
        .name = "hx-key",
        .version_id = 1,
        .minimum_version_id = 1,
        .fields = (const VMStateField[]){
            VMSTATE_UINT64(k, HxKey),
            VMSTATE_END_OF_LIST(),
        },
    },
};

static const VMStateDescription hx_coll_vmsd = {
    .name = "hx-coll",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(before, HxColl),
        VMSTATE_QTAILQ_V(q, HxColl, 1, hx_elem_vmsd, HxElem, next),
        VMSTATE_QLIST_V(l, HxColl, 1, hx_link_vmsd, HxLink, link),
        VMSTATE_GTREE_V(tree, HxColl, 1, hx_tree_vmsds, HxKey, HxVal),
        VMSTATE_GTREE_DIRECT_KEY_V(dtree, HxColl, 1, hx_tree_vmsds, HxVal),
        VMSTATE_UINT32(after, HxColl),
        VMSTATE_END_OF_LIST(),
    },
};

static gint hx_key_cmp(gconstpointer a, gconstpointer b, gpointer user)
{
    (void)user;
    uint64_t ka = ((const HxKey *)a)->k, kb = ((const HxKey *)b)->k;
    return ka < kb ? -1 : ka > kb;
}

static gint hx_direct_cmp(gconstpointer a, gconstpointer b, gpointer user)
{
    (void)user;
    uintptr_t ka = (uintptr_t)a, kb = (uintptr_t)b;
    return ka < kb ? -1 : ka > kb;
}

void hx_coll_add_elem(HxColl *s, uint32_t id, uint32_t len)
{
    HxElem *e = g_new0(HxElem, 1);
    e->id = id;
    e->len = len;
    if (len) {
        e->data = g_malloc(len);
        memset(e->data, (int)(id & 0xFF), len);
    }
    QTAILQ_INSERT_TAIL(&s->q, e, next);
}

void hx_coll_add_link(HxColl *s, uint16_t v)
{
    HxLink *l = g_new0(HxLink, 1);
    l->v = v;
    QLIST_INSERT_HEAD(&s->l, l, link);
}

void hx_coll_add_tree(HxColl *s, uint64_t key, uint32_t a, uint32_t b)
{
    HxKey *k = g_new0(HxKey, 1);
    HxVal *v = g_new0(HxVal, 1);
    k->k = key;
    v->a = a;
    v->b = b;
    g_tree_insert(s->tree, k, v);
}

void hx_coll_add_dtree(HxColl *s, uint64_t key, uint32_t a, uint32_t b)
{
    HxVal *v = g_new0(HxVal, 1);
    v->a = a;
    v->b = b;
    g_tree_insert(s->dtree, (gpointer)(uintptr_t)key, v);
}

static void hx_coll_init(void *opaque, bool sample)
{
    HxColl *s = opaque;
    QTAILQ_INIT(&s->q);
    QLIST_INIT(&s->l);
    s->tree = g_tree_new_full(hx_key_cmp, NULL, g_free, g_free);
    s->dtree = g_tree_new_full(hx_direct_cmp, NULL, NULL, g_free);
    if (!sample) {
        return;
    }
    s->before = 0xBEF0;
    s->after = 0xAF7E;
    hx_coll_add_elem(s, 1, 3);
    hx_coll_add_elem(s, 2, 0);
    hx_coll_add_elem(s, 3, 2);
    hx_coll_add_link(s, 30);
    hx_coll_add_link(s, 20);
    hx_coll_add_link(s, 10);
    hx_coll_add_tree(s, 5, 50, 51);
    hx_coll_add_tree(s, 1, 10, 11);
    hx_coll_add_dtree(s, 0x1000, 1, 2);
    hx_coll_add_dtree(s, 0x20, 3, 4);
}

static void hx_coll_cleanup(void *opaque)
{
    HxColl *s = opaque;
    HxElem *e, *en;
    QTAILQ_FOREACH_SAFE(e, &s->q, next, en) {
        g_free(e->data);
        g_free(e);
    }
    QTAILQ_INIT(&s->q);
    HxLink *l, *ln;
    QLIST_FOREACH_SAFE(l, &s->l, link, ln) {
        g_free(l);
    }
    QLIST_INIT(&s->l);
    g_clear_pointer(&s->tree, g_tree_destroy);
    g_clear_pointer(&s->dtree, g_tree_destroy);
}

typedef struct {
    uint64_t h;
    bool direct;
} HxTreeHash;

static gboolean hx_hash_node(gpointer key, gpointer value, gpointer data)
{
    HxTreeHash *t = data;
    if (t->direct) {
        uintptr_t k = (uintptr_t)key;
        t->h = hx_hash(t->h, &k, sizeof(k));
    } else {
        t->h = hx_hash(t->h, key, sizeof(HxKey));
    }
    t->h = hx_hash(t->h, value, sizeof(HxVal));
    return FALSE;
}

static uint64_t hx_coll_digest(const void *opaque)
{
    const HxColl *s = opaque;
    uint64_t h = hx_hash(0, s, sizeof(*s));
    const HxElem *e;
    QTAILQ_FOREACH(e, &s->q, next) {
        h = hx_hash(h, e, sizeof(*e));
        if (e->data) {
            h = hx_hash(h, e->data, e->len);
        }
    }
    const HxLink *l;
    QLIST_FOREACH(l, &s->l, link) {
        h = hx_hash(h, l, sizeof(*l));
    }
    HxTreeHash t = {h, false};
    if (s->tree) {
        g_tree_foreach(s->tree, hx_hash_node, &t);
    }
    t.direct = true;
    if (s->dtree) {
        g_tree_foreach(s->dtree, hx_hash_node, &t);
    }
    return t.h;
}

size_t hx_coll_queue_length(const HxColl *s)
{
    size_t n = 0;
    const HxElem *e;
    QTAILQ_FOREACH(e, &s->q, next) {
        n++;
    }
    return n;
}

size_t hx_coll_list_length(const HxColl *s)
{
    size_t n = 0;
    const HxLink *l;
    QLIST_FOREACH(l, &s->l, link) {
        n++;
    }
    return n;
}

int hx_coll_tree_size(const HxColl *s) { return s->tree ? g_tree_nnodes(s->tree) : -1; }
int hx_coll_dtree_size(const HxColl *s) { return s->dtree ? g_tree_nnodes(s->dtree) : -1; }

/* ============================================================================================
 * hx-deep
 * ========================================================================================== */

extern const VMStateDescription hx_node_vmsd;
const VMStateDescription hx_node_vmsd = {
    .name = "hx-node",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, HxNode),
        VMSTATE_QTAILQ_V(kids, HxNode, 1, hx_node_vmsd, HxNode, next),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription hx_deep_vmsd = {
    .name = "hx-deep",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(root, HxDeep, 0, hx_node_vmsd, HxNode),
        VMSTATE_END_OF_LIST(),
    },
};

static HxNode *hx_node_add(HxNode *parent, uint32_t v)
{
    HxNode *n = g_new0(HxNode, 1);
    n->v = v;
    QTAILQ_INIT(&n->kids);
    QTAILQ_INSERT_TAIL(&parent->kids, n, next);
    return n;
}

static void hx_deep_init(void *opaque, bool sample)
{
    HxDeep *s = opaque;
    QTAILQ_INIT(&s->root.kids);
    if (!sample) {
        return;
    }
    s->root.v = 1;
    HxNode *n = &s->root;
    for (uint32_t i = 2; i <= 5; i++) {
        n = hx_node_add(n, i);
    }
    hx_node_add(&s->root, 99);
}

static void hx_node_free_kids(HxNode *n)
{
    HxNode *k, *kn;
    QTAILQ_FOREACH_SAFE(k, &n->kids, next, kn) {
        hx_node_free_kids(k);
        g_free(k);
    }
    QTAILQ_INIT(&n->kids);
}

static void hx_deep_cleanup(void *opaque) { hx_node_free_kids(&((HxDeep *)opaque)->root); }

static uint64_t hx_node_digest(uint64_t h, const HxNode *n)
{
    h = hx_hash(h, n, sizeof(*n));
    const HxNode *k;
    QTAILQ_FOREACH(k, &n->kids, next) {
        h = hx_node_digest(h, k);
    }
    return h;
}

static uint64_t hx_deep_digest(const void *opaque)
{
    const HxDeep *s = opaque;
    return hx_node_digest(hx_hash(0, s, sizeof(*s)), &s->root);
}

static size_t hx_node_depth(const HxNode *n)
{
    size_t deepest = 0;
    const HxNode *k;
    QTAILQ_FOREACH(k, &n->kids, next) {
        size_t d = hx_node_depth(k);
        if (d > deepest) {
            deepest = d;
        }
    }
    return deepest + 1;
}

size_t hx_deep_depth(const HxDeep *s) { return hx_node_depth(&s->root); }

/* ============================================================================================
 * hx-custom
 * ========================================================================================== */

/* A counted string into a 16-byte field (longer names are cut, the field stays terminated). */
static int hx_get_name(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    char buf[256];
    (void)field;
    if (qemu_peek_byte(f, 0) == 0xFF) {
        return -EINVAL; /* a device-specific refusal */
    }
    size_t len = qemu_get_counted_string(f, buf);
    memset(pv, 0, size);
    memcpy(pv, buf, len < size - 1 ? len : size - 1);
    return qemu_file_get_error(f);
}

static int hx_put_name(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                       JSONWriter *vmdesc)
{
    char buf[256] = {0};
    (void)field;
    (void)vmdesc;
    memcpy(buf, pv, size < 255 ? size : 255);
    buf[size - 1 < 255 ? size - 1 : 255] = 0;
    qemu_put_counted_string(f, buf);
    return 0;
}

/* be16 length, then that many bytes; the first `size` are kept, the rest skipped. */
static int hx_get_bytes(QEMUFile *f, void *pv, size_t size, const VMStateField *field)
{
    uint8_t *peeked = NULL;
    (void)field;
    if (qemu_peek_buffer(f, &peeked, 2, 0) == 2 && peeked[0] == 0xFF && peeked[1] == 0xFF) {
        return -ERANGE;
    }
    unsigned len = qemu_get_be16(f);
    size_t keep = len < size ? len : size;
    memset(pv, 0, size);
    if (qemu_get_buffer(f, pv, keep) != keep) {
        return qemu_file_get_error(f);
    }
    if (len > keep) {
        size_t rest = len - keep;
        if (vmstate_file_remaining(f) < rest) {
            qemu_file_set_error(f, -EIO);
        }
        qemu_file_skip(f, (int)rest);
    }
    return qemu_file_get_error(f);
}

static int hx_put_bytes(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                        JSONWriter *vmdesc)
{
    (void)field;
    (void)vmdesc;
    qemu_put_be16(f, (unsigned)size);
    qemu_put_buffer(f, pv, size);
    return 0;
}

static const VMStateInfo hx_info_name = {.name = "hx-name", .get = hx_get_name, .put = hx_put_name};
static const VMStateInfo hx_info_bytes = {.name = "hx-bytes", .get = hx_get_bytes, .put = hx_put_bytes};

static const VMStateDescription hx_custom_vmsd = {
    .name = "hx-custom",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(head, HxCustom),
        VMSTATE_SINGLE(name, HxCustom, 0, hx_info_name, uint8_t[16]),
        VMSTATE_SINGLE(bytes, HxCustom, 0, hx_info_bytes, uint8_t[8]),
        VMSTATE_UINT32(tail, HxCustom),
        VMSTATE_END_OF_LIST(),
    },
};

static void hx_custom_init(void *opaque, bool sample)
{
    HxCustom *s = opaque;
    if (!sample) {
        return;
    }
    s->head = 0x4EAD;
    memcpy(s->name, "hello", 5);
    memcpy(s->bytes, "12345678", 8);
    s->tail = 0x7A11;
}

static uint64_t hx_custom_digest(const void *opaque)
{
    return hx_hash(0, opaque, sizeof(HxCustom));
}

/* ============================================================================================
 * The table
 * ========================================================================================== */

static const HxFixture hx_table[] = {
    {"hx-scalars", &hx_scalars_vmsd, sizeof(HxScalars), hx_scalars_init, hx_plain_cleanup,
     hx_scalars_digest},
    {"hx-varray", &hx_varray_vmsd, sizeof(HxVarray), hx_varray_init, hx_plain_cleanup,
     hx_varray_digest},
    {"hx-ptr", &hx_ptr_vmsd, sizeof(HxPtr), hx_ptr_init, hx_ptr_cleanup, hx_ptr_digest},
    {"hx-nest", &hx_nest_vmsd, sizeof(HxNest), hx_nest_init, hx_plain_cleanup, hx_nest_digest},
    {"hx-coll", &hx_coll_vmsd, sizeof(HxColl), hx_coll_init, hx_coll_cleanup, hx_coll_digest},
    {"hx-deep", &hx_deep_vmsd, sizeof(HxDeep), hx_deep_init, hx_deep_cleanup, hx_deep_digest},
    {"hx-custom", &hx_custom_vmsd, sizeof(HxCustom), hx_custom_init, hx_plain_cleanup,
     hx_custom_digest},
};

const HxFixture *hx_fixtures(size_t *count)
{
    *count = sizeof(hx_table) / sizeof(hx_table[0]);
    return hx_table;
}

const HxFixture *hx_fixture(const char *name)
{
    for (size_t i = 0; i < sizeof(hx_table) / sizeof(hx_table[0]); i++) {
        if (strcmp(hx_table[i].name, name) == 0) {
            return &hx_table[i];
        }
    }
    return NULL;
}

void *hx_create(const HxFixture *fx, bool sample)
{
    /* Exactly the struct's size, so AddressSanitizer sees a write one byte past it. */
    void *opaque = g_malloc0(fx->size);
    fx->init(opaque, sample);
    return opaque;
}

void hx_destroy(const HxFixture *fx, void *opaque)
{
    if (!opaque) {
        return;
    }
    fx->cleanup(opaque);
    g_free(opaque);
}

const VMStateDescription *hx_scalars_vmsd_ptr(void) { return &hx_scalars_vmsd; }
const VMStateDescription *hx_varray_vmsd_ptr(void) { return &hx_varray_vmsd; }
const VMStateDescription *hx_ptr_vmsd_ptr(void) { return &hx_ptr_vmsd; }
const VMStateDescription *hx_nest_vmsd_ptr(void) { return &hx_nest_vmsd; }
const VMStateDescription *hx_coll_vmsd_ptr(void) { return &hx_coll_vmsd; }
const VMStateDescription *hx_deep_vmsd_ptr(void) { return &hx_deep_vmsd; }
const VMStateDescription *hx_custom_vmsd_ptr(void) { return &hx_custom_vmsd; }
