/*
 * Runs inputs through the fuzz targets' harness without libFuzzer, for valgrind
 * (scripts/checks/hostile-leaks.sh) and for reproducing a crash in a debugger.
 *
 *   replay load|stream FILE...              each file once
 *   replay --prefixes load|stream FILE...   also prefixes of each file (every 3rd byte of a
 *                                           device state, every 499th of a stream),
 *                                           transactional and not: failures all through
 *
 * Exits 1 when a property is violated (valgrind's own exit code reports memory errors).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hostile_harness.h"

static int run(bool stream, const uint8_t *data, size_t size, const char *name)
{
    const char *failure = stream ? hx_run_stream_input(data, size) : hx_run_load_input(data, size);
    if (failure) {
        fprintf(stderr, "%s (%zu bytes): %s\n", name, size, failure);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int arg = 1;
    bool prefixes = false;
    if (arg < argc && strcmp(argv[arg], "--prefixes") == 0) {
        prefixes = true;
        arg++;
    }
    if (arg >= argc || (strcmp(argv[arg], "load") != 0 && strcmp(argv[arg], "stream") != 0)) {
        fprintf(stderr, "usage: replay [--prefixes] load|stream FILE...\n");
        return 2;
    }
    bool stream = strcmp(argv[arg++], "stream") == 0;
    int status = 0;
    size_t runs = 0;
    for (; arg < argc; arg++) {
        gchar *contents = NULL;
        gsize length = 0;
        if (!g_file_get_contents(argv[arg], &contents, &length, NULL)) {
            fprintf(stderr, "cannot read %s\n", argv[arg]);
            return 2;
        }
        uint8_t *data = (uint8_t *)contents;
        status |= run(stream, data, length, argv[arg]);
        runs++;
        if (prefixes && length > 2) {
            size_t header = stream ? 1 : 2;
            size_t step = stream ? 499 : 3;
            uint8_t *copy = g_memdup2(data, length);
            for (int tx = 0; tx < 2; tx++) {
                if (tx) {
                    copy[0] |= stream ? 1 : 0;
                    copy[stream ? 0 : 1] |= 1;
                }
                for (size_t cut = header; cut < length; cut += step) {
                    status |= run(stream, copy, cut, argv[arg]);
                    runs++;
                }
            }
            g_free(copy);
        }
        g_free(contents);
    }
    printf("replay: %zu runs, %s\n", runs, status ? "FAILED" : "all properties held");
    return status;
}
