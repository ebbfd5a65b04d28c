/* fx-cputl for a 32-bit target (the table: fx_cputl_table.h). */
#define TARGET_LONG_BITS 32
#include "migration/cpu.h"

typedef uint32_t target_ulong;

#define FX_CPUTL_STATE FxCpuTl32State
#define FX_CPUTL_VMSD fx_cputl32_vmsd
#include "fx_cputl_table.h"
