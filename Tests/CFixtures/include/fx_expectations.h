/*
 * The macro table, computed by hand: for each of the 153 VMSTATE_* macros of
 * QEMU 7.2's VMSTATE_* macro list, the field one use of it produced in a fixture table (`actual`) and
 * that field written out member by member from the spec (`expected`), without the macros.
 */
#ifndef FX_EXPECTATIONS_H
#define FX_EXPECTATIONS_H

#include "fx_common.h"

typedef struct FxMacroExpectation {
    /** The macro's name, e.g. "VMSTATE_UINT16_ARRAY_V". */
    const char *macro;
    /** The field the macro produced, inside a fixture's field table. */
    const VMStateField *actual;
    /** The same field, written out with designated initialisers from the spec. */
    VMStateField expected;
} FxMacroExpectation;

size_t fx_macro_expectation_count(void);
const FxMacroExpectation *fx_macro_expectation_at(size_t index);

#endif
