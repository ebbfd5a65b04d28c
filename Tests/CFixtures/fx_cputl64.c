/* fx-cputl for a 64-bit target (the table: fx_cputl_table.h). */
#define TARGET_LONG_BITS 64
#include "migration/cpu.h"

typedef uint64_t target_ulong;

#define FX_CPUTL_STATE FxCpuTl64State
#define FX_CPUTL_VMSD fx_cputl64_vmsd
#include "fx_cputl_table.h"
