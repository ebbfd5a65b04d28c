/* Engine fixtures: hooks that log their order, and custom VMStateInfo written in C. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "eng_internal.h"

/* ---- hooks -------------------------------------------------------------------------------- */

static void eng_log(EngHooks *h, const char *what) {
    size_t used = strlen(h->log);
    snprintf(h->log + used, sizeof(h->log) - used, "%s;", what);
}

const char *eng_hooks_log(const EngHooks *h) { return h->log; }

static int hook_pre_save(void *opaque) {
    EngHooks *h = opaque;
    eng_log(h, "pre_save");
    return h->pre_save_ret;
}

static int hook_post_save(void *opaque) {
    EngHooks *h = opaque;
    eng_log(h, "post_save");
    return h->post_save_ret;
}

static int hook_pre_load(void *opaque) {
    EngHooks *h = opaque;
    eng_log(h, "pre_load");
    return h->pre_load_ret;
}

static int hook_post_load(void *opaque, int version_id) {
    EngHooks *h = opaque;
    char text[32];
    snprintf(text, sizeof(text), "post_load:%d", version_id);
    eng_log(h, text);
    return h->post_load_ret;
}

static int sub_pre_save(void *opaque) { eng_log(opaque, "sub.pre_save"); return 0; }
static int sub_post_save(void *opaque) { eng_log(opaque, "sub.post_save"); return 0; }
static int sub_pre_load(void *opaque) { eng_log(opaque, "sub.pre_load"); return 0; }

static int sub_post_load(void *opaque, int version_id) {
    char text[32];
    snprintf(text, sizeof(text), "sub.post_load:%d", version_id);
    eng_log(opaque, text);
    return 0;
}

/* A be32 whose get/put log themselves; the element is EngHooks.v. */
static int logged_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    EngHooks *h = (EngHooks *)((char *)pv - offsetof(EngHooks, v));
    eng_log(h, "get");
    if (h->get_ret) {
        return h->get_ret;
    }
    *(uint32_t *)pv = qemu_get_be32(f);
    return 0;
}

static int logged_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    (void)vmdesc;
    EngHooks *h = (EngHooks *)((char *)pv - offsetof(EngHooks, v));
    eng_log(h, "put");
    if (h->put_ret) {
        return h->put_ret;
    }
    qemu_put_be32(f, *(uint32_t *)pv);
    return 0;
}

static const VMStateInfo eng_info_logged = {.name = "logged", .get = logged_get, .put = logged_put};

static const VMStateDescription eng_hooks_sub_vmsd = {
    .name = "eng-hooks/sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = sub_pre_save,
    .post_save = sub_post_save,
    .pre_load = sub_pre_load,
    .post_load = sub_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(s, EngHooks),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_hooks_vmsd = {
    .name = "eng-hooks",
    .version_id = 3,
    .minimum_version_id = 2,
    .pre_save = hook_pre_save,
    .post_save = hook_post_save,
    .pre_load = hook_pre_load,
    .post_load = hook_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_SINGLE(v, EngHooks, 0, eng_info_logged, uint32_t),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_hooks_sub_vmsd, NULL},
};
const VMStateDescription *eng_vmsd_hooks(void) { return &eng_hooks_vmsd; }

/* ---- custom infos ------------------------------------------------------------------------- */

static int be24_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    uint32_t v = (uint32_t)qemu_get_byte(f) << 16;
    v |= (uint32_t)qemu_get_byte(f) << 8;
    v |= (uint32_t)qemu_get_byte(f);
    *(uint32_t *)pv = v;
    return 0;
}

static int be24_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    (void)vmdesc;
    uint32_t v = *(uint32_t *)pv;
    if (v > 0xffffff) {
        return -ERANGE;
    }
    qemu_put_byte(f, (int)(v >> 16));
    qemu_put_byte(f, (int)(v >> 8));
    qemu_put_byte(f, (int)v);
    return 0;
}

const VMStateInfo eng_info_be24 = {.name = "eng-be24", .get = be24_get, .put = be24_put};

static int wrapped_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    if (qemu_get_be16(f) != 0xCAFE) {
        return -EINVAL;
    }
    return vmstate_load_state(f, &eng_inner_vmsd, pv, eng_inner_vmsd.version_id);
}

static int wrapped_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                       JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    qemu_put_be16(f, 0xCAFE);
    return vmstate_save_state(f, &eng_inner_vmsd, pv, vmdesc);
}

const VMStateInfo eng_info_wrapped = {.name = "eng-wrapped", .get = wrapped_get, .put = wrapped_put};

static int name_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)field;
    char buf[256];
    size_t len = qemu_get_counted_string(f, buf);
    if (len == 0 && qemu_file_get_error(f)) {
        return qemu_file_get_error(f);
    }
    if (len >= size) {
        return -E2BIG;
    }
    memcpy(pv, buf, len + 1);
    return 0;
}

static int name_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    (void)vmdesc;
    qemu_put_counted_string(f, (const char *)pv);
    return 0;
}

const VMStateInfo eng_info_name = {.name = "eng-name", .get = name_get, .put = name_put};

