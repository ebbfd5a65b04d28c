/*
 * fx-cpu: a CPU-like register file. Arrays, sub-arrays and 2D arrays of every integer width
 * and their _V forms, bool arrays, CPU_DoubleU arrays, the generic ARRAY/2DARRAY/ARRAY_TEST/
 * SUB_ARRAY forms, nested segment structs (single, tested, arrays, 2D arrays), embedded timers
 * and timer pointers (single, tested, arrays with a NULL entry), and a subsection.
 */
#ifndef FX_CPU_H
#define FX_CPU_H

#include "fx_common.h"

typedef struct FxSegment {
    uint32_t selector;
    uint32_t limit;
    uint64_t base;
    uint32_t flags;
} FxSegment;

typedef struct FxCPUState {
    uint64_t gpr[16];
    uint64_t msr[8];                 /* since version 2 */
    uint64_t bank_regs[8];           /* entries 2..5 are migrated */
    uint64_t tlb_tags[4][8];
    uint64_t tlb_data[4][8];         /* since version 3 */
    uint32_t cr[8];
    uint32_t dr[8];                  /* since version 2 */
    uint32_t apic_regs[16];          /* entries 4..11 are migrated */
    uint32_t mtrr[4][2];
    uint32_t pmc[2][4];              /* since version 4 */
    uint16_t segsel[6];
    uint16_t ldt_sel[4];             /* since version 2 */
    uint16_t vec[16];                /* entries 8..15 are migrated */
    uint16_t keys[3][4];
    uint16_t fpu_tags[2][8];         /* since version 3 */
    uint8_t irq_prio[16];
    uint8_t fpu_flags[8];            /* since version 2 */
    uint8_t mem_attr[16];            /* entries 8..15 are migrated */
    uint8_t pat[2][8];
    uint8_t xsave_hdr[4][16];        /* subsection fx-cpu/xsave, since its version 4 */
    int16_t fpu_exp[8];
    int16_t fpu_exp_ext[4];          /* since version 2 */
    int32_t lvt[6];
    int32_t lvt_ext[2];              /* since version 3 */
    int64_t tsc_offset[4];
    int64_t tsc_scale[2];            /* since version 4 */
    CPU_DoubleU fpregs[8];
    CPU_DoubleU vfp[4];              /* since version 3 */
    bool halted_lines[8];
    bool irq_masked[4];              /* since version 2 */
    bool pending_irq[16];            /* entries 4..11 are migrated */
    uint32_t sregs[4];
    uint64_t xmm[8][2];
    uint64_t ymmh[8];                /* only with has_avx */
    uint32_t cpuid_cache[16];        /* entries 2..7, since version 3 */
    FxSegment cs;
    FxSegment tr;                    /* only in long mode, since version 2 */
    FxSegment ldt_cache[4];          /* only in long mode */
    FxSegment gdt_cache[2][3];
    FxSegment idt_cache[2][2];       /* only in long mode, since version 2 */
    QEMUTimer timers[2];
    QEMUTimer *ptimers[3];           /* ptimers[2] is NULL */
    QEMUTimer *wd_timer;             /* only with has_watchdog */
    QEMUTimer deadline;              /* only with has_deadline */

    /* configuration, not migrated */
    bool has_avx;
    bool long_mode;
    bool has_watchdog;
    bool has_deadline;
    bool has_xsave;
} FxCPUState;

extern const VMStateDescription fx_segment_vmsd;
extern const VMStateDescription fx_cpu_xsave_vmsd;
extern const VMStateDescription fx_cpu_vmsd;
extern const VMStateField fx_segment_fields[];
extern const VMStateField fx_cpu_xsave_fields[];
extern const VMStateField fx_cpu_fields[];

bool fx_cpu_has_avx(void *opaque, int version_id);
bool fx_cpu_long_mode(void *opaque, int version_id);
bool fx_cpu_has_watchdog(void *opaque, int version_id);
bool fx_cpu_has_deadline(void *opaque, int version_id);
bool fx_cpu_xsave_needed(void *opaque);

void fx_cpu_init(void *state, unsigned seed);
void fx_cpu_cleanup(void *state);

#endif
