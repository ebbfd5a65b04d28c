/*
 * fx-cputl: a CPU-like device whose registers are as wide as the guest's long, described with
 * migration/cpu.h's VMSTATE_UINTTL* macros and qemu_*_betl accessors, as QEMU's
 * target/<arch>/machine.c tables are. The one table (fx_cputl_table.h) is built twice: for a
 * 64-bit target (fx_cputl64.c, TARGET_LONG_BITS 64, target_ulong uint64_t) and a 32-bit one
 * (fx_cputl32.c, TARGET_LONG_BITS 32, target_ulong uint32_t). This header uses the fixed-width
 * types, so it needs no TARGET_LONG_BITS.
 */
#ifndef FX_CPUTL_H
#define FX_CPUTL_H

#include "migration/vmstate.h"

typedef struct FxCpuTl64State {
    uint32_t selector;
    uint64_t base;        /* VMSTATE_UINTTL */
    uint64_t regs[3];     /* VMSTATE_UINTTL_ARRAY */
    uint64_t tlb[2][2];   /* VMSTATE_UINTTL_2DARRAY */
    uint64_t model;       /* VMSTATE_UINTTL_EQUAL */
    uint64_t extra;       /* VMSTATE_UINTTL_TEST, saved when has_extra */
    uint64_t eip;         /* VMSTATE_UINTTL_V, version 2 */
    uint64_t cr3;         /* VMSTATE_SINGLE with vmstate_info_uinttl */
    uint64_t pair[2];     /* a custom info: qemu_put_betls / qemu_put_sbetl */
    bool has_extra;
} FxCpuTl64State;

typedef struct FxCpuTl32State {
    uint32_t selector;
    uint32_t base;
    uint32_t regs[3];
    uint32_t tlb[2][2];
    uint32_t model;
    uint32_t extra;
    uint32_t eip;
    uint32_t cr3;
    uint32_t pair[2];
    bool has_extra;
} FxCpuTl32State;

extern const VMStateDescription fx_cputl64_vmsd;
extern const VMStateDescription fx_cputl32_vmsd;

#endif
