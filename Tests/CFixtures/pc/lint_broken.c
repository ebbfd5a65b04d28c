/*
 * Deliberately broken tables for the lint tests: each top-level description plants one mistake
 * (named in its comment with the rule id and the path lint must report). Some of them cannot
 * be written with the VMSTATE_* macros (the macros prevent the mistake), so they are written
 * as plain initialisers. None of these tables is ever saved or loaded.
 */
#include <stddef.h>

#include "pc_devices.h"

typedef struct PcLintInner {
    uint8_t a;
    uint8_t b;
} PcLintInner;

typedef struct PcLintState {
    uint8_t n8;
    uint16_t n16;
    uint32_t n32;
    uint32_t x;
    uint32_t y;
    uint8_t items[8];
    uint16_t items16[8];
    uint8_t *data;
    uint32_t data_size;
    PcLintInner inner;
} PcLintState;

/* array-varray-exclusive at broken_array_varray/items */
static const VMStateDescription pc_lint_array_varray = {
    .name = "broken_array_varray",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "items",
            .offset = offsetof(PcLintState, items),
            .size = 1,
            .num = 8,
            .num_offset = offsetof(PcLintState, n8),
            .info = &vmstate_info_uint8,
            .flags = VMS_ARRAY | VMS_VARRAY_UINT8,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* varray-exclusive at broken_varray_flags/items */
static const VMStateDescription pc_lint_varray_flags = {
    .name = "broken_varray_flags",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "items",
            .offset = offsetof(PcLintState, items),
            .size = 1,
            .num_offset = offsetof(PcLintState, n8),
            .info = &vmstate_info_uint8,
            .flags = VMS_VARRAY_UINT8 | VMS_VARRAY_UINT16,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* multiply-needs-vbuffer at broken_multiply/items */
static const VMStateDescription pc_lint_multiply = {
    .name = "broken_multiply",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "items",
            .offset = offsetof(PcLintState, items),
            .size = 4,
            .info = &vmstate_info_buffer,
            .flags = VMS_BUFFER | VMS_MULTIPLY,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* alloc-needs-pointer at broken_alloc/items */
static const VMStateDescription pc_lint_alloc = {
    .name = "broken_alloc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "items",
            .offset = offsetof(PcLintState, items),
            .size = 1,
            .num_offset = offsetof(PcLintState, n8),
            .info = &vmstate_info_uint8,
            .flags = VMS_VARRAY_UINT8 | VMS_ALLOC,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* multiply-elements-needs-count at broken_multiply_elements/x */
static const VMStateDescription pc_lint_multiply_elements = {
    .name = "broken_multiply_elements",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "x",
            .offset = offsetof(PcLintState, x),
            .size = 4,
            .num = 2,
            .info = &vmstate_info_uint32,
            .flags = VMS_SINGLE | VMS_MULTIPLY_ELEMENTS,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* struct-needs-vmsd at broken_struct/inner/missing (inside a nested struct) */
static const VMStateDescription pc_lint_inner_missing_vmsd = {
    .name = "broken_inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(a, PcLintInner),
        {
            .name = "missing",
            .offset = offsetof(PcLintInner, b),
            .size = 1,
            .flags = VMS_STRUCT,
        },
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_lint_struct = {
    .name = "broken_struct",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(inner, PcLintState, 0, pc_lint_inner_missing_vmsd, PcLintInner),
        VMSTATE_END_OF_LIST(),
    },
};

/* needs-info at broken_info/x */
static const VMStateDescription pc_lint_info = {
    .name = "broken_info",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "x",
            .offset = offsetof(PcLintState, x),
            .size = 4,
            .flags = VMS_SINGLE,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/*
 * subsection-name at broken_subsection/elsewhere/sub (does not start with the parent's name),
 * subsection-separator (warning) at broken_subsection/broken_subsection_extra,
 * and broken_subsection/fine is correct.
 */
static const VMStateDescription pc_lint_sub_elsewhere = {
    .name = "elsewhere/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, PcLintState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_lint_sub_extra = {
    .name = "broken_subsection_extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(y, PcLintState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_lint_sub_fine = {
    .name = "broken_subsection/fine",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(n8, PcLintState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_lint_subsection = {
    .name = "broken_subsection",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(n16, PcLintState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_lint_sub_elsewhere,
        &pc_lint_sub_extra,
        &pc_lint_sub_fine,
        NULL,
    },
};

/* duplicate-field (warning) at broken_duplicate/x */
static const VMStateDescription pc_lint_duplicate = {
    .name = "broken_duplicate",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, PcLintState),
        VMSTATE_UINT32(y, PcLintState),
        VMSTATE_UINT32(x, PcLintState),
        VMSTATE_END_OF_LIST(),
    },
};

/* duplicate-field (warning) at broken_duplicate_version/x: a copied line with a version bump;
 * QEMU saves both at version 2 (a version does not choose between entries, a test does) */
static const VMStateDescription pc_lint_duplicate_version = {
    .name = "broken_duplicate_version",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(x, PcLintState),
        VMSTATE_UINT32_V(x, PcLintState, 2),
        VMSTATE_END_OF_LIST(),
    },
};

/* duplicate-field (warning) at broken_duplicate_equal/y: saved, then saved again as a check */
static const VMStateDescription pc_lint_duplicate_equal = {
    .name = "broken_duplicate_equal",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(y, PcLintState),
        VMSTATE_UINT32_EQUAL(y, PcLintState, NULL),
        VMSTATE_END_OF_LIST(),
    },
};

/* duplicate-field (warning) at broken_duplicate_slices/items: a slice inside the whole array */
static const VMStateDescription pc_lint_duplicate_slices = {
    .name = "broken_duplicate_slices",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8_SUB_ARRAY(items, PcLintState, 2, 4),
        VMSTATE_UINT8_ARRAY(items, PcLintState, 8),
        VMSTATE_END_OF_LIST(),
    },
};

/* varray-unvalidated (warning) at broken_varray_unvalidated/items16: the count n16 comes from
 * the stream and nothing checks it against the 8 entries of items16 */
static const VMStateDescription pc_lint_varray_unvalidated = {
    .name = "broken_varray_unvalidated",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(n16, PcLintState),
        VMSTATE_VARRAY_UINT16_UNSAFE(items16, PcLintState, n16, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_END_OF_LIST(),
    },
};

/* unguarded (warning) at broken_unguarded/data: the size of the buffer behind `data` comes from
 * the stream (data_size) */
static const VMStateDescription pc_lint_unguarded = {
    .name = "broken_unguarded",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(data_size, PcLintState),
        VMSTATE_VBUFFER_UINT32(data, PcLintState, 0, NULL, data_size),
        VMSTATE_END_OF_LIST(),
    },
};

/* out-of-bounds at broken_bounds/inner/far: the nested struct is 2 bytes, the field is at 100 */
static const VMStateDescription pc_lint_inner_far = {
    .name = "broken_inner_far",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(a, PcLintInner),
        {
            .name = "far",
            .offset = 100,
            .size = 4,
            .info = &vmstate_info_uint32,
            .flags = VMS_SINGLE,
        },
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_lint_bounds = {
    .name = "broken_bounds",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(inner, PcLintState, 0, pc_lint_inner_far, PcLintInner),
        VMSTATE_END_OF_LIST(),
    },
};

/* version-range at broken_versions (minimum 3 > version 2),
 * field-version (warning) at broken_versions/x (version 5 > 2) */
static const VMStateDescription pc_lint_versions = {
    .name = "broken_versions",
    .version_id = 2,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32_V(x, PcLintState, 5),
        VMSTATE_END_OF_LIST(),
    },
};

/* recursive-struct at broken_recursive/self: the description contains itself */
extern const VMStateDescription pc_lint_recursive;
const VMStateDescription pc_lint_recursive = {
    .name = "broken_recursive",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "self",
            .offset = 0,
            .size = sizeof(PcLintState),
            .vmsd = &pc_lint_recursive,
            .flags = VMS_STRUCT | VMS_POINTER,
        },
        VMSTATE_END_OF_LIST(),
    },
};

