/*
 * A device written the way a QEMU 10.0 device author writes it: the QEMU 10.0 API is chosen
 * before the first include, descriptions use early_setup, VMSTATE_END_OF_LIST() (VMS_END),
 * const subsection arrays and field lists, and 10.0's new macros. See fx_qemu10.h.
 */
#define VMSTATE_QEMU_API 1000
#include "migration/vmstate.h"
#include "qapi/error.h"
#include "qobject/json-writer.h"

#include <errno.h>
#include <string.h>

#include "fx_qemu10.h"
#include "migration/vmstate-registry.h"
#include "migration/vmstate-schema.h"

/* QEMU 7.2's vmstate_load_state (same tables), for comparing the two APIs' results. */
int fx10_vmstate_load_state_72(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id)
    __asm__("vmstate_load_state");

/* ---- elements of the arrays of pointers --------------------------------------------------- */

typedef struct Fx10Elem {
    uint32_t v;
} Fx10Elem;

static bool fx10_always(void *opaque) {
    (void)opaque;
    return true;
}

static const VMStateDescription vmstate_fx10_elem = {
    .name = "elem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, Fx10Elem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_fx10_elemsub_s = {
    .name = "elemsub/s",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fx10_always,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, Fx10Elem),
        VMSTATE_END_OF_LIST(),
    },
};

/* Not compressible in the vmdesc: it has subsections. */
static const VMStateDescription vmstate_fx10_elemsub = {
    .name = "elemsub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(v, Fx10Elem),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *const[]){
        &vmstate_fx10_elemsub_s,
        NULL,
    },
};

/* ---- the device ----------------------------------------------------------------------------- */

typedef struct Fx10Dev Fx10Dev;

typedef struct Fx10Tmp {
    Fx10Dev *parent;
    uint16_t doubled;
} Fx10Tmp;

struct Fx10Dev {
    uint32_t id;
    uint16_t regs[3];
    int32_t bitmap_bits;
    unsigned long *bitmap;
    bool has_bitmap;
    uint16_t level;
    int32_t fd;
    bool pass_fd;
    Fx10Elem *ptrs[4];
    Fx10Elem *sub_ptrs[3];
    Fx10Elem pair[2];
    uint32_t extra;
    bool has_extra;
};

static bool fx10_has_bitmap(void *opaque, int version_id) {
    (void)version_id;
    return ((Fx10Dev *)opaque)->has_bitmap;
}

static bool fx10_has_tmp(void *opaque, int version_id) {
    (void)opaque;
    return version_id >= 1;
}

static bool fx10_pass_fd(void *opaque, int version_id) {
    (void)version_id;
    return ((Fx10Dev *)opaque)->pass_fd;
}

static bool fx10_extra_needed_cb(void *opaque) {
    return ((Fx10Dev *)opaque)->has_extra;
}

static int fx10_tmp_pre_save(void *opaque) {
    Fx10Tmp *tmp = opaque;
    tmp->doubled = (uint16_t)(tmp->parent->level * 2);
    return 0;
}

static int fx10_tmp_post_load(void *opaque, int version_id) {
    (void)version_id;
    Fx10Tmp *tmp = opaque;
    tmp->parent->level = tmp->doubled / 2;
    return 0;
}

