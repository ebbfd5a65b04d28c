/*
 * A plain C interpreter of VMState tables (see interp.h). Written for this benchmark from
 * docs/FORMAT.md §2 and §3; the standard infos are C functions with one qemu_put_* / qemu_get_*
 * call per element, found once per field by the info's address.
 */
#include "interp.h"

#include <errno.h>
#include <string.h>

typedef int (*put_fn)(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                      JSONWriter *vmdesc);
typedef int (*get_fn)(QEMUFile *f, void *pv, size_t size, const VMStateField *field);

/* ---- the standard infos, one qemu_put_* / qemu_get_* per element ------------------------- */

static int put_bool(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    qemu_put_byte(f, *(bool *)pv);
    return 0;
}
static int get_bool(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    *(bool *)pv = qemu_get_byte(f) != 0;
    return 0;
}

#define SCALAR_TWIN(name, type, putf, getf)                                                      \
    static int put_##name(QEMUFile *f, void *pv, size_t s, const VMStateField *fl,               \
                          JSONWriter *w) {                                                       \
        putf(f, (type *)pv);                                                                     \
        return 0;                                                                                \
    }                                                                                            \
    static int get_##name(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {             \
        getf(f, (type *)pv);                                                                     \
        return 0;                                                                                \
    }
SCALAR_TWIN(int8, int8_t, qemu_put_s8s, qemu_get_s8s)
SCALAR_TWIN(int16, int16_t, qemu_put_sbe16s, qemu_get_sbe16s)
SCALAR_TWIN(int32, int32_t, qemu_put_sbe32s, qemu_get_sbe32s)
SCALAR_TWIN(int64, int64_t, qemu_put_sbe64s, qemu_get_sbe64s)
SCALAR_TWIN(uint8, uint8_t, qemu_put_8s, qemu_get_8s)
SCALAR_TWIN(uint16, uint16_t, qemu_put_be16s, qemu_get_be16s)
SCALAR_TWIN(uint32, uint32_t, qemu_put_be32s, qemu_get_be32s)
SCALAR_TWIN(uint64, uint64_t, qemu_put_be64s, qemu_get_be64s)

#define EQUAL_TWIN(name, type, getf)                                                             \
    static int get_##name(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {             \
        type v;                                                                                  \
        getf(f, &v);                                                                             \
        return v == *(type *)pv ? 0 : -EINVAL;                                                   \
    }
EQUAL_TWIN(int32_equal, int32_t, qemu_get_sbe32s)
EQUAL_TWIN(uint8_equal, uint8_t, qemu_get_8s)
EQUAL_TWIN(uint16_equal, uint16_t, qemu_get_be16s)
EQUAL_TWIN(uint32_equal, uint32_t, qemu_get_be32s)
EQUAL_TWIN(uint64_equal, uint64_t, qemu_get_be64s)

static int get_int32_le(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    int32_t v;
    qemu_get_sbe32s(f, &v);
    if (v < 0 || v > *(int32_t *)pv) return -EINVAL;
    *(int32_t *)pv = v;
    return 0;
}

static int put_nullptr(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    if (pv) return -EINVAL;
    qemu_put_byte(f, VMS_NULLPTR_MARKER);
    return 0;
}
static int get_nullptr(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    return qemu_get_byte(f) == VMS_NULLPTR_MARKER ? 0 : -EINVAL;
}

static int put_cpudouble(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    CPU_DoubleU *v = pv;
    qemu_put_be32s(f, &v->l.upper);
    qemu_put_be32s(f, &v->l.lower);
    return 0;
}
static int get_cpudouble(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    CPU_DoubleU *v = pv;
    qemu_get_be32s(f, &v->l.upper);
    qemu_get_be32s(f, &v->l.lower);
    return 0;
}

static int put_buffer(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    qemu_put_buffer(f, pv, s);
    return 0;
}
static int get_buffer(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    qemu_get_buffer(f, pv, s);
    return 0;
}

