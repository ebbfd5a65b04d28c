/*
 * Real write failures of vmstate_registry_save_to_stream to a local file, through the page
 * cache and with O_DIRECT (vmstate_registry_set_direct_io): the process's file size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the
 * kernel refuse writes past LIMIT with EFBIG, as a full disk refuses them with ENOSPC. Each save
 * must return false with GIO's error for EFBIG, a message naming the section and the byte offset
 * of the first byte not written, leave exactly the bytes before it in the file (those of the
 * buffer save), and return (no hang). And a stream that fits under the limit is saved whole with
 * SIGXFSZ at its default action (which kills): the blocks the writer allocates ahead must stay
 * under the limit. Run by scripts/checks/file-errors.sh.
 *
 *   file_errors DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixoutputstream.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "migration/vmstate-registry.h"

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            failures++;                                                                            \
            printf("FAIL - " __VA_ARGS__);                                                         \
            printf("\n");                                                                          \
        }                                                                                          \
    } while (0)

/* Saves `reg` to a new file at `path` (with O_DIRECT when `mode` is 1) and checks the failure
 * at `limit`. */
static void save_past(VMStateRegistry *reg, const char *path, int mode, gsize limit,
                      GByteArray *expected, const char *section) {
    GError *err = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    GOutputStream *out = g_unix_output_stream_new(fd, TRUE);
    vmstate_registry_set_direct_io(reg, mode == 1);
    gboolean ok = vmstate_registry_save_to_stream(reg, "pc", out, &err);
    CHECK(!ok, "mode %d, limit %zu: the save succeeded", mode, (size_t)limit);
    if (err) {
        char *want = section ? g_strdup_printf("section \"%s\" instance 0: writing the stream failed: %s (at byte %zu)",
                                               section, g_strerror(EFBIG), (size_t)limit)
                             : g_strdup_printf("writing the stream failed: %s (at byte %zu)", g_strerror(EFBIG),
                                               (size_t)limit);
        CHECK(err->domain == G_IO_ERROR && err->code == g_io_error_from_errno(EFBIG),
              "mode %d: error domain %s code %d", mode, g_quark_to_string(err->domain), err->code);
        CHECK(strcmp(err->message, want) == 0, "mode %d: message \"%s\", expected \"%s\"", mode, err->message, want);
        g_free(want);
        g_clear_error(&err);
    }
    g_output_stream_close(out, NULL, NULL);
    g_object_unref(out);
    gchar *contents = NULL;
    gsize length = 0;
    CHECK(g_file_get_contents(path, &contents, &length, NULL), "mode %d: cannot read %s", mode, path);
    CHECK(length == limit, "mode %d: the file has %zu bytes, expected %zu", mode, (size_t)length, (size_t)limit);
    CHECK(length <= expected->len && memcmp(contents, expected->data, MIN(length, expected->len)) == 0,
          "mode %d: the bytes written differ from the buffer save's", mode);
    g_free(contents);
    unlink(path);
    if (failures == 0) printf("ok - mode %d, limit %zu: %s\n", mode, (size_t)limit, section ? section : "vmdesc");
}

static volatile sig_atomic_t xfsz_signals;
static void count_xfsz(int signo) {
    (void)signo;
    xfsz_signals++;
}

/* Saves `reg` to a new file at `path` (O_DIRECT when `mode` is 1) under the file size limit
 * `limit`, above the stream's size: it must succeed, hold exactly the buffer save's bytes, and
 * raise no SIGXFSZ (counted by a handler; its default action would kill the process). */
static void save_under(VMStateRegistry *reg, const char *path, int mode, gsize limit, GByteArray *expected) {
    GError *err = NULL;
    xfsz_signals = 0;
    signal(SIGXFSZ, count_xfsz);
    struct rlimit lim = {limit, RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &lim);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    GOutputStream *out = g_unix_output_stream_new(fd, TRUE);
    vmstate_registry_set_direct_io(reg, mode == 1);
    gboolean ok = vmstate_registry_save_to_stream(reg, "pc", out, &err);
    g_output_stream_close(out, NULL, NULL);
    g_object_unref(out);
    lim.rlim_cur = RLIM_INFINITY;
    setrlimit(RLIMIT_FSIZE, &lim);
    signal(SIGXFSZ, SIG_DFL);
    CHECK(ok, "mode %d, under the limit: %s", mode, err ? err->message : "failed");
    g_clear_error(&err);
    CHECK(xfsz_signals == 0, "mode %d: a stream of %zu bytes under a limit of %zu raised SIGXFSZ %d times", mode,
          (size_t)expected->len, (size_t)limit, (int)xfsz_signals);
    gchar *contents = NULL;
    gsize length = 0;
    CHECK(g_file_get_contents(path, &contents, &length, NULL), "mode %d: cannot read %s", mode, path);
    CHECK(length == expected->len && memcmp(contents, expected->data, length) == 0,
          "mode %d, under the limit: the file (%zu bytes) is not the buffer save (%zu bytes)", mode, (size_t)length,
          (size_t)expected->len);
    g_free(contents);
    unlink(path);
    if (failures == 0) printf("ok - mode %d: a stream under the file size limit is saved whole, no SIGXFSZ\n", mode);
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    /* 40 MiB of RAM, every page different and non-zero: five of the writer's 8 MiB buffers. */
    gsize ram_size = 40 << 20;
    guint8 *ram = g_malloc(ram_size);
    for (gsize i = 0; i < ram_size; i += 8) *(guint64 *)(ram + i) = i * 0x9E3779B97F4A7C15ULL + 1;
    GError *err = NULL;
    VMStateRegistry *reg = vmstate_registry_new();
    if (!vmstate_registry_add_ram(reg, "pc.ram", ram, ram_size, &err)) {
        printf("FAIL - %s\n", err->message);
        return 1;
    }
    GByteArray *expected = g_byte_array_new();
    if (!vmstate_registry_save(reg, "pc", expected, &err)) {
        printf("FAIL - %s\n", err->message);
        return 1;
    }
    char *path = g_build_filename(argv[1], "file-errors.bin", NULL);
    for (int m = 0; m <= 1; m++) save_under(reg, path, m, expected->len + 4096, expected);
    signal(SIGXFSZ, SIG_IGN);
    /* In the RAM, in the third buffer (block aligned and not), and in the vmdesc at the end. */
    gsize limits[] = {(20 << 20) + 3 * 4096, (20 << 20) + 1000, expected->len - 10};
    for (int m = 0; m <= 1; m++) {
        for (int l = 0; l < 3; l++) {
            struct rlimit limit = {limits[l], RLIM_INFINITY};
            setrlimit(RLIMIT_FSIZE, &limit);
            save_past(reg, path, m, limits[l], expected, l < 2 ? "ram" : NULL);
            limit.rlim_cur = RLIM_INFINITY;
            setrlimit(RLIMIT_FSIZE, &limit);
        }
    }
    g_free(path);
    g_byte_array_unref(expected);
    vmstate_registry_free(reg);
    g_free(ram);
    return failures == 0 ? 0 : 1;
}