/* Loaded at the tmp field's version_id (0), as QEMU's get_tmp does: no versions here. */
static const VMStateDescription vmstate_fx10_tmp = {
    .name = "q10_tmp",
    .pre_save = fx10_tmp_pre_save,
    .post_load = fx10_tmp_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(doubled, Fx10Tmp),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_fx10_extra = {
    .name = "q10dev/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fx10_extra_needed_cb,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(extra, Fx10Dev),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription vmstate_fx10_dev = {
    .name = "q10dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .early_setup = true,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(id, Fx10Dev),
        VMSTATE_UINT16_ARRAY(regs, Fx10Dev, 3),
        VMSTATE_BITMAP_TEST(bitmap, Fx10Dev, fx10_has_bitmap, 0, bitmap_bits),
        VMSTATE_WITH_TMP_TEST(Fx10Dev, fx10_has_tmp, Fx10Tmp, vmstate_fx10_tmp),
        VMSTATE_FD_TEST(fd, Fx10Dev, fx10_pass_fd),
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(ptrs, Fx10Dev, 4, 0, vmstate_fx10_elem, Fx10Elem),
        VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(sub_ptrs, Fx10Dev, 3, 0, vmstate_fx10_elemsub, Fx10Elem),
        VMSTATE_STRUCT_ARRAY(pair, Fx10Dev, 2, 0, vmstate_fx10_elemsub, Fx10Elem),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *const[]){
        &vmstate_fx10_extra,
        NULL,
    },
};

static Fx10Dev fx10_dev;
static Fx10Elem fx10_elems[4];
static Fx10Elem fx10_sub_elems[3];
static unsigned long fx10_bitmap[2];

void fx10_device_reset(void) {
    memset(&fx10_dev, 0, sizeof(fx10_dev));
    fx10_dev.id = 0xA1B2C3D4u;
    fx10_dev.regs[0] = 0x0102;
    fx10_dev.regs[1] = 0x0304;
    fx10_dev.regs[2] = 0x0506;
    fx10_bitmap[0] = 0x8000000000000001ul;
    fx10_bitmap[1] = 0x3Ful;
    fx10_dev.bitmap = fx10_bitmap;
    fx10_dev.bitmap_bits = 70;
    fx10_dev.has_bitmap = true;
    fx10_dev.level = 0x21;
    fx10_dev.fd = 7;
    /* P N N P */
    fx10_elems[0].v = 0x11;
    fx10_elems[3].v = 0x44;
    fx10_dev.ptrs[0] = &fx10_elems[0];
    fx10_dev.ptrs[3] = &fx10_elems[3];
    /* N P N */
    fx10_sub_elems[1].v = 0x22;
    fx10_dev.sub_ptrs[1] = &fx10_sub_elems[1];
    fx10_dev.pair[0].v = 0x55;
    fx10_dev.pair[1].v = 0x66;
    fx10_dev.extra = 0xDEADBEEFu;
    fx10_dev.has_extra = true;
}

void fx10_device_clear(void) {
    memset(&fx10_dev, 0, sizeof(fx10_dev));
    memset(fx10_elems, 0, sizeof(fx10_elems));
    memset(fx10_sub_elems, 0, sizeof(fx10_sub_elems));
    memset(fx10_bitmap, 0, sizeof(fx10_bitmap));
    fx10_dev.bitmap = fx10_bitmap;
    fx10_dev.bitmap_bits = 70;
    fx10_dev.has_bitmap = true;
    fx10_dev.ptrs[0] = &fx10_elems[0];
    fx10_dev.ptrs[3] = &fx10_elems[3];
    fx10_dev.sub_ptrs[1] = &fx10_sub_elems[1];
}

const VMStateDescription *fx10_device_vmsd(void) {
    return &vmstate_fx10_dev;
}

char *fx10_dump_schema(GError **error) {
    static const VMStateDescription *const list[] = {&vmstate_fx10_dev, NULL};
    return vmstate_dump_schema("pc-i440fx-10.0", list, error);
}

void *fx10_device_state(void) {
    return &fx10_dev;
}

int32_t fx10_device_fd(void) {
    return fx10_dev.fd;
}

