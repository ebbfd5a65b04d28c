/* Engine fixtures: truncated input paths and the vmdesc JSON. */
#include "eng_internal.h"

/* ---- truncation --------------------------------------------------------------------------- */

static const VMStateDescription eng_trunc_sub_vmsd = {
    .name = "eng-trunc/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(sub_val, EngTrunc),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_trunc_vmsd = {
    .name = "eng-trunc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(head, EngTrunc),
        VMSTATE_UINT32_ARRAY(arr, EngTrunc, 5),
        VMSTATE_STRUCT_ARRAY(structs, EngTrunc, 2, 0, eng_inner_vmsd, EngInner),
        VMSTATE_STRUCT(in, EngTrunc, 0, eng_inner_vmsd, EngInner),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_trunc_sub_vmsd, NULL},
};
const VMStateDescription *eng_vmsd_trunc(void) { return &eng_trunc_vmsd; }

/* ---- vmdesc ------------------------------------------------------------------------------- */

static bool eng_always(void *opaque, int version_id) {
    (void)opaque;
    (void)version_id;
    return true;
}

static bool eng_never_needed(void *opaque) {
    (void)opaque;
    return false;
}

static const VMStateDescription eng_inner_sub_never_vmsd = {
    .name = "eng-inner-sub/never",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = eng_never_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(a, EngInner),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_inner_sub_vmsd = {
    .name = "eng-inner-sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(a, EngInner),
        VMSTATE_UINT32(b, EngInner),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_inner_sub_never_vmsd, NULL},
};

static const VMStateDescription eng_desc_sub_vmsd = {
    .name = "eng-desc/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(sub, EngDesc),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_desc_none_vmsd = {
    .name = "eng-desc/none",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = eng_never_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(sub, EngDesc),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_desc_vmsd = {
    .name = "eng-desc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(dup, EngDesc),
        {
            .name = "dup",
            .offset = offsetof(EngDesc, dup2),
            .size = sizeof(uint8_t),
            .info = &vmstate_info_uint8,
            .flags = VMS_SINGLE,
        },
        VMSTATE_UNUSED(2),
        VMSTATE_UNUSED(1),
        VMSTATE_UINT16_ARRAY(arr, EngDesc, 3),
        VMSTATE_ARRAY_TEST(idx, EngDesc, 2, eng_always, vmstate_info_uint32, uint32_t),
        VMSTATE_STRUCT(s, EngDesc, 0, eng_inner_vmsd, EngInner),
        VMSTATE_STRUCT_ARRAY(sarr, EngDesc, 2, 0, eng_inner_vmsd, EngInner),
        VMSTATE_STRUCT_ARRAY(tarr, EngDesc, 2, 0, eng_inner_sub_vmsd, EngInner),
        VMSTATE_VSTRUCT(vs, EngDesc, eng_vinner_vmsd, EngVInner, 1),
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(parr, EngDesc, 2, 0, eng_inner_vmsd, EngInner),
        VMSTATE_END_OF_LIST(),
    },
    .subsections =
        (const VMStateDescription *[]){&eng_desc_sub_vmsd, &eng_desc_none_vmsd, NULL},
};
const VMStateDescription *eng_vmsd_desc(void) { return &eng_desc_vmsd; }

/* Sub-arrays of 0 elements first, between and last among fields described one by one (a test,
 * an array with "index"): QEMU 7.2 writes nothing for them, not even a separator. */
static const VMStateDescription eng_desc_empty_vmsd = {
    .name = "eng-desc-empty",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16_SUB_ARRAY(arr, EngDesc, 0, 0),
        VMSTATE_ARRAY_TEST(idx, EngDesc, 2, eng_always, vmstate_info_uint32, uint32_t),
        VMSTATE_UINT16_SUB_ARRAY(arr, EngDesc, 1, 0),
        VMSTATE_UINT8_TEST(dup, EngDesc, eng_always),
        VMSTATE_UINT16_SUB_ARRAY(arr, EngDesc, 2, 0),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_desc_empty(void) { return &eng_desc_empty_vmsd; }