static const uint8_t zeros[1024];
static int put_unused(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    while (s > 0) {
        size_t n = s < sizeof zeros ? s : sizeof zeros;
        qemu_put_buffer(f, zeros, n);
        s -= n;
    }
    return 0;
}
static int get_unused(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    uint8_t drop[1024];
    while (s > 0) {
        size_t n = s < sizeof drop ? s : sizeof drop;
        qemu_get_buffer(f, drop, n);
        s -= n;
    }
    return 0;
}

static int put_timer(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    qemu_put_sbe64(f, ((QEMUTimer *)pv)->expire_time);
    return 0;
}
static int get_timer(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    ((QEMUTimer *)pv)->expire_time = qemu_get_sbe64(f);
    return 0;
}

static int put_tmp(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    void *tmp = g_malloc0(s < sizeof(void *) ? sizeof(void *) : s);
    *(void **)tmp = pv;
    int ret = interp_save(f, fl->vmsd, tmp, fl->vmsd->version_id);
    g_free(tmp);
    return ret;
}
static int get_tmp(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    void *tmp = g_malloc0(s < sizeof(void *) ? sizeof(void *) : s);
    *(void **)tmp = pv;
    int ret = interp_load(f, fl->vmsd, tmp, fl->version_id);
    g_free(tmp);
    return ret;
}

static int put_bitmap(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    uint64_t *words = pv;
    for (size_t i = 0; i < (s + 63) / 64; i++) qemu_put_be64(f, words[i]);
    return 0;
}
static int get_bitmap(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    uint64_t *words = pv;
    for (size_t i = 0; i < (s + 63) / 64; i++) words[i] = qemu_get_be64(f);
    return 0;
}

/* QTAILQ / QLIST through the entry at `start` bytes into each element. */
static int put_list(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    for (char *elm = *(void **)pv; elm; elm = *(void **)(elm + fl->start)) {
        qemu_put_byte(f, 1);
        int ret = interp_save(f, fl->vmsd, elm, fl->vmsd->version_id);
        if (ret) return ret;
    }
    qemu_put_byte(f, 0);
    return 0;
}
static int get_qtailq(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    QTailQLink *head = pv;
    if (!head->tql_prev) head->tql_prev = head;
    while (qemu_get_byte(f)) {
        char *elm = g_malloc0(s);
        int ret = interp_load(f, fl->vmsd, elm, fl->version_id);
        if (ret) {
            g_free(elm);
            return ret;
        }
        QTailQLink *link = (QTailQLink *)(elm + fl->start);
        link->tql_next = NULL;
        link->tql_prev = head->tql_prev;
        head->tql_prev->tql_next = elm;
        head->tql_prev = link;
    }
    return qemu_file_get_error(f);
}
static int get_qlist(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    void **slot = pv; /* the "next" pointer to append after */
    while (qemu_get_byte(f)) {
        char *elm = g_malloc0(s);
        int ret = interp_load(f, fl->vmsd, elm, fl->version_id);
        if (ret) {
            g_free(elm);
            return ret;
        }
        void **link = (void **)(elm + fl->start);
        link[0] = *slot;
        if (link[0]) ((void ***)((char *)link[0] + fl->start))[1] = &link[0];
        *slot = elm;
        link[1] = slot;
        slot = &link[0];
    }
    return qemu_file_get_error(f);
}

typedef struct {
    QEMUFile *f;
    const VMStateField *field;
    int ret;
} TreeSave;