char *fx10_device_summary(void) {
    const Fx10Dev *d = &fx10_dev;
    return g_strdup_printf("id=%08x regs=%04x,%04x,%04x bitmap=%016lx,%016lx level=%u ptrs=%x,%s,%s,%x "
                           "sub_ptrs=%s,%x,%s pair=%x,%x extra=%08x",
                           d->id, d->regs[0], d->regs[1], d->regs[2], fx10_bitmap[0], fx10_bitmap[1],
                           d->level, d->ptrs[0]->v, d->ptrs[1] ? "P" : "N", d->ptrs[2] ? "P" : "N",
                           d->ptrs[3]->v, d->sub_ptrs[0] ? "P" : "N", d->sub_ptrs[1]->v,
                           d->sub_ptrs[2] ? "P" : "N", d->pair[0].v, d->pair[1].v, d->extra);
}

/* ---- small tables for the error rules ------------------------------------------------------ */

typedef struct Fx10Top {
    Fx10Elem e;
    uint32_t x;
} Fx10Top;

static int fx10_fail_pre_save(void *opaque) {
    (void)opaque;
    return -7;
}

static int fx10_fail_post_save(void *opaque) {
    (void)opaque;
    return -3;
}

static int fx10_get_u32(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    *(uint32_t *)pv = qemu_get_be32(f);
    return 0;
}

static int fx10_put_einval(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc) {
    (void)f, (void)pv, (void)size, (void)field, (void)vmdesc;
    return -EINVAL;
}

static int fx10_put_positive(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc) {
    (void)f, (void)pv, (void)size, (void)field, (void)vmdesc;
    return 1;
}

static const VMStateInfo fx10_info_failing = {.name = "failing", .get = fx10_get_u32, .put = fx10_put_einval};
static const VMStateInfo fx10_info_positive = {.name = "positive", .get = fx10_get_u32, .put = fx10_put_positive};

