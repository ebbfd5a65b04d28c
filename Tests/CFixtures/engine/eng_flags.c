/* Engine fixtures: one description per group of VMStateFlags, VSTRUCT, ALLOC and VALIDATE. */
#include "eng_internal.h"


static const VMStateDescription eng_array_vmsd = {
    .name = "eng-array",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16_ARRAY(arr, EngFlags, 3),
        VMSTATE_UINT8_2DARRAY(grid, EngFlags, 2, 3),
        VMSTATE_UINT32_SUB_ARRAY(sub, EngFlags, 1, 3),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_array(void) { return &eng_array_vmsd; }

static const VMStateDescription eng_varray_vmsd = {
    .name = "eng-varray",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(vi32_n, EngFlags),
        VMSTATE_VARRAY_INT32(vi32, EngFlags, vi32_n, 0, vmstate_info_uint32, uint32_t),
        VMSTATE_INT32(ui32_n, EngFlags),
        VMSTATE_ARRAY_INT32_UNSAFE(ui32_inline, EngFlags, ui32_n, vmstate_info_int16, int16_t),
        VMSTATE_UINT8(vu8_n, EngFlags),
        VMSTATE_STRUCT_VARRAY_UINT8(vu8, EngFlags, vu8_n, 0, eng_inner_vmsd, EngInner),
        VMSTATE_UINT16(vu16_n, EngFlags),
        VMSTATE_VARRAY_UINT16_UNSAFE(vu16, EngFlags, vu16_n, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_UINT32(vu32_n, EngFlags),
        VMSTATE_VARRAY_UINT32(vu32, EngFlags, vu32_n, 0, vmstate_info_uint64, uint64_t),
        VMSTATE_UINT32(su32_n, EngFlags),
        VMSTATE_STRUCT_VARRAY_UINT32(su32, EngFlags, su32_n, 0, eng_inner_vmsd, EngInner),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_varray(void) { return &eng_varray_vmsd; }

static const VMStateDescription eng_multiply_vmsd = {
    .name = "eng-multiply",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(mul_n, EngFlags),
        VMSTATE_VARRAY_MULTIPLY(mul, EngFlags, mul_n, 2, vmstate_info_uint8, uint8_t),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_multiply(void) { return &eng_multiply_vmsd; }

static const VMStateDescription eng_vbuffer_vmsd = {
    .name = "eng-vbuffer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(vbuf_len, EngFlags),
        VMSTATE_VBUFFER(vbuf, EngFlags, 0, NULL, vbuf_len),
        VMSTATE_UINT32(vbm_len, EngFlags),
        VMSTATE_VBUFFER_MULTIPLY(vbm, EngFlags, 0, NULL, vbm_len, 3),
        VMSTATE_UINT32(vbu_len, EngFlags),
        VMSTATE_VBUFFER_UINT32(vbu, EngFlags, 0, NULL, vbu_len),
        VMSTATE_BUFFER_POINTER_UNSAFE(praw, EngFlags, 0, 2),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_vbuffer(void) { return &eng_vbuffer_vmsd; }

static const VMStateDescription eng_struct_vmsd = {
    .name = "eng-struct",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(s, EngFlags, 0, eng_inner_vmsd, EngInner),
        VMSTATE_STRUCT_POINTER(sp, EngFlags, eng_inner_vmsd, EngInner),
        VMSTATE_STRUCT_ARRAY(sarr, EngFlags, 2, 0, eng_inner_vmsd, EngInner),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_struct(void) { return &eng_struct_vmsd; }

static const VMStateDescription eng_ptrarray_vmsd = {
    .name = "eng-ptrarray",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(parr, EngFlags, 3, 0, eng_inner_vmsd, EngInner),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_ptrarray(void) { return &eng_ptrarray_vmsd; }

/* ---- ALLOC -------------------------------------------------------------------------------- */

static const VMStateDescription eng_alloc_vmsd = {
    .name = "eng-alloc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngAlloc),
        VMSTATE_VARRAY_UINT32_ALLOC(vals, EngAlloc, n, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_INT32(sn, EngAlloc),
        VMSTATE_STRUCT_VARRAY_ALLOC(structs, EngAlloc, sn, 0, eng_inner_vmsd, EngInner),
        VMSTATE_UINT32(blen, EngAlloc),
        VMSTATE_VBUFFER_ALLOC_UINT32(blob, EngAlloc, 0, NULL, blen),
        VMSTATE_UINT16(hn, EngAlloc),
        VMSTATE_VARRAY_UINT16_ALLOC(h, EngAlloc, hn, 0, vmstate_info_uint8, uint8_t),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_alloc(void) { return &eng_alloc_vmsd; }

/* ---- VALIDATE ----------------------------------------------------------------------------- */

static bool eng_x_below_100(void *opaque, int version_id) {
    (void)version_id;
    return ((EngValidate *)opaque)->x < 100;
}

static const VMStateDescription eng_validate_vmsd = {
    .name = "eng-validate",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, EngValidate),
        VMSTATE_VALIDATE("x below 100", eng_x_below_100),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_validate(void) { return &eng_validate_vmsd; }

/* ---- VSTRUCT ------------------------------------------------------------------------------ */

const VMStateDescription eng_vinner_vmsd = {
    .name = "eng-vinner",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(a, EngVInner),
        VMSTATE_UINT32_V(b, EngVInner, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_vstruct_vmsd = {
    .name = "eng-vstruct",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_VSTRUCT(v1s, EngVStruct, eng_vinner_vmsd, EngVInner, 1),
        VMSTATE_VSTRUCT(v2s, EngVStruct, eng_vinner_vmsd, EngVInner, 2),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_vstruct(void) { return &eng_vstruct_vmsd; }

static const VMStateDescription eng_vstruct_bad_vmsd = {
    .name = "eng-vstruct-bad",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_VSTRUCT(v1s, EngVStruct, eng_vinner_vmsd, EngVInner, 3),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_vstruct_bad(void) { return &eng_vstruct_bad_vmsd; }

