/*
 * bench-streams: saves and loads a machine with N GiB of RAM (90% non-zero pages) through the
 * GIO stream API, to a file and to /dev/null, and memcpy of the same bytes for reference.
 * Prints wall time, GB/s and peak RSS above the guest RAM. Run by scripts/bench-streams.
 *
 *   vmstate-bench-streams GIB FILE
 */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixoutputstream.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "migration/vmstate-registry.h"
#include "migration/vmstate.h"

static double now(void) { return (double)g_get_monotonic_time() / 1e6; }

/* Resident set size now, from /proc/self/statm (bytes). */
static long rss_now(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * 4096;
}

static long peak_rss(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss * 1024;
}

static void report(const char *what, double seconds, gsize bytes, long base_rss) {
    printf("  %-34s %7.3f s  %6.2f GB/s  peak RSS above guest RAM: %5.1f MiB\n", what, seconds,
           (double)bytes / seconds / 1e9, (double)(peak_rss() - base_rss) / (1 << 20));
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s GIB FILE\n", argv[0]);
        return 2;
    }
    gsize length = (gsize)(atof(argv[1]) * (double)(1UL << 30)) & ~(gsize)4095;
    const char *path = argv[2];
    guint8 *ram = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    guint8 *copy = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED || copy == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    /* 90% of pages non-zero (every 10th stays zero), each different. */
    guint64 pages = length / 4096, nonzero = 0;
    for (guint64 p = 0; p < pages; p++) {
        if (p % 10 == 9) continue;
        guint64 *w = (guint64 *)(ram + p * 4096);
        guint64 x = p * 0x9E3779B97F4A7C15ULL + 1;
        for (int i = 0; i < 512; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            w[i] = x;
        }
        nonzero++;
    }
    memset(copy, 0, length); /* fault the load target in before measuring */
    long base = rss_now();
    printf("machine: %.2f GiB of RAM, %" G_GUINT64_FORMAT " pages, %" G_GUINT64_FORMAT " non-zero\n",
           (double)length / (1UL << 30), pages, nonzero);

    GError *err = NULL;
    VMStateRegistry *reg = vmstate_registry_new();
    VMStateRegistry *back = vmstate_registry_new();
    if (!vmstate_registry_add_ram(reg, "pc.ram", ram, length, &err) ||
        !vmstate_registry_add_ram(back, "pc.ram", copy, length, &err)) {
        fprintf(stderr, "%s\n", err->message);
        return 1;
    }

    gsize stream_bytes = nonzero * (8 + 4096) + (pages - nonzero) * 9;
    GFile *devnull = g_file_new_for_path("/dev/null");
    GFileOutputStream *null_out = g_file_append_to(devnull, G_FILE_CREATE_NONE, NULL, &err);
    double t = now();
    if (!null_out || !vmstate_registry_save_to_stream(reg, "bench", G_OUTPUT_STREAM(null_out), &err)) {
        fprintf(stderr, "save to /dev/null: %s\n", err->message);
        return 1;
    }
    report("save to /dev/null", now() - t, stream_bytes, base);
    double null_s = now() - t;

    /* The file is opened as QEMU's `exec:cat > FILE` opens it (the shell's O_WRONLY|O_CREAT|
     * O_TRUNC, no fsync, no rename), not with g_file_replace, which writes a temporary file that
     * it renames on close. The time includes the close. */
    GFile *file = g_file_new_for_path(path);
    t = now();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    GOutputStream *out = g_unix_output_stream_new(fd, TRUE);
    if (!vmstate_registry_save_to_stream(reg, "bench", out, &err) ||
        !g_output_stream_flush(out, NULL, &err)) {
        fprintf(stderr, "save to %s: %s\n", path, err->message);
        return 1;
    }
    goffset size = lseek(fd, 0, SEEK_CUR);
    g_output_stream_close(out, NULL, NULL);
    double save_s = now() - t;
    report("save to a file", save_s, (gsize)size, base);
    printf("    stream: %" G_GINT64_FORMAT " bytes\n", (gint64)size);

    GFileInputStream *in = g_file_read(file, NULL, &err);
    t = now();
    if (!in || !vmstate_registry_load_from_stream(back, G_INPUT_STREAM(in), 0, &err)) {
        fprintf(stderr, "load from %s: %s\n", path, err->message);
        return 1;
    }
    report("load from the file", now() - t, (gsize)size, base);
    printf("    RAM after the load is %s\n", memcmp(ram, copy, length) == 0 ? "identical" : "DIFFERENT");

    /* memcpy of the same page bytes into a warm 64 MiB buffer, for reference (last: its
     * buffer is not part of the peaks above). */
    guint8 *scratch = g_malloc(64 << 20);
    memset(scratch, 1, 64 << 20);
    double memcpy_s = 1e9;
    for (int run = 0; run < 3; run++) {
        t = now();
        for (guint64 p = 0; p < pages; p++) {
            if (p % 10 != 9) memcpy(scratch + (p * 4096) % (64 << 20), ram + p * 4096, 4096);
        }
        memcpy_s = MIN(memcpy_s, now() - t);
    }
    g_free(scratch);
    printf("  %-34s %7.3f s  %6.2f GB/s\n", "memcpy of the page bytes", memcpy_s, (double)stream_bytes / memcpy_s / 1e9);
    printf("  save to /dev/null took %.2fx the memcpy time\n", null_s / memcpy_s);
    printf("SAVE_FILE_SECONDS=%.3f\n", save_s);

    g_object_unref(in);
    g_object_unref(out);
    g_object_unref(null_out);
    g_object_unref(file);
    g_object_unref(devnull);
    vmstate_registry_free(reg);
    vmstate_registry_free(back);
    return memcmp(ram, copy, length) == 0 ? 0 : 1;
}