static gboolean put_tree_node(gpointer key, gpointer value, gpointer data) {
    TreeSave *t = data;
    const VMStateDescription *val_vmsd = &t->field->vmsd[0];
    qemu_put_byte(t->f, 1);
    if (t->field->start == 0) {
        qemu_put_be64(t->f, (uint64_t)(uintptr_t)key);
    } else if ((t->ret = interp_save(t->f, &t->field->vmsd[1], key, t->field->vmsd[1].version_id))) {
        return TRUE;
    }
    t->ret = interp_save(t->f, val_vmsd, value, val_vmsd->version_id);
    return t->ret != 0;
}
static int put_gtree(QEMUFile *f, void *pv, size_t s, const VMStateField *fl, JSONWriter *w) {
    GTree *tree = *(GTree **)pv;
    TreeSave t = {f, fl, 0};
    qemu_put_be32(f, g_tree_nnodes(tree));
    g_tree_foreach(tree, put_tree_node, &t);
    qemu_put_byte(f, 0);
    return t.ret;
}
static int get_gtree(QEMUFile *f, void *pv, size_t s, const VMStateField *fl) {
    GTree *tree = *(GTree **)pv;
    int32_t expected = qemu_get_be32(f), loaded = 0;
    while (qemu_get_byte(f)) {
        void *key;
        if (fl->start == 0) {
            key = (void *)(uintptr_t)qemu_get_be64(f);
        } else {
            key = g_malloc0(fl->start);
            int ret = interp_load(f, &fl->vmsd[1], key, fl->version_id);
            if (ret) {
                g_free(key);
                return ret;
            }
        }
        void *value = g_malloc0(s);
        int ret = interp_load(f, &fl->vmsd[0], value, fl->version_id);
        if (ret) {
            g_free(value);
            if (fl->start) g_free(key);
            return ret;
        }
        g_tree_insert(tree, key, value);
        loaded++;
    }
    return loaded == expected ? qemu_file_get_error(f) : -EINVAL;
}

/* ---- finding the twin of a standard info (once per field) --------------------------------- */

typedef struct {
    const VMStateInfo *info;
    put_fn put;
    get_fn get;
} Twin;

static Twin twins[64];

static void add_twin(const VMStateInfo *info, put_fn put, get_fn get) {
    unsigned i = (unsigned)(((uintptr_t)info * 0x9E3779B97F4A7C15ull) >> 58);
    while (twins[i].info) i = (i + 1) & 63;
    twins[i] = (Twin){info, put, get};
}

static void init_twins(void) {
    add_twin(&vmstate_info_bool, put_bool, get_bool);
    add_twin(&vmstate_info_int8, put_int8, get_int8);
    add_twin(&vmstate_info_int16, put_int16, get_int16);
    add_twin(&vmstate_info_int32, put_int32, get_int32);
    add_twin(&vmstate_info_int64, put_int64, get_int64);
    add_twin(&vmstate_info_uint8, put_uint8, get_uint8);
    add_twin(&vmstate_info_uint16, put_uint16, get_uint16);
    add_twin(&vmstate_info_uint32, put_uint32, get_uint32);
    add_twin(&vmstate_info_uint64, put_uint64, get_uint64);
    add_twin(&vmstate_info_int32_equal, put_int32, get_int32_equal);
    add_twin(&vmstate_info_int32_le, put_int32, get_int32_le);
    add_twin(&vmstate_info_uint8_equal, put_uint8, get_uint8_equal);
    add_twin(&vmstate_info_uint16_equal, put_uint16, get_uint16_equal);
    add_twin(&vmstate_info_uint32_equal, put_uint32, get_uint32_equal);
    add_twin(&vmstate_info_uint64_equal, put_uint64, get_uint64_equal);
    add_twin(&vmstate_info_nullptr, put_nullptr, get_nullptr);
    add_twin(&vmstate_info_cpudouble, put_cpudouble, get_cpudouble);
    add_twin(&vmstate_info_buffer, put_buffer, get_buffer);
    add_twin(&vmstate_info_unused_buffer, put_unused, get_unused);
    add_twin(&vmstate_info_timer, put_timer, get_timer);
    add_twin(&vmstate_info_tmp, put_tmp, get_tmp);
    add_twin(&vmstate_info_bitmap, put_bitmap, get_bitmap);
    add_twin(&vmstate_info_qtailq, put_list, get_qtailq);
    add_twin(&vmstate_info_qlist, put_list, get_qlist);
    add_twin(&vmstate_info_gtree, put_gtree, get_gtree);
}

