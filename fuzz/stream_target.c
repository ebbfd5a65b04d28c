/*
 * libFuzzer target "stream": arbitrary bytes as a whole migration stream into a registry of
 * the hx_ fixtures (registered with their sizes), KEEP_UNKNOWN or SKIP_UNKNOWN, optionally
 * with RAM blocks and transactional. See hx_run_stream_input for the input layout.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hostile_harness.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *failure = hx_run_stream_input(data, size);
    if (failure) {
        fprintf(stderr, "PROPERTY VIOLATED: %s\n", failure);
        abort();
    }
    return 0;
}
