/* fx-devmacros with the QEMU 7.2 API (the table: fx_devmacros_table.h). */
#define FX_DEVMACROS_VMSD fx_devmacros_vmsd
#include "fx_devmacros_table.h"