static const VMStateDescription vmstate_fx10_top_pre = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = fx10_fail_pre_save,
    .fields = (const VMStateField[]){VMSTATE_UINT32(x, Fx10Top), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_put = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_SINGLE(x, Fx10Top, 0, fx10_info_failing, uint32_t),
                                     VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_positive = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_SINGLE(x, Fx10Top, 0, fx10_info_positive, uint32_t),
                                     VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_inner_bad = {
    .name = "innerbad",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = fx10_fail_pre_save,
    .fields = (const VMStateField[]){VMSTATE_UINT32(v, Fx10Elem), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_struct = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_STRUCT(e, Fx10Top, 1, vmstate_fx10_inner_bad, Fx10Elem),
                                     VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_inner_put = {
    .name = "inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_SINGLE(v, Fx10Elem, 0, fx10_info_failing, uint32_t),
                                     VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_vstruct = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_VSTRUCT(e, Fx10Top, vmstate_fx10_inner_put, Fx10Elem, 1),
                                     VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_post = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_save = fx10_fail_post_save,
    .fields = (const VMStateField[]){VMSTATE_UINT32(x, Fx10Top), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_sub_bad = {
    .name = "top/bad",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fx10_always,
    .pre_save = fx10_fail_pre_save,
    .fields = (const VMStateField[]){VMSTATE_UINT32(x, Fx10Top), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_sub = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_UINT32(x, Fx10Top), VMSTATE_END_OF_LIST()},
    .subsections = (const VMStateDescription *const[]){&vmstate_fx10_top_sub_bad, NULL},
};

typedef struct Fx10TopTmp {
    Fx10Top *parent;
    uint32_t copy;
} Fx10TopTmp;

static const VMStateDescription vmstate_fx10_top_tmp_bad = {
    .name = "top_tmp",
    .pre_save = fx10_fail_pre_save,
    .fields = (const VMStateField[]){VMSTATE_UINT32(copy, Fx10TopTmp), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_top_tmp = {
    .name = "top",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_WITH_TMP(Fx10Top, Fx10TopTmp, vmstate_fx10_top_tmp_bad),
                                     VMSTATE_END_OF_LIST()},
};

static Fx10Top fx10_top;
static Fx10Elem fx10_elemsub_state;

/* A subsection's positive result (post_load 5): QEMU 10.0 records it on the file and goes on. */
typedef struct Fx10PosIn {
    uint8_t a;
    uint8_t b;
} Fx10PosIn;
typedef struct Fx10PosTop {
    Fx10PosIn in[2];
    uint8_t x;
} Fx10PosTop;
static Fx10PosTop fx10_pos;

static int fx10_pos_post_load(void *opaque, int version_id) {
    (void)opaque, (void)version_id;
    return 5;
}

static const VMStateDescription vmstate_fx10_posin_s = {
    .name = "posin/s",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = fx10_pos_post_load,
    .fields = (const VMStateField[]){VMSTATE_UINT8(b, Fx10PosIn), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_fx10_posin = {
    .name = "posin",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_UINT8(a, Fx10PosIn), VMSTATE_END_OF_LIST()},
    .subsections = (const VMStateDescription *const[]){&vmstate_fx10_posin_s, NULL},
};

static const VMStateDescription vmstate_fx10_pos = {
    .name = "pos",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_STRUCT_ARRAY(in, Fx10PosTop, 2, 0, vmstate_fx10_posin, Fx10PosIn),
                                     VMSTATE_UINT8(x, Fx10PosTop), VMSTATE_END_OF_LIST()},
};

char *fx10_positive_summary(void) {
    return g_strdup_printf("in0=%d/%d in1=%d/%d x=%d", fx10_pos.in[0].a, fx10_pos.in[0].b, fx10_pos.in[1].a,
                           fx10_pos.in[1].b, fx10_pos.x);
}

static const VMStateDescription *fx10_case_vmsd(Fx10Case which, void **opaque) {
    *opaque = &fx10_top;
    switch (which) {
    case FX10_DEVICE:
    case FX10_DEVICE_FD:
        *opaque = &fx10_dev;
        return &vmstate_fx10_dev;
    case FX10_PRE_SAVE_FAILS:
        return &vmstate_fx10_top_pre;
    case FX10_PUT_FAILS:
        return &vmstate_fx10_top_put;
    case FX10_PUT_POSITIVE:
        return &vmstate_fx10_top_positive;
    case FX10_STRUCT_FAILS:
        return &vmstate_fx10_top_struct;
    case FX10_VSTRUCT_FAILS:
        return &vmstate_fx10_top_vstruct;
    case FX10_POST_SAVE_FAILS:
        return &vmstate_fx10_top_post;
    case FX10_SUBSECTION_FAILS:
        return &vmstate_fx10_top_sub;
    case FX10_TMP_FAILS:
        return &vmstate_fx10_top_tmp;
    case FX10_ELEMSUB:
        *opaque = &fx10_elemsub_state;
        return &vmstate_fx10_elemsub;
    case FX10_POSITIVE_SUB:
        memset(&fx10_pos, 0, sizeof fx10_pos);
        *opaque = &fx10_pos;
        return &vmstate_fx10_pos;
    }
    return NULL;
}

int fx10_save_case(Fx10Case which, bool with_errp, GByteArray **out, char **vmdesc, char **error,
                   int *file_error) {
    void *opaque;
    const VMStateDescription *vmsd = fx10_case_vmsd(which, &opaque);
    if (which == FX10_DEVICE || which == FX10_DEVICE_FD) {
        fx10_device_reset();
        fx10_dev.pass_fd = which == FX10_DEVICE_FD;
    } else {
        fx10_top.e.v = 1;
        fx10_top.x = 2;
        fx10_elemsub_state.v = 0x77;
    }
    GByteArray *bytes = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(bytes);
    JSONWriter *w = json_writer_new(false);
    Error *err = NULL;
    json_writer_start_object(w, NULL);
    int ret = with_errp ? vmstate_save_state_with_err(f, vmsd, opaque, w, &err) : vmstate_save_state(f, vmsd, opaque, w);
    if (ret == 0) {
        json_writer_end_object(w);
    }
    *file_error = qemu_file_get_error(f);
    qemu_fclose(f);
    *out = bytes;
    /* QEMU's writer refuses json_writer_get while containers are open (after a failure). */
    *vmdesc = g_strdup(ret == 0 ? json_writer_get(w) : "");
    json_writer_free(w);
    *error = err ? g_strdup(error_get_pretty(err)) : NULL;
    error_free(err);
    return ret;
}

static int fx10_load_with(int (*load)(QEMUFile *, const VMStateDescription *, void *, int), Fx10Case which,
                          const uint8_t *bytes, size_t len, int version_id, int *file_error, size_t *remaining) {
    void *opaque;
    const VMStateDescription *vmsd = fx10_case_vmsd(which, &opaque);
    if (which == FX10_DEVICE || which == FX10_DEVICE_FD) {
        fx10_device_clear();
        fx10_dev.pass_fd = which == FX10_DEVICE_FD;
    }
    GBytes *in = g_bytes_new(bytes, len);
    QEMUFile *f = vmstate_file_new_input(in);
    g_bytes_unref(in);
    int ret = load(f, vmsd, opaque, version_id);
    *file_error = qemu_file_get_error(f);
    *remaining = vmstate_file_remaining(f);
    qemu_fclose(f);
    return ret;
}

int fx10_load_case(Fx10Case which, const uint8_t *bytes, size_t len, int version_id, int *file_error,
                   size_t *remaining) {
    return fx10_load_with(vmstate_load_state, which, bytes, len, version_id, file_error, remaining);
}

int fx10_load_case_72(Fx10Case which, const uint8_t *bytes, size_t len, int version_id, int *file_error,
                      size_t *remaining) {
    return fx10_load_with(fx10_vmstate_load_state_72, which, bytes, len, version_id, file_error, remaining);
}

/* ---- the notes harness's arrays of pointers ------------------------------------------------ */

typedef struct Fx10P2 {
    Fx10Elem *p[2];
} Fx10P2;
typedef struct Fx10P3 {
    Fx10Elem *p[3];
} Fx10P3;
typedef struct Fx10P4 {
    Fx10Elem *p[4];
} Fx10P4;

#define FX10_PATTERN_VMSD(_name, _elem, _n, _type)                                               \
    static const VMStateDescription _name = {                                                    \
        .name = "dev",                                                                           \
        .version_id = 1,                                                                         \
        .minimum_version_id = 1,                                                                 \
        .fields = (const VMStateField[]){                                                        \
            VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(p, _type, _n, 1, _elem, Fx10Elem),                \
            VMSTATE_END_OF_LIST(),                                                               \
        },                                                                                       \
    }
FX10_PATTERN_VMSD(vmstate_fx10_p2c, vmstate_fx10_elem, 2, Fx10P2);
FX10_PATTERN_VMSD(vmstate_fx10_p3c, vmstate_fx10_elem, 3, Fx10P3);
FX10_PATTERN_VMSD(vmstate_fx10_p4c, vmstate_fx10_elem, 4, Fx10P4);
FX10_PATTERN_VMSD(vmstate_fx10_p2n, vmstate_fx10_elemsub, 2, Fx10P2);
FX10_PATTERN_VMSD(vmstate_fx10_p3n, vmstate_fx10_elemsub, 3, Fx10P3);
FX10_PATTERN_VMSD(vmstate_fx10_p4n, vmstate_fx10_elemsub, 4, Fx10P4);

int fx10_save_pattern(const char *pattern, bool compressible, GByteArray **out, char **vmdesc) {
    static const VMStateDescription *const tables[2][5] = {
        {NULL, NULL, &vmstate_fx10_p2n, &vmstate_fx10_p3n, &vmstate_fx10_p4n},
        {NULL, NULL, &vmstate_fx10_p2c, &vmstate_fx10_p3c, &vmstate_fx10_p4c},
    };
    size_t n = strlen(pattern);
    if (n < 2 || n > 4) {
        return -EINVAL;
    }
    Fx10Elem elems[4] = {{0x11}, {0x22}, {0x33}, {0x44}};
    Fx10P4 dev = {{NULL}};
    for (size_t i = 0; i < n; i++) {
        dev.p[i] = pattern[i] == 'P' ? &elems[i] : NULL;
    }
    GByteArray *bytes = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(bytes);
    JSONWriter *w = json_writer_new(false);
    Error *err = NULL;
    json_writer_start_object(w, NULL);
    int ret = vmstate_save_state_with_err(f, tables[compressible ? 1 : 0][n], &dev, w, &err);
    json_writer_end_object(w);
    qemu_fclose(f);
    error_free(err);
    *out = bytes;
    *vmdesc = g_strdup(json_writer_get(w));
    json_writer_free(w);
    return ret;
}

/* ---- layout, flags, helpers ---------------------------------------------------------------- */

void fx10_layout(size_t out[5]) {
    out[0] = offsetof(VMStateDescription, unmigratable);
    out[1] = offsetof(VMStateDescription, early_setup);
    out[2] = offsetof(VMStateDescription, version_id);
    out[3] = offsetof(VMStateDescription, subsections);
    out[4] = sizeof(VMStateDescription);
}

uint32_t fx10_end_of_list_flags(void) {
    const VMStateField *field = vmstate_fx10_dev.fields;
    while (field->name) {
        field++;
    }
    return (uint32_t)field->flags;
}

bool fx10_extra_needed(bool has_extra) {
    Fx10Dev dev = {.has_extra = has_extra};
    return vmstate_section_needed(&vmstate_fx10_extra, &dev);
}

typedef struct Fx10FdDev {
    int32_t fd;
} Fx10FdDev;

static const VMStateDescription vmstate_fx10_fd_dev = {
    .name = "fd_dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_FD(fd, Fx10FdDev), VMSTATE_END_OF_LIST()},
};

const VMStateDescription *fx10_fd_vmsd(void) {
    return &vmstate_fx10_fd_dev;
}

/* A subsection whose field list ends with an all-zero entry (as `{}` gives) where
 * VMSTATE_END_OF_LIST() belongs (QEMU 10.0 asserts on it), under a parent that ends as it
 * should. */
static const VMStateDescription vmstate_fx10_noend_sub = {
    .name = "noend_dev/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = fx10_always,
    .fields = (const VMStateField[]){VMSTATE_INT32(fd, Fx10FdDev), {.name = NULL}},
};

static const VMStateDescription vmstate_fx10_noend_dev = {
    .name = "noend_dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){VMSTATE_INT32(fd, Fx10FdDev), VMSTATE_END_OF_LIST()},
    .subsections = (const VMStateDescription *const[]){&vmstate_fx10_noend_sub, NULL},
};

const VMStateDescription *fx10_noend_vmsd(void) {
    return &vmstate_fx10_noend_dev;
}

char *fx10_error_api_demo(void) {
    Error *err = NULL;
    Error *local = NULL;
    GString *text = g_string_new(NULL);
    error_setg(&local, "inner %d", 7);
    error_prepend(&local, "middle: ");
    error_propagate(&err, local);
    error_prepend(&err, "outer: ");
    g_string_append(text, error_get_pretty(err));
    error_free(err);
    err = NULL;
    error_setg_errno(&err, ENOENT, "open %s", "x");
    g_string_append_printf(text, "|%s", error_get_pretty(err));
    error_free(err);
    err = NULL;
    error_prepend(&err, "nothing to prefix");
    g_string_append_printf(text, "|%s", err ? "set" : "unset");
    error_setg(NULL, "dropped");
    return g_string_free(text, FALSE);
}

int fx10_fd_info_direct(int *get_ret, int32_t *value, int *get_file_error, int *put_file_error) {
    int32_t fd = 5;
    GByteArray *bytes = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(bytes);
    int put_ret = vmstate_info_fd.put(f, &fd, sizeof(fd), NULL, NULL);
    *put_file_error = qemu_file_get_error(f);
    qemu_fclose(f);
    g_byte_array_unref(bytes);
    GBytes *in = g_bytes_new("x", 1);
    f = vmstate_file_new_input(in);
    g_bytes_unref(in);
    *get_ret = vmstate_info_fd.get(f, &fd, sizeof(fd), NULL);
    *value = fd;
    *get_file_error = qemu_file_get_error(f);
    qemu_fclose(f);
    return put_ret;
}

/* ---- QEMU 10.0's new macros against their fields written out by hand ------------------------- */

typedef struct Fx10MacroDev {
    int32_t fd;
    unsigned long *bits;
    int32_t nbits;
} Fx10MacroDev;

typedef struct Fx10MacroTmp {
    Fx10MacroDev *parent;
    uint8_t x;
} Fx10MacroTmp;

static bool fx10_macro_test(void *opaque, int version_id) {
    (void)opaque;
    return version_id > 1;
}

static const VMStateDescription vmstate_fx10_macro_tmp = {.name = "macro_tmp"};

static const VMStateField fx10_macro_made[] = {
    VMSTATE_FD(fd, Fx10MacroDev),
    VMSTATE_FD_V(fd, Fx10MacroDev, 3),
    VMSTATE_FD_TEST(fd, Fx10MacroDev, fx10_macro_test),
    VMSTATE_BITMAP_TEST(bits, Fx10MacroDev, fx10_macro_test, 2, nbits),
    VMSTATE_BITMAP(bits, Fx10MacroDev, 4, nbits),
    VMSTATE_WITH_TMP_TEST(Fx10MacroDev, fx10_macro_test, Fx10MacroTmp, vmstate_fx10_macro_tmp),
    VMSTATE_WITH_TMP(Fx10MacroDev, Fx10MacroTmp, vmstate_fx10_macro_tmp),
    VMSTATE_END_OF_LIST(),
};

/* What QEMU 10.0's include/migration/vmstate.h makes of the same lines. */
static const VMStateField fx10_macro_expected[] = {
    {.name = "fd", .size = sizeof(int32_t), .info = &vmstate_info_fd, .flags = VMS_SINGLE,
     .offset = offsetof(Fx10MacroDev, fd)},
    {.name = "fd", .version_id = 3, .size = sizeof(int32_t), .info = &vmstate_info_fd, .flags = VMS_SINGLE,
     .offset = offsetof(Fx10MacroDev, fd)},
    {.name = "fd", .field_exists = fx10_macro_test, .size = sizeof(int32_t), .info = &vmstate_info_fd,
     .flags = VMS_SINGLE, .offset = offsetof(Fx10MacroDev, fd)},
    {.name = "bits", .field_exists = fx10_macro_test, .version_id = 2,
     .size_offset = offsetof(Fx10MacroDev, nbits), .info = &vmstate_info_bitmap, .flags = VMS_VBUFFER | VMS_POINTER,
     .offset = offsetof(Fx10MacroDev, bits)},
    {.name = "bits", .version_id = 4, .size_offset = offsetof(Fx10MacroDev, nbits), .info = &vmstate_info_bitmap,
     .flags = VMS_VBUFFER | VMS_POINTER, .offset = offsetof(Fx10MacroDev, bits)},
    {.name = "tmp", .field_exists = fx10_macro_test, .size = sizeof(Fx10MacroTmp), .vmsd = &vmstate_fx10_macro_tmp,
     .info = &vmstate_info_tmp},
    {.name = "tmp", .size = sizeof(Fx10MacroTmp), .vmsd = &vmstate_fx10_macro_tmp, .info = &vmstate_info_tmp},
    {.flags = VMS_END},
};

char *fx10_macro_mismatches(void) {
    GString *text = g_string_new(NULL);
    size_t n = G_N_ELEMENTS(fx10_macro_made);
    if (n != G_N_ELEMENTS(fx10_macro_expected)) {
        g_string_append(text, "count;");
    }
    for (size_t i = 0; i < n && i < G_N_ELEMENTS(fx10_macro_expected); i++) {
        const VMStateField *a = &fx10_macro_made[i], *b = &fx10_macro_expected[i];
        bool same = (a->name == b->name || (a->name && b->name && strcmp(a->name, b->name) == 0)) &&
                    a->err_hint == b->err_hint && a->offset == b->offset && a->size == b->size &&
                    a->start == b->start && a->num == b->num && a->num_offset == b->num_offset &&
                    a->size_offset == b->size_offset && a->info == b->info && a->flags == b->flags &&
                    a->vmsd == b->vmsd && a->version_id == b->version_id &&
                    a->struct_version_id == b->struct_version_id && a->field_exists == b->field_exists;
        if (!same) {
            g_string_append_printf(text, "%zu;", i);
        }
    }
    return g_string_free(text, FALSE);
}

/* ---- the registry ---------------------------------------------------------------------------- */

static const VMStateDescription vmstate_fx10_blocked = {
    .name = "q10blocked",
    .version_id = 1,
    .minimum_version_id = 1,
    .unmigratable = true,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(id, Fx10Dev),
        VMSTATE_END_OF_LIST(),
    },
};

static Fx10Dev fx10_blocked_dev;

const VMStateDescription *fx10_blocked_vmsd(void) {
    return &vmstate_fx10_blocked;
}

bool fx10_register(VMStateRegistry *reg, bool with_unmigratable, GError **error) {
    if (!vmstate_registry_add_sized(reg, "q10dev", 0, &vmstate_fx10_dev, &fx10_dev, sizeof(fx10_dev),
                                    error)) {
        return false;
    }
    return !with_unmigratable ||
           vmstate_registry_add(reg, "q10blocked", 0, &vmstate_fx10_blocked, &fx10_blocked_dev, error);
}

/* ---- fx-devmacros with the QEMU 10.0 API (the table: fx_devmacros_table.h) ---------------- */

#define FX_DEVMACROS_VMSD fx10_devmacros_vmsd
#include "../fx_devmacros_table.h"

/* ---- A plain early-setup device: two fields, no pointers (its vmdesc sizes are its bytes) -- */

typedef struct {
    uint32_t a;
    uint64_t b;
} Fx10Early;

static Fx10Early fx10_early = {0x11223344u, 0x5566778899aabbccull};

static const VMStateField vmstate_fx10_early_fields[] = {
    VMSTATE_UINT32(a, Fx10Early),
    VMSTATE_UINT64(b, Fx10Early),
    VMSTATE_END_OF_LIST(),
};

static const VMStateDescription vmstate_fx10_early = {
    .name = "q10early",
    .version_id = 1,
    .minimum_version_id = 1,
    .early_setup = true,
    .fields = vmstate_fx10_early_fields,
};

static Fx10Early fx10_early_first = {0x01020304u, 0x0506070809101112ull};

/* The same fields with a priority above MIG_PRI_DEFAULT, RAM's handler's. */
static const VMStateDescription vmstate_fx10_early_first = {
    .name = "q10early-first",
    .version_id = 1,
    .minimum_version_id = 1,
    .early_setup = true,
    .priority = MIG_PRI_VIRTIO_MEM,
    .fields = vmstate_fx10_early_fields,
};

bool fx10_register_early(VMStateRegistry *reg, bool with_priority, GError **error) {
    return vmstate_registry_add_sized(reg, "q10early", 0, &vmstate_fx10_early, &fx10_early,
                                      sizeof(fx10_early), error) &&
           (!with_priority ||
            vmstate_registry_add_sized(reg, "q10early-first", 0, &vmstate_fx10_early_first,
                                       &fx10_early_first, sizeof(fx10_early_first), error));
}
