/* The nested-load device of txn_nested_table.h with the QEMU 7.2 API. */
#define TXN_NESTED(name) txn_nested_##name
#include "txn_nested_table.h"