/* NULL-terminated, exported so that `vmstate lint LIB.so pc_lint_broken_vmsds` finds it. */
const VMStateDescription *const pc_lint_broken_vmsds[] = {
    &pc_lint_array_varray,   &pc_lint_varray_flags,       &pc_lint_multiply,
    &pc_lint_alloc,          &pc_lint_multiply_elements,  &pc_lint_struct,
    &pc_lint_info,           &pc_lint_subsection,         &pc_lint_duplicate,
    &pc_lint_varray_unvalidated, &pc_lint_unguarded,      &pc_lint_bounds,
    &pc_lint_versions,       &pc_lint_recursive,          &pc_lint_duplicate_version,
    &pc_lint_duplicate_equal, &pc_lint_duplicate_slices,  NULL,
};

const VMStateDescription *const *pc_lint_broken_vmsd_list(void) { return pc_lint_broken_vmsds; }

/* ---- QEMU's own idioms, which lint must not report (LintTests.idiomsNotReported) ---------- */

typedef struct PcLintIdioms {
    uint32_t regs[8];
    uint8_t config[8];
    uint32_t in_use;
    uint8_t *macs;
    uint16_t n16;
    uint16_t *table;
} PcLintIdioms;

static bool pc_lint_is_pci(void *opaque, int version_id) {
    (void)opaque;
    (void)version_id;
    return true;
}

static bool pc_lint_is_pcie(void *opaque, int version_id) {
    (void)opaque;
    (void)version_id;
    return false;
}

static bool pc_lint_macs_fit(void *opaque, int version_id) {
    (void)version_id;
    return ((PcLintIdioms *)opaque)->in_use <= 8;
}

static bool pc_lint_macs_do_not_fit(void *opaque, int version_id) {
    return !pc_lint_macs_fit(opaque, version_id);
}

static const VMStateDescription pc_lint_idioms = {
    .name = "idioms",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        /* slices of one array (e1000's mac_reg) */
        VMSTATE_UINT32_SUB_ARRAY(regs, PcLintIdioms, 0, 4),
        VMSTATE_UINT32_SUB_ARRAY(regs, PcLintIdioms, 4, 4),
        /* alternatives chosen by a test (QEMU's PCIDevice config for PCI and PCI Express) */
        VMSTATE_BUFFER_TEST(config, PcLintIdioms, pc_lint_is_pci),
        VMSTATE_BUFFER_TEST(config, PcLintIdioms, pc_lint_is_pcie),
        /* names the macros fix (mc146818rtc's two VMSTATE_UNUSED) */
        VMSTATE_UNUSED(1),
        VMSTATE_UNUSED(1),
        /* the guarded pair of virtio-net's MAC table: the fields' own tests check the count */
        VMSTATE_UINT32(in_use, PcLintIdioms),
        VMSTATE_VBUFFER_MULTIPLY(macs, PcLintIdioms, 0, pc_lint_macs_fit, in_use, 6),
        VMSTATE_UNUSED_VARRAY_UINT32(PcLintIdioms, pc_lint_macs_do_not_fit, 0, in_use, 6),
        /* an allocated array: the engine allocates the count it reads */
        VMSTATE_UINT16(n16, PcLintIdioms),
        VMSTATE_VARRAY_UINT16_ALLOC(table, PcLintIdioms, n16, 0, vmstate_info_uint16, uint16_t),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription *pc_lint_idioms_vmsd(void) { return &pc_lint_idioms; }
