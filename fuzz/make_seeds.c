/*
 * Writes the generated part of the seed corpus: sample states of every hx_ fixture in several
 * modes (load target) and sample whole streams (stream target). Run by `scripts/fuzz --seeds`.
 * Usage: make_seeds LOAD_DIR STREAM_DIR
 */
#include <stdio.h>

#include "hostile_fixtures.h"
#include "hostile_harness.h"

static int write_seed(const char *dir, const char *name, GByteArray *bytes)
{
    if (!bytes) {
        fprintf(stderr, "make_seeds: no seed for %s\n", name);
        return 1;
    }
    char *path = g_strdup_printf("%s/%s", dir, name);
    GError *err = NULL;
    int rc = 0;
    if (!g_file_set_contents(path, (const char *)bytes->data, bytes->len, &err)) {
        fprintf(stderr, "make_seeds: %s\n", err->message);
        g_error_free(err);
        rc = 1;
    }
    g_free(path);
    g_byte_array_unref(bytes);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: make_seeds LOAD_DIR STREAM_DIR\n");
        return 2;
    }
    int rc = 0;
    size_t count;
    const HxFixture *fx = hx_fixtures(&count);
    /* modes: plain, transactional, transactional into a sample-filled target */
    static const unsigned modes[] = {0x0, 0x1, 0x9};
    for (size_t i = 0; i < count; i++) {
        for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
            char *name = g_strdup_printf("gen-%s-mode%u", fx[i].name, modes[m]);
            rc |= write_seed(argv[1], name, hx_seed_device(fx[i].name, modes[m]));
            g_free(name);
        }
    }
    static const unsigned stream_modes[] = {0x0, 0x2, 0x3, 0x4};
    for (size_t m = 0; m < sizeof(stream_modes) / sizeof(stream_modes[0]); m++) {
        char *name = g_strdup_printf("gen-stream-mode%u", stream_modes[m]);
        rc |= write_seed(argv[2], name, hx_seed_stream(stream_modes[m]));
        g_free(name);
    }
    return rc;
}