static const VMStateDescription eng_custom_vmsd = {
    .name = "eng-custom",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_SINGLE(u24, EngCustom, 0, eng_info_be24, uint32_t),
        VMSTATE_SINGLE(w, EngCustom, 0, eng_info_wrapped, EngInner),
        VMSTATE_BUFFER_UNSAFE_INFO(name, EngCustom, 0, eng_info_name, 16),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_custom(void) { return &eng_custom_vmsd; }

/* ---- a custom info that calls the standard infos' get/put itself --------------------------- */

static int pair_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    EngDirect *d = pv;
    int ret = vmstate_info_uint16.get(f, &d->a, sizeof(uint16_t), field);
    if (ret) {
        return ret;
    }
    ret = vmstate_info_bool.get(f, &d->flag, sizeof(bool), field);
    if (ret) {
        return ret;
    }
    return vmstate_info_uint8_equal.get(f, &d->magic, sizeof(uint8_t), field);
}

static int pair_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                    JSONWriter *vmdesc) {
    (void)size;
    EngDirect *d = pv;
    int ret = vmstate_info_uint16.put(f, &d->a, sizeof(uint16_t), field, vmdesc);
    if (ret) {
        return ret;
    }
    ret = vmstate_info_bool.put(f, &d->flag, sizeof(bool), field, vmdesc);
    if (ret) {
        return ret;
    }
    return vmstate_info_uint8_equal.put(f, &d->magic, sizeof(uint8_t), field, vmdesc);
}

static const VMStateInfo eng_info_pair = {.name = "eng-pair", .get = pair_get, .put = pair_put};

static const VMStateDescription eng_direct_vmsd = {
    .name = "eng-direct",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        {
            .name = "pair",
            .offset = 0,
            .size = sizeof(EngDirect),
            .info = &eng_info_pair,
            .flags = VMS_SINGLE,
        },
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_direct(void) { return &eng_direct_vmsd; }

/* ---- a custom info that tolerates a failed standard get ----------------------------------- */

static int tolerant_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    EngTolerant *d = (EngTolerant *)((char *)pv - offsetof(EngTolerant, magic));
    /* An older stream may carry another magic: remember the result and carry on. */
    d->inner_ret = vmstate_info_uint8_equal.get(f, pv, sizeof(uint8_t), field);
    return 0;
}

static int tolerant_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                        JSONWriter *vmdesc) {
    return vmstate_info_uint8.put(f, pv, size, field, vmdesc);
}

static const VMStateInfo eng_info_tolerant = {
    .name = "eng-tolerant", .get = tolerant_get, .put = tolerant_put};

static const VMStateDescription eng_tolerant_vmsd = {
    .name = "eng-tolerant",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_SINGLE(magic, EngTolerant, 0, eng_info_tolerant, uint8_t),
        VMSTATE_UINT8(after, EngTolerant),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_tolerant(void) { return &eng_tolerant_vmsd; }

/* ---- a custom info that records an error on the file and returns 0 ----------------------- */

static int seterr_get(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    EngSetErr *d = (EngSetErr *)((char *)pv - offsetof(EngSetErr, mark));
    *(uint8_t *)pv = (uint8_t)qemu_get_byte(f);
    qemu_file_set_error(f, d->get_error);
    return 0;
}

static int seterr_put(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    (void)vmdesc;
    EngSetErr *d = (EngSetErr *)((char *)pv - offsetof(EngSetErr, mark));
    qemu_put_byte(f, 0x4D);
    qemu_file_set_error(f, d->put_error);
    return 0;
}

static const VMStateInfo eng_info_seterr = {.name = "eng-seterr", .get = seterr_get, .put = seterr_put};

static const VMStateDescription eng_seterr_vmsd = {
    .name = "eng-seterr",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(a, EngSetErr),
        VMSTATE_SINGLE(mark, EngSetErr, 0, eng_info_seterr, uint8_t),
        VMSTATE_UINT8(b, EngSetErr),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_seterr(void) { return &eng_seterr_vmsd; }

/* ---- eng-hooks nested in a field -------------------------------------------------------- */

static const VMStateDescription eng_hooks_parent_vmsd = {
    .name = "eng-hooks-parent",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(h, EngHooksParent, 0, eng_hooks_vmsd, EngHooks),
        VMSTATE_UINT8(after, EngHooksParent),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_hooks_parent(void) { return &eng_hooks_parent_vmsd; }

/* A nested description whose subsection's pre_load returns 4 (a positive result, not a failure
 * in QEMU), loaded from input that ends inside the subsection's version. */
static int eng_positive_sub_pre_load(void *opaque) {
    (void)opaque;
    return 4;
}

static const VMStateDescription eng_positive_sub_vmsd = {
    .name = "eng-positive-inner/sub",
    .version_id = 1,
    .minimum_version_id = 0,
    .pre_load = eng_positive_sub_pre_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(b, EngInner8),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_positive_inner_vmsd = {
    .name = "eng-positive-inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(a, EngInner8),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){&eng_positive_sub_vmsd, NULL},
};

static const VMStateDescription eng_positive_vmsd = {
    .name = "eng-positive",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(in, EngPositive, 0, eng_positive_inner_vmsd, EngInner8),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_positive(void) { return &eng_positive_vmsd; }
