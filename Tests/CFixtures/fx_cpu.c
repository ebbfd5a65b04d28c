/* fx-cpu: see fx_cpu.h. */
#include "fx_cpu.h"

#include <string.h>

bool fx_cpu_has_avx(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxCPUState *)opaque)->has_avx;
}

bool fx_cpu_long_mode(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxCPUState *)opaque)->long_mode;
}

bool fx_cpu_has_watchdog(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxCPUState *)opaque)->has_watchdog;
}

bool fx_cpu_has_deadline(void *opaque, int version_id) {
    return ((const FxCPUState *)opaque)->has_deadline && version_id >= 4;
}

bool fx_cpu_xsave_needed(void *opaque) {
    return ((const FxCPUState *)opaque)->has_xsave;
}

const VMStateField fx_segment_fields[] = {
    VMSTATE_UINT32(selector, FxSegment),
    VMSTATE_UINT32(limit, FxSegment),
    VMSTATE_UINT64(base, FxSegment),
    VMSTATE_UINT32(flags, FxSegment),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_segment_vmsd = {
    .name = "fx-segment",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_segment_fields,
};

const VMStateField fx_cpu_xsave_fields[] = {
    VMSTATE_UINT8_2DARRAY_V(xsave_hdr, FxCPUState, 4, 16, 4),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_cpu_xsave_vmsd = {
    .name = "fx-cpu/xsave",
    .version_id = 4,
    .minimum_version_id = 4,
    .needed = fx_cpu_xsave_needed,
    .fields = fx_cpu_xsave_fields,
};

static const VMStateDescription *fx_cpu_subsections[] = {
    &fx_cpu_xsave_vmsd,
    NULL,
};

const VMStateField fx_cpu_fields[] = {
    VMSTATE_UINT64_ARRAY(gpr, FxCPUState, 16),
    VMSTATE_UINT64_ARRAY_V(msr, FxCPUState, 8, 2),
    VMSTATE_UINT64_SUB_ARRAY(bank_regs, FxCPUState, 2, 4),
    VMSTATE_UINT64_2DARRAY(tlb_tags, FxCPUState, 4, 8),
    VMSTATE_UINT64_2DARRAY_V(tlb_data, FxCPUState, 4, 8, 3),
    VMSTATE_UINT32_ARRAY(cr, FxCPUState, 8),
    VMSTATE_UINT32_ARRAY_V(dr, FxCPUState, 8, 2),
    VMSTATE_UINT32_SUB_ARRAY(apic_regs, FxCPUState, 4, 8),
    VMSTATE_UINT32_2DARRAY(mtrr, FxCPUState, 4, 2),
    VMSTATE_UINT32_2DARRAY_V(pmc, FxCPUState, 2, 4, 4),
    VMSTATE_UINT16_ARRAY(segsel, FxCPUState, 6),
    VMSTATE_UINT16_ARRAY_V(ldt_sel, FxCPUState, 4, 2),
    VMSTATE_UINT16_SUB_ARRAY(vec, FxCPUState, 8, 8),
    VMSTATE_UINT16_2DARRAY(keys, FxCPUState, 3, 4),
    VMSTATE_UINT16_2DARRAY_V(fpu_tags, FxCPUState, 2, 8, 3),
    VMSTATE_UINT8_ARRAY(irq_prio, FxCPUState, 16),
    VMSTATE_UINT8_ARRAY_V(fpu_flags, FxCPUState, 8, 2),
    VMSTATE_UINT8_SUB_ARRAY(mem_attr, FxCPUState, 8, 8),
    VMSTATE_UINT8_2DARRAY(pat, FxCPUState, 2, 8),
    VMSTATE_INT16_ARRAY(fpu_exp, FxCPUState, 8),
    VMSTATE_INT16_ARRAY_V(fpu_exp_ext, FxCPUState, 4, 2),
    VMSTATE_INT32_ARRAY(lvt, FxCPUState, 6),
    VMSTATE_INT32_ARRAY_V(lvt_ext, FxCPUState, 2, 3),
    VMSTATE_INT64_ARRAY(tsc_offset, FxCPUState, 4),
    VMSTATE_INT64_ARRAY_V(tsc_scale, FxCPUState, 2, 4),
    VMSTATE_CPUDOUBLE_ARRAY(fpregs, FxCPUState, 8),
    VMSTATE_CPUDOUBLE_ARRAY_V(vfp, FxCPUState, 4, 3),
    VMSTATE_BOOL_ARRAY(halted_lines, FxCPUState, 8),
    VMSTATE_BOOL_ARRAY_V(irq_masked, FxCPUState, 4, 2),
    VMSTATE_BOOL_SUB_ARRAY(pending_irq, FxCPUState, 4, 8),
    VMSTATE_ARRAY(sregs, FxCPUState, 4, 0, vmstate_info_uint32, uint32_t),
    VMSTATE_2DARRAY(xmm, FxCPUState, 8, 2, 0, vmstate_info_uint64, uint64_t),
    VMSTATE_ARRAY_TEST(ymmh, FxCPUState, 8, fx_cpu_has_avx, vmstate_info_uint64, uint64_t),
    VMSTATE_SUB_ARRAY(cpuid_cache, FxCPUState, 2, 6, 3, vmstate_info_uint32, uint32_t),
    VMSTATE_STRUCT(cs, FxCPUState, 1, fx_segment_vmsd, FxSegment),
    VMSTATE_STRUCT_TEST(tr, FxCPUState, fx_cpu_long_mode, 2, fx_segment_vmsd, FxSegment),
    VMSTATE_STRUCT_ARRAY_TEST(ldt_cache, FxCPUState, 4, fx_cpu_long_mode, 1, fx_segment_vmsd,
                              FxSegment),
    VMSTATE_STRUCT_2DARRAY(gdt_cache, FxCPUState, 2, 3, 1, fx_segment_vmsd, FxSegment),
    VMSTATE_STRUCT_2DARRAY_TEST(idt_cache, FxCPUState, 2, 2, fx_cpu_long_mode, 2,
                                fx_segment_vmsd, FxSegment),
    VMSTATE_TIMER_ARRAY(timers, FxCPUState, 2),
    VMSTATE_TIMER_PTR_ARRAY(ptimers, FxCPUState, 3),
    VMSTATE_TIMER_PTR_TEST(wd_timer, FxCPUState, fx_cpu_has_watchdog),
    VMSTATE_TIMER_TEST(deadline, FxCPUState, fx_cpu_has_deadline),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_cpu_vmsd = {
    .name = "fx-cpu",
    .version_id = 5,
    .minimum_version_id = 1,
    .fields = fx_cpu_fields,
    .subsections = fx_cpu_subsections,
};

const FxTable fx_cpu_tables[] = {
    FX_TABLE_SUBS(&fx_cpu_vmsd, fx_cpu_fields, fx_cpu_subsections),
    FX_TABLE(&fx_segment_vmsd, fx_segment_fields),
    FX_TABLE(&fx_cpu_xsave_vmsd, fx_cpu_xsave_fields),
};
const size_t fx_cpu_table_count = FX_N_ELEMENTS(fx_cpu_tables);

/* Fills `n` bytes with a seed-dependent pattern (any integer array). */
static void fx_cpu_pattern(void *p, size_t n, unsigned seed) {
    uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        b[i] = (uint8_t)(i * 13 + seed * 101);
    }
}

#define FX_FILL(member, salt) fx_cpu_pattern(s->member, sizeof(s->member), seed + (salt))

static void fx_cpu_segment(FxSegment *g, unsigned seed, unsigned i) {
    g->selector = 8 * i + seed;
    g->limit = 0xfffff;
    g->base = 0x10000ULL * i + seed;
    g->flags = 0xc09b | (i << 20);
}

void fx_cpu_init(void *state, unsigned seed) {
    FxCPUState *s = state;
    memset(s, 0, sizeof(*s));
    s->has_avx = true;
    s->long_mode = true;
    s->has_watchdog = true;
    s->has_deadline = true;
    s->has_xsave = true;
    fx_timer_reset(&s->timers[0], s);
    fx_timer_reset(&s->timers[1], s);
    fx_timer_reset(&s->deadline, s);
    s->ptimers[0] = g_new0(QEMUTimer, 1);
    s->ptimers[1] = g_new0(QEMUTimer, 1);
    fx_timer_reset(s->ptimers[0], s);
    fx_timer_reset(s->ptimers[1], s);
    s->wd_timer = g_new0(QEMUTimer, 1);
    fx_timer_reset(s->wd_timer, s);
    if (seed == 0) {
        return;
    }
    FX_FILL(gpr, 1);
    FX_FILL(msr, 2);
    FX_FILL(bank_regs, 3);
    FX_FILL(tlb_tags, 4);
    FX_FILL(tlb_data, 5);
    FX_FILL(cr, 6);
    FX_FILL(dr, 7);
    FX_FILL(apic_regs, 8);
    FX_FILL(mtrr, 9);
    FX_FILL(pmc, 10);
    FX_FILL(segsel, 11);
    FX_FILL(ldt_sel, 12);
    FX_FILL(vec, 13);
    FX_FILL(keys, 14);
    FX_FILL(fpu_tags, 15);
    FX_FILL(irq_prio, 16);
    FX_FILL(fpu_flags, 17);
    FX_FILL(mem_attr, 18);
    FX_FILL(pat, 19);
    FX_FILL(xsave_hdr, 20);
    FX_FILL(fpu_exp, 21);
    FX_FILL(fpu_exp_ext, 22);
    FX_FILL(lvt, 23);
    FX_FILL(lvt_ext, 24);
    FX_FILL(tsc_offset, 25);
    FX_FILL(tsc_scale, 26);
    for (unsigned i = 0; i < 8; i++) {
        s->fpregs[i].d = 0x3ff0000000000000ULL + i + seed; /* 1.0 plus a few ulps */
    }
    for (unsigned i = 0; i < 4; i++) {
        s->vfp[i].l.upper = 0xc0000000u | i;
        s->vfp[i].l.lower = seed;
    }
    for (unsigned i = 0; i < 8; i++) {
        s->halted_lines[i] = ((seed >> i) & 1) != 0;
    }
    for (unsigned i = 0; i < 4; i++) {
        s->irq_masked[i] = (i + seed) % 2 == 0;
    }
    for (unsigned i = 0; i < 16; i++) {
        s->pending_irq[i] = (i % 3) == (seed % 3);
    }
    FX_FILL(sregs, 27);
    FX_FILL(xmm, 28);
    FX_FILL(ymmh, 29);
    FX_FILL(cpuid_cache, 30);
    fx_cpu_segment(&s->cs, seed, 1);
    fx_cpu_segment(&s->tr, seed, 2);
    for (unsigned i = 0; i < 4; i++) {
        fx_cpu_segment(&s->ldt_cache[i], seed, 10 + i);
    }
    for (unsigned i = 0; i < 2; i++) {
        for (unsigned j = 0; j < 3; j++) {
            fx_cpu_segment(&s->gdt_cache[i][j], seed, 20 + 3 * i + j);
        }
        for (unsigned j = 0; j < 2; j++) {
            fx_cpu_segment(&s->idt_cache[i][j], seed, 30 + 2 * i + j);
        }
    }
    s->timers[0].expire_time = 5000 + (int64_t)seed;
    s->timers[1].expire_time = -1;
    s->ptimers[0]->expire_time = -1;
    s->ptimers[1]->expire_time = 7000 + (int64_t)seed;
    s->wd_timer->expire_time = 123456789 + (int64_t)seed;
    s->deadline.expire_time = (int64_t)seed << 20;
}

void fx_cpu_cleanup(void *state) {
    FxCPUState *s = state;
    for (unsigned i = 0; i < 3; i++) {
        g_free(s->ptimers[i]);
        s->ptimers[i] = NULL;
    }
    g_free(s->wd_timer);
    s->wd_timer = NULL;
}
