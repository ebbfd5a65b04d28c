/* Engine fixtures: field versions, field_exists and subsections. */
#include "eng_internal.h"

/* ---- versions and field_exists ------------------------------------------------------------ */

static bool eng_d_exists(void *opaque, int version_id) {
    (void)version_id;
    return ((EngVersioned *)opaque)->has_d;
}

static bool eng_e_exists(void *opaque, int version_id) {
    EngVersioned *v = opaque;
    v->e_test_calls++;
    v->e_test_last_version = version_id;
    return version_id >= 2;
}

static const VMStateDescription eng_versioned_vmsd = {
    .name = "eng-versioned",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, EngVersioned),
        VMSTATE_UINT32_V(b, EngVersioned, 2),
        VMSTATE_UINT16(c, EngVersioned),
        VMSTATE_BOOL(has_d, EngVersioned),
        VMSTATE_UINT8_TEST(d, EngVersioned, eng_d_exists),
        VMSTATE_UINT8_TEST(e, EngVersioned, eng_e_exists),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_versioned(void) { return &eng_versioned_vmsd; }

/* ---- subsections -------------------------------------------------------------------------- */

static bool eng_need_x(void *opaque) { return ((EngSub *)opaque)->need_x; }
static bool eng_need_y(void *opaque) { return ((EngSub *)opaque)->need_y; }

static const VMStateDescription eng_sub_x_vmsd = {
    .name = "eng-sub/x",
    .version_id = 2,
    .minimum_version_id = 1,
    .needed = eng_need_x,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(x, EngSub),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_sub_y_vmsd = {
    .name = "eng-sub/y",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = eng_need_y,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(y, EngSub),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_sub_vmsd = {
    .name = "eng-sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(a, EngSub),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_sub_x_vmsd, &eng_sub_y_vmsd, NULL},
};
const VMStateDescription *eng_vmsd_sub(void) { return &eng_sub_vmsd; }

/* ---- a nested struct's subsections followed by the parent's ------------------------------- */

static const VMStateDescription eng_in_q_vmsd = {
    .name = "eng-in/q",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(q, EngIn),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_in_vmsd = {
    .name = "eng-in",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(p, EngIn),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_in_q_vmsd, NULL},
};

static const VMStateDescription eng_outer_w_vmsd = {
    .name = "eng-outer/w",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(w, EngOuter),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_outer_vmsd = {
    .name = "eng-outer",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(v, EngOuter),
        VMSTATE_STRUCT(in, EngOuter, 0, eng_in_vmsd, EngIn),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_outer_w_vmsd, NULL},
};
const VMStateDescription *eng_vmsd_outer(void) { return &eng_outer_vmsd; }