static const Twin *twin_of(const VMStateInfo *info) {
    static int ready;
    if (!ready) {
        init_twins();
        ready = 1;
    }
    unsigned i = (unsigned)(((uintptr_t)info * 0x9E3779B97F4A7C15ull) >> 58);
    while (twins[i].info) {
        if (twins[i].info == info) return &twins[i];
        i = (i + 1) & 63;
    }
    return NULL;
}

/* ---- the walk ------------------------------------------------------------------------------ */

static bool takes_part(const VMStateField *field, void *opaque, int version_id) {
    if (field->field_exists) return field->field_exists(opaque, version_id);
    return field->version_id <= version_id;
}

static int n_elems(void *opaque, const VMStateField *field) {
    int n = 1;
    if (field->flags & VMS_ARRAY) {
        n = field->num;
    } else if (field->flags & VMS_VARRAY_INT32) {
        n = *(int32_t *)((char *)opaque + field->num_offset);
    } else if (field->flags & VMS_VARRAY_UINT32) {
        n = *(uint32_t *)((char *)opaque + field->num_offset);
    } else if (field->flags & VMS_VARRAY_UINT16) {
        n = *(uint16_t *)((char *)opaque + field->num_offset);
    } else if (field->flags & VMS_VARRAY_UINT8) {
        n = *(uint8_t *)((char *)opaque + field->num_offset);
    }
    if (field->flags & VMS_MULTIPLY_ELEMENTS) n *= field->num;
    return n;
}

static size_t elem_size(void *opaque, const VMStateField *field) {
    size_t size = field->size;
    if (field->flags & VMS_VBUFFER) {
        size = *(int32_t *)((char *)opaque + field->size_offset);
        if (field->flags & VMS_MULTIPLY) size *= field->size;
    }
    return size;
}

static int save_subsections(QEMUFile *f, const VMStateDescription *vmsd, void *opaque) {
    if (!vmsd->subsections) return 0;
    for (const VMStateDescription **sub = vmsd->subsections; *sub; sub++) {
        if ((*sub)->needed && !(*sub)->needed(opaque)) continue;
        size_t len = strlen((*sub)->name);
        qemu_put_byte(f, 5);
        qemu_put_byte(f, (int)len);
        qemu_put_buffer(f, (const uint8_t *)(*sub)->name, len);
        qemu_put_be32(f, (*sub)->version_id);
        int ret = interp_save(f, *sub, opaque, (*sub)->version_id);
        if (ret) return ret;
    }
    return 0;
}

int interp_save(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id) {
    int ret = 0;
    if (vmsd->pre_save && (ret = vmsd->pre_save(opaque))) return ret;
    for (const VMStateField *field = vmsd->fields; field->name; field++) {
        if (!takes_part(field, opaque, version_id)) {
            if (field->flags & VMS_MUST_EXIST) {
                ret = -EINVAL;
                break;
            }
            continue;
        }
        int n = n_elems(opaque, field);
        size_t size = elem_size(opaque, field);
        char *first = (char *)opaque + field->offset;
        if (field->flags & VMS_POINTER) first = *(char **)first;
        put_fn put = NULL;
        if (!(field->flags & (VMS_STRUCT | VMS_VSTRUCT)) && field->info) {
            const Twin *twin = twin_of(field->info);
            put = twin ? twin->put : field->info->put;
        }
        for (int i = 0; i < n && !ret; i++) {
            char *elem = first + size * i;
            if (field->flags & VMS_ARRAY_OF_POINTER) elem = *(char **)elem;
            if (!elem && size) {
                qemu_put_byte(f, VMS_NULLPTR_MARKER);
            } else if (field->flags & VMS_STRUCT) {
                ret = interp_save(f, field->vmsd, elem, field->vmsd->version_id);
            } else if (field->flags & VMS_VSTRUCT) {
                ret = interp_save(f, field->vmsd, elem, field->struct_version_id);
            } else if (put) {
                ret = put(f, elem, size, field, NULL);
            } else {
                ret = -EINVAL;
            }
        }
        if (ret) break;
    }
    if (!ret) ret = save_subsections(f, vmsd, opaque);
    if (vmsd->post_save) {
        int r = vmsd->post_save(opaque);
        if (!ret) ret = r;
    }
    return ret;
}

