/*
 * libFuzzer target "load": arbitrary bytes into vmstate_load_checked over the hx_ fixtures
 * (every flag and standard info). See hx_run_load_input for the input layout and properties.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hostile_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *failure = hx_run_load_input(data, size);
    if (failure) {
        fprintf(stderr, "PROPERTY VIOLATED: %s\n", failure);
        abort();
    }
    return 0;
}
