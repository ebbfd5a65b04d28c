/*
 * swift-vmstate: QEMU's migration/cpu.h, the target_ulong forms of the VMSTATE_* macros and of
 * the QEMUFile accessors, which CPU state tables (QEMU's target/<arch>/machine.c) use for
 * registers as wide as the guest's long: VMSTATE_UINTTL(env.eip, X86CPU) and the like.
 *
 * The width is TARGET_LONG_BITS, 32 or 64. QEMU sets it per target in exec/cpu-defs.h; here the
 * emulator defines it before including this header, as it also defines target_ulong itself
 * (uint64_t for 64, uint32_t for 32). The names are QEMU's, and so is what each one stands for
 * (QEMU 7.2 and 10.0 have the same header):
 *
 *   TARGET_LONG_BITS 64                        TARGET_LONG_BITS 32
 *   VMSTATE_UINTTL_V        VMSTATE_UINT64_V            VMSTATE_UINT32_V
 *   VMSTATE_UINTTL_EQUAL_V  VMSTATE_UINT64_EQUAL_V      VMSTATE_UINT32_EQUAL_V
 *   VMSTATE_UINTTL_ARRAY_V  VMSTATE_UINT64_ARRAY_V      VMSTATE_UINT32_ARRAY_V
 *   VMSTATE_UINTTL_2DARRAY_V VMSTATE_UINT64_2DARRAY_V   VMSTATE_UINT32_2DARRAY_V
 *   VMSTATE_UINTTL_TEST     VMSTATE_UINT64_TEST         VMSTATE_UINT32_TEST
 *   vmstate_info_uinttl     vmstate_info_uint64         vmstate_info_uint32
 *   qemu_put_betl / qemu_get_betl (and ...s)   be64 forms      be32 forms
 *   qemu_put_sbetl / qemu_get_sbetl (and ...s) sbe64 forms     sbe32 forms
 *
 * and VMSTATE_UINTTL, VMSTATE_UINTTL_EQUAL, VMSTATE_UINTTL_ARRAY, VMSTATE_UINTTL_2DARRAY are
 * the _V forms at version 0. So a field keeps the wire format, the vmdesc type ("uint64" or
 * "uint32") and the compile-time type check of the fixed-width macro it stands for: on a 64-bit
 * target a uint32_t member does not compile with VMSTATE_UINTTL.
 *
 * One difference: QEMU's VMSTATE_UINTTL_EQUAL(_V) passes three arguments to the four-argument
 * VMSTATE_UINT64/32_EQUAL_V (whose last one is the error hint), so it does not compile there and
 * no QEMU table uses it. Here it is the _EQUAL_V form with no error hint (NULL).
 */
#ifndef SWIFT_VMSTATE_CPU_H
#define SWIFT_VMSTATE_CPU_H

#include "migration/qemu-file-types.h"
#include "migration/vmstate.h"

#if !defined(TARGET_LONG_BITS)
#error "migration/cpu.h: define TARGET_LONG_BITS (32 or 64) before including it, as QEMU's exec/cpu-defs.h does for its target"
#elif TARGET_LONG_BITS == 64

#define qemu_put_betl qemu_put_be64
#define qemu_get_betl qemu_get_be64
#define qemu_put_betls qemu_put_be64s
#define qemu_get_betls qemu_get_be64s
#define qemu_put_sbetl qemu_put_sbe64
#define qemu_get_sbetl qemu_get_sbe64
#define qemu_put_sbetls qemu_put_sbe64s
#define qemu_get_sbetls qemu_get_sbe64s

#define VMSTATE_UINTTL_V(_f, _s, _v) VMSTATE_UINT64_V(_f, _s, _v)
#define VMSTATE_UINTTL_EQUAL_V(_f, _s, _v) VMSTATE_UINT64_EQUAL_V(_f, _s, _v, NULL)
#define VMSTATE_UINTTL_ARRAY_V(_f, _s, _n, _v) VMSTATE_UINT64_ARRAY_V(_f, _s, _n, _v)
#define VMSTATE_UINTTL_2DARRAY_V(_f, _s, _n1, _n2, _v) VMSTATE_UINT64_2DARRAY_V(_f, _s, _n1, _n2, _v)
#define VMSTATE_UINTTL_TEST(_f, _s, _t) VMSTATE_UINT64_TEST(_f, _s, _t)
#define vmstate_info_uinttl vmstate_info_uint64

#elif TARGET_LONG_BITS == 32

#define qemu_put_betl qemu_put_be32
#define qemu_get_betl qemu_get_be32
#define qemu_put_betls qemu_put_be32s
#define qemu_get_betls qemu_get_be32s
#define qemu_put_sbetl qemu_put_sbe32
#define qemu_get_sbetl qemu_get_sbe32
#define qemu_put_sbetls qemu_put_sbe32s
#define qemu_get_sbetls qemu_get_sbe32s

#define VMSTATE_UINTTL_V(_f, _s, _v) VMSTATE_UINT32_V(_f, _s, _v)
#define VMSTATE_UINTTL_EQUAL_V(_f, _s, _v) VMSTATE_UINT32_EQUAL_V(_f, _s, _v, NULL)
#define VMSTATE_UINTTL_ARRAY_V(_f, _s, _n, _v) VMSTATE_UINT32_ARRAY_V(_f, _s, _n, _v)
#define VMSTATE_UINTTL_2DARRAY_V(_f, _s, _n1, _n2, _v) VMSTATE_UINT32_2DARRAY_V(_f, _s, _n1, _n2, _v)
#define VMSTATE_UINTTL_TEST(_f, _s, _t) VMSTATE_UINT32_TEST(_f, _s, _t)
#define vmstate_info_uinttl vmstate_info_uint32

#else
#error "migration/cpu.h: TARGET_LONG_BITS must be 32 or 64"
#endif

#define VMSTATE_UINTTL(_f, _s) VMSTATE_UINTTL_V(_f, _s, 0)
#define VMSTATE_UINTTL_EQUAL(_f, _s) VMSTATE_UINTTL_EQUAL_V(_f, _s, 0)
#define VMSTATE_UINTTL_ARRAY(_f, _s, _n) VMSTATE_UINTTL_ARRAY_V(_f, _s, _n, 0)
#define VMSTATE_UINTTL_2DARRAY(_f, _s, _n1, _n2) VMSTATE_UINTTL_2DARRAY_V(_f, _s, _n1, _n2, 0)

#endif