static int load_subsections(QEMUFile *f, const VMStateDescription *vmsd, void *opaque) {
    size_t parent_len = strlen(vmsd->name);
    while (qemu_peek_byte(f, 0) == 5) {
        int len = qemu_peek_byte(f, 1);
        if ((size_t)len < parent_len + 1) return 0;
        uint8_t *name;
        if (qemu_peek_buffer(f, &name, len, 2) != (size_t)len) return 0;
        if (memcmp(name, vmsd->name, parent_len) != 0) return 0;
        const VMStateDescription *found = NULL;
        for (const VMStateDescription **sub = vmsd->subsections; sub && *sub; sub++) {
            if (strlen((*sub)->name) == (size_t)len && memcmp((*sub)->name, name, len) == 0) {
                found = *sub;
                break;
            }
        }
        if (!found) return -ENOENT;
        qemu_file_skip(f, 2 + len);
        int version = (uint8_t)qemu_get_be32(f);
        int ret = interp_load(f, found, opaque, version);
        if (ret) return ret;
    }
    return 0;
}

int interp_load(QEMUFile *f, const VMStateDescription *vmsd, void *opaque, int version_id) {
    int ret = 0;
    if (version_id > vmsd->version_id || version_id < vmsd->minimum_version_id) return -EINVAL;
    if (vmsd->pre_load && (ret = vmsd->pre_load(opaque))) return ret;
    for (const VMStateField *field = vmsd->fields; field->name; field++) {
        if (!takes_part(field, opaque, version_id)) {
            if (field->flags & VMS_MUST_EXIST) return -1;
            continue;
        }
        int n = n_elems(opaque, field);
        size_t size = elem_size(opaque, field);
        char **slot = (char **)((char *)opaque + field->offset);
        if ((field->flags & VMS_POINTER) && (field->flags & VMS_ALLOC) && size * n != 0) {
            *slot = g_malloc(size * n);
        }
        char *first = (field->flags & VMS_POINTER) ? *slot : (char *)slot;
        get_fn get = NULL;
        if (!(field->flags & (VMS_STRUCT | VMS_VSTRUCT)) && field->info) {
            const Twin *twin = twin_of(field->info);
            get = twin ? twin->get : field->info->get;
        }
        for (int i = 0; i < n; i++) {
            char *elem = first + size * i;
            if (field->flags & VMS_ARRAY_OF_POINTER) elem = *(char **)elem;
            if (!elem && size) {
                ret = get_nullptr(f, NULL, size, field);
            } else if (field->flags & VMS_STRUCT) {
                ret = interp_load(f, field->vmsd, elem, field->vmsd->version_id);
            } else if (field->flags & VMS_VSTRUCT) {
                ret = interp_load(f, field->vmsd, elem, field->struct_version_id);
            } else if (get) {
                ret = get(f, elem, size, field);
            } else {
                ret = -EINVAL;
            }
            if (ret >= 0) ret = qemu_file_get_error(f);
            if (ret < 0) {
                qemu_file_set_error(f, ret);
                return ret;
            }
        }
    }
    ret = load_subsections(f, vmsd, opaque);
    if (ret) return ret;
    if (vmsd->post_load) ret = vmsd->post_load(opaque, version_id);
    return ret;
}
