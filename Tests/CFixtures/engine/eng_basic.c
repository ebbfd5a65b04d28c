/* Engine fixtures: the standard scalar, buffer, nullptr, timer, tmp and bitmap infos. */
#include <errno.h>
#include <string.h>

#include "eng_internal.h"

/* ---- eng-inner ---------------------------------------------------------------------------- */

const VMStateDescription eng_inner_vmsd = {
    .name = "eng-inner",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(a, EngInner),
        VMSTATE_UINT32(b, EngInner),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_inner(void) { return &eng_inner_vmsd; }

/* ---- scalars ------------------------------------------------------------------------------ */

static const VMStateDescription eng_scalars_vmsd = {
    .name = "eng-scalars",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(b, EngScalars),
        VMSTATE_INT8(i8, EngScalars),
        VMSTATE_INT16(i16, EngScalars),
        VMSTATE_INT32(i32, EngScalars),
        VMSTATE_INT64(i64, EngScalars),
        VMSTATE_UINT8(u8, EngScalars),
        VMSTATE_UINT16(u16, EngScalars),
        VMSTATE_UINT32(u32, EngScalars),
        VMSTATE_UINT64(u64, EngScalars),
        VMSTATE_SINGLE(d, EngScalars, 0, vmstate_info_cpudouble, CPU_DoubleU),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_scalars(void) { return &eng_scalars_vmsd; }

static const VMStateDescription eng_bools_vmsd = {
    .name = "eng-bools",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL_ARRAY(flags, EngBools, 4),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_bools(void) { return &eng_bools_vmsd; }

static const VMStateDescription eng_equal_vmsd = {
    .name = "eng-equal",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32_EQUAL(i32, EngEqual, "hint-i32"),
        VMSTATE_UINT8_EQUAL(u8, EngEqual, "hint-u8"),
        VMSTATE_UINT16_EQUAL(u16, EngEqual, "hint-u16"),
        VMSTATE_UINT32_EQUAL(u32, EngEqual, "hint-u32"),
        VMSTATE_UINT64_EQUAL(u64, EngEqual, "hint-u64"),
        VMSTATE_INT32_POSITIVE_LE(le, EngEqual),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_equal(void) { return &eng_equal_vmsd; }

/* ---- buffers ------------------------------------------------------------------------------ */

static const VMStateDescription eng_buffers_vmsd = {
    .name = "eng-buffers",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BUFFER(buf, EngBuffers),
        VMSTATE_UNUSED(3),
        VMSTATE_BUFFER_START_MIDDLE(mid, EngBuffers, 2),
        VMSTATE_PARTIAL_BUFFER(part, EngBuffers, 3),
        VMSTATE_UINT8(tail, EngBuffers),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_buffers(void) { return &eng_buffers_vmsd; }

/* ---- nullptr ------------------------------------------------------------------------------ */

static const VMStateDescription eng_nullptr_save_vmsd = {
    .name = "eng-nullptr-save",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(before, EngNullptr),
        VMSTATE_ARRAY_OF_POINTER(ptrs, EngNullptr, 2, 0, vmstate_info_nullptr, void *),
        VMSTATE_UINT8(after, EngNullptr),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_nullptr_save(void) { return &eng_nullptr_save_vmsd; }

static const VMStateDescription eng_nullptr_load_vmsd = {
    .name = "eng-nullptr-load",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(before, EngNullptr),
        {
            .name = "marker",
            .offset = offsetof(EngNullptr, ptrs),
            .size = sizeof(void *),
            .info = &vmstate_info_nullptr,
            .flags = VMS_SINGLE,
        },
        VMSTATE_UINT8(after, EngNullptr),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_nullptr_load(void) { return &eng_nullptr_load_vmsd; }

int eng_call_nullptr_put(QEMUFile *f) {
    return vmstate_info_nullptr.put(f, NULL, sizeof(void *), NULL, NULL);
}

int eng_call_nullptr_get(QEMUFile *f) {
    return vmstate_info_nullptr.get(f, NULL, sizeof(void *), NULL);
}

/* ---- timers ------------------------------------------------------------------------------- */

static const VMStateDescription eng_timers_vmsd = {
    .name = "eng-timers",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER(t, EngTimers),
        VMSTATE_TIMER_PTR(tp, EngTimers),
        VMSTATE_TIMER_PTR_ARRAY(arr, EngTimers, 3),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_timers(void) { return &eng_timers_vmsd; }

static void eng_special_cb(void *opaque) { (void)opaque; }

void eng_special_timer_init(QEMUTimer *t) {
    vmstate_timer_init(t, eng_special_cb, NULL);
}

static EngTimerRecord *installed_record;

static bool is_special(QEMUTimer *t) { return t->cb == eng_special_cb; }

/* The record of the installed functions; notes whether `user` was passed through. */
static EngTimerRecord *record_for(void *user) {
    EngTimerRecord *r = installed_record;
    if (user != r) {
        r->user_ok = 0;
    }
    return r;
}

static int64_t ops_expire_time(QEMUTimer *t, void *user) {
    if (!is_special(t)) {
        return t->expire_time;
    }
    EngTimerRecord *r = record_for(user);
    r->reads++;
    return ENG_SPECIAL_EXPIRE;
}

static _Thread_local bool tracing;
static _Thread_local int trace_count;
static _Thread_local EngTimerCall trace[ENG_TIMER_TRACE_MAX];

static void trace_call(char op, const QEMUTimer *t, int64_t expire) {
    if (!tracing) {
        return;
    }
    if (trace_count < ENG_TIMER_TRACE_MAX) {
        trace[trace_count] = (EngTimerCall){ .op = op, .timer = t, .expire = expire };
    }
    trace_count++;
}

void eng_timer_trace_start(void) {
    tracing = true;
    trace_count = 0;
}

int eng_timer_trace_stop(EngTimerCall *out, int max) {
    tracing = false;
    for (int i = 0; i < trace_count && i < max && i < ENG_TIMER_TRACE_MAX; i++) {
        out[i] = trace[i];
    }
    return trace_count;
}

static void ops_mod(QEMUTimer *t, int64_t expire, void *user) {
    trace_call('m', t, expire);
    if (!is_special(t)) {
        t->expire_time = expire;
        return;
    }
    EngTimerRecord *r = record_for(user);
    r->mods++;
    r->last_mod = expire;
}

static void ops_del(QEMUTimer *t, void *user) {
    trace_call('d', t, -1);
    if (!is_special(t)) {
        t->expire_time = -1;
        return;
    }
    EngTimerRecord *r = record_for(user);
    r->dels++;
}

void eng_timer_ops_install(EngTimerRecord *record) {
    installed_record = record;
    record->user_ok = 1;
    VMStateTimerOps ops = {
        .expire_time = ops_expire_time,
        .mod = ops_mod,
        .del = ops_del,
        .user = record,
    };
    vmstate_set_timer_ops(&ops);
}

void eng_timer_ops_reset(void) {
    installed_record = NULL;
    vmstate_set_timer_ops(NULL);
}

static const VMStateDescription eng_timer_elem_vmsd = {
    .name = "eng-timer-elem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER(t, EngTimerElem),
        VMSTATE_UINT8(v, EngTimerElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_timer_alloc_vmsd = {
    .name = "eng-timer-alloc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(n, EngTimerAlloc),
        VMSTATE_STRUCT_VARRAY_ALLOC(elems, EngTimerAlloc, n, 1, eng_timer_elem_vmsd, EngTimerElem),
        VMSTATE_UINT8_EQUAL(tail, EngTimerAlloc, NULL),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_timer_alloc(void) { return &eng_timer_alloc_vmsd; }

static const VMStateDescription eng_planted_word_vmsd = {
    .name = "eng-planted-word",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(x, EngPlantedWord),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_planted_slot_vmsd = {
    .name = "eng-planted-slot",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(v, EngPlantedSlot),
        VMSTATE_TIMER_PTR(t, EngPlantedSlot),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_planted_vmsd = {
    .name = "eng-planted",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngPlanted),
        VMSTATE_UINT32(ns, EngPlanted),
        VMSTATE_STRUCT_VARRAY_UINT32(arr, EngPlanted, n, 0, eng_planted_word_vmsd, EngPlantedWord),
        VMSTATE_STRUCT_VARRAY_UINT32(slots, EngPlanted, ns, 0, eng_planted_slot_vmsd, EngPlantedSlot),
        VMSTATE_BUFFER_POINTER_UNSAFE(target, EngPlanted, 0, 8),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_planted(void) { return &eng_planted_vmsd; }

static int eng_planted_helem_pre_load(void *opaque)
{
    /* The element's own hook sets the pointer its TIMER_PTR follows. */
    EngPlantedHookElem *e = opaque;
    e->t = &e->spare;
    return 0;
}

static const VMStateDescription eng_planted_helem_vmsd = {
    .name = "eng-planted-helem",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = eng_planted_helem_pre_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(i, EngPlantedHookElem),
        VMSTATE_TIMER_PTR(t, EngPlantedHookElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_planted_hook_vmsd = {
    .name = "eng-planted-hook",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngPlantedHook),
        VMSTATE_STRUCT_VARRAY_UINT32(e, EngPlantedHook, n, 0, eng_planted_helem_vmsd, EngPlantedHookElem),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_planted_hook(void) { return &eng_planted_hook_vmsd; }

static const VMStateDescription eng_planted_aelem_vmsd = {
    .name = "eng-planted-aelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(m, EngPlantedAllocElem),
        VMSTATE_ARRAY_INT32_UNSAFE(a, EngPlantedAllocElem, m, vmstate_info_uint32, uint32_t),
        VMSTATE_ARRAY_OF_POINTER(p, EngPlantedAllocElem, 1, 0, vmstate_info_uint32, uint32_t *),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_planted_alloc_vmsd = {
    .name = "eng-planted-alloc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(n, EngPlantedAlloc),
        VMSTATE_STRUCT_VARRAY_ALLOC(e, EngPlantedAlloc, n, 0, eng_planted_aelem_vmsd, EngPlantedAllocElem),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_planted_alloc(void) { return &eng_planted_alloc_vmsd; }

static const VMStateDescription eng_timer_overrun_vmsd = {
    .name = "eng-timer-overrun",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(n, EngTimerOverrun),
        VMSTATE_ARRAY_INT32_UNSAFE(a, EngTimerOverrun, n, vmstate_info_uint32, uint32_t),
        VMSTATE_TIMER(t, EngTimerOverrun),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_timer_overrun(void) { return &eng_timer_overrun_vmsd; }

static const VMStateDescription eng_timer_overrun_late_vmsd = {
    .name = "eng-timer-overrun-late",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER(t, EngTimerOverrunLate),
        VMSTATE_INT32(n, EngTimerOverrunLate),
        VMSTATE_ARRAY_INT32_UNSAFE(a, EngTimerOverrunLate, n, vmstate_info_uint32, uint32_t),
        VMSTATE_UINT8_EQUAL(tail, EngTimerOverrunLate, NULL),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_timer_overrun_late(void) { return &eng_timer_overrun_late_vmsd; }

static const VMStateDescription eng_counted_pair_vmsd = {
    .name = "eng-counted-pair",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(a, EngCountedPair),
        VMSTATE_UINT32(b, EngCountedPair),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_counted_elem_vmsd = {
    .name = "eng-counted-elem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(tag, EngCountedElem),
        VMSTATE_STRUCT_ARRAY(pairs, EngCountedElem, 2, 1, eng_counted_pair_vmsd, EngCountedPair),
        VMSTATE_UINT64(w, EngCountedElem),
        VMSTATE_TIMER_PTR(t, EngCountedElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_counted_vmsd = {
    .name = "eng-counted",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngCounted),
        VMSTATE_STRUCT_VARRAY_UINT32(e, EngCounted, n, 0, eng_counted_elem_vmsd, EngCountedElem),
        VMSTATE_BUFFER_POINTER_UNSAFE(target, EngCounted, 0, 8),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_counted(void) { return &eng_counted_vmsd; }

static const VMStateDescription eng_counted_welem_vmsd = {
    .name = "eng-counted-welem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT_ARRAY(pairs, EngCountedWideElem, 70, 1, eng_counted_pair_vmsd, EngCountedPair),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_counted_wide_vmsd = {
    .name = "eng-counted-wide",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngCountedWide),
        VMSTATE_STRUCT_VARRAY_UINT32(e, EngCountedWide, n, 0, eng_counted_welem_vmsd, EngCountedWideElem),
        VMSTATE_BUFFER_POINTER_UNSAFE(target, EngCountedWide, 0, 8),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_counted_wide(void) { return &eng_counted_wide_vmsd; }

static const VMStateDescription eng_counted_nelem_vmsd = {
    .name = "eng-counted-nelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT_ARRAY(inner, EngCountedNestElem, 1, 1, eng_counted_welem_vmsd, EngCountedWideElem),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_counted_nest_vmsd = {
    .name = "eng-counted-nest",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(n, EngCountedNest),
        VMSTATE_STRUCT_VARRAY_UINT32(e, EngCountedNest, n, 0, eng_counted_nelem_vmsd, EngCountedNestElem),
        VMSTATE_BUFFER_POINTER_UNSAFE(target, EngCountedNest, 0, 8),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_counted_nest(void) { return &eng_counted_nest_vmsd; }

static const VMStateDescription eng_timer_qelem_vmsd = {
    .name = "eng-timer-qelem",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER(t, EngTimerQElem),
        VMSTATE_UINT8_EQUAL(v, EngTimerQElem, NULL),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_timer_q_vmsd = {
    .name = "eng-timer-q",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_QTAILQ_V(q, EngTimerQ, 1, eng_timer_qelem_vmsd, EngTimerQElem, next),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_timer_q(void) { return &eng_timer_q_vmsd; }

void eng_timer_q_init(EngTimerQ *d) { QTAILQ_INIT(&d->q); }

static bool eng_timer_sub_needed(void *opaque) {
    EngTimerSub *s = opaque;
    return timer_pending(&s->t);
}

static const VMStateDescription eng_timer_sub_timer_vmsd = {
    .name = "eng-timer-sub/timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = eng_timer_sub_needed,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER(t, EngTimerSub),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_timer_sub_vmsd = {
    .name = "eng-timer-sub",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(x, EngTimerSub),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &eng_timer_sub_timer_vmsd,
        NULL,
    },
};
const VMStateDescription *eng_vmsd_timer_sub(void) { return &eng_timer_sub_vmsd; }

/* QEMU's ARRAY_SIZE, as copied hooks use it (pl011's post_load). */
G_STATIC_ASSERT(ARRAY_SIZE(((EngThrough *)0)->small) == 2);
/* QEMU's DIV_ROUND_UP, as tables size arrays with it (arm_gicv3's bitmaps). */
G_STATIC_ASSERT(DIV_ROUND_UP(1020 - 32, 32) == 31 && DIV_ROUND_UP(64, 32) == 2 && DIV_ROUND_UP(0, 32) == 0);

static int eng_get_config(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)field;
    EngThrough *s = container_of(pv, EngThrough, config);
    qemu_get_buffer(f, s->config, size);
    return 0;
}
static int eng_put_config(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc) {
    (void)field;
    (void)vmdesc;
    EngThrough *s = container_of(pv, EngThrough, config);
    qemu_put_buffer(f, s->config, size);
    return 0;
}
static const VMStateInfo eng_info_config = {.name = "eng config", .get = eng_get_config, .put = eng_put_config};

static int eng_get_byte(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    (void)size;
    (void)field;
    *(uint8_t *)pv = qemu_get_byte(f);
    return 0;
}
static int eng_put_byte(QEMUFile *f, void *pv, size_t size, const VMStateField *field, JSONWriter *vmdesc) {
    (void)size;
    (void)field;
    (void)vmdesc;
    qemu_put_byte(f, *(uint8_t *)pv);
    return 0;
}
static const VMStateInfo eng_info_byte = {.name = "eng byte", .get = eng_get_byte, .put = eng_put_byte};

static const VMStateDescription eng_through_vmsd = {
    .name = "eng-through",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BUFFER_UNSAFE_INFO(config, EngThrough, 1, eng_info_config, 256),
        VMSTATE_UINT32(n, EngThrough),
        VMSTATE_VARRAY_MULTIPLY(small, EngThrough, n, 1, eng_info_byte, uint8_t),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_through(void) { return &eng_through_vmsd; }

bool eng_timer_pending(QEMUTimer *t) { return timer_pending(t); }
uint64_t eng_timer_expire_time_ns(QEMUTimer *t) { return timer_expire_time_ns(t); }

/* ---- tmp ---------------------------------------------------------------------------------- */

static int eng_tmp_pre_save(void *opaque) {
    EngTmpScratch *tmp = opaque;
    tmp->combined = ((uint64_t)tmp->parent->hi << 32) | tmp->parent->lo;
    tmp->limit = tmp->parent->limit;
    return 0;
}

static int eng_tmp_pre_load(void *opaque) {
    EngTmpScratch *tmp = opaque;
    tmp->limit = tmp->parent->limit;
    tmp->parent->scratch_pre_load_calls++;
    return 0;
}

static int eng_tmp_post_load(void *opaque, int version_id) {
    (void)version_id;
    EngTmpScratch *tmp = opaque;
    tmp->parent->lo = (uint32_t)tmp->combined;
    tmp->parent->hi = (uint32_t)(tmp->combined >> 32);
    return 0;
}

static const VMStateDescription eng_tmp_scratch_vmsd = {
    .name = "eng-tmp-scratch",
    .pre_save = eng_tmp_pre_save,
    .pre_load = eng_tmp_pre_load,
    .post_load = eng_tmp_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(combined, EngTmpScratch),
        VMSTATE_UINT32_EQUAL(limit, EngTmpScratch, "limit differs"),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription eng_tmp_vmsd = {
    .name = "eng-tmp",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_WITH_TMP(EngTmpParent, EngTmpScratch, eng_tmp_scratch_vmsd),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_tmp(void) { return &eng_tmp_vmsd; }

/* ---- bitmap ------------------------------------------------------------------------------- */

static const VMStateDescription eng_bitmap_vmsd = {
    .name = "eng-bitmap",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(bits, EngBitmap),
        VMSTATE_BITMAP(bm, EngBitmap, 0, bits),
        VMSTATE_END_OF_LIST(),
    },
};
const VMStateDescription *eng_vmsd_bitmap(void) { return &eng_bitmap_vmsd; }
