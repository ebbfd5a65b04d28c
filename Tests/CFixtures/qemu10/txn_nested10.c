/* The nested-load device of txn_nested_table.h with the QEMU 10.0 API (its custom get calls
 * QEMU 10.0's vmstate_load_state, the library's vmstate_load_state_v1000). */
#define VMSTATE_QEMU_API 1000
#define TXN_NESTED(name) txn_nested10_##name
#include "../txn_nested_table.h"
