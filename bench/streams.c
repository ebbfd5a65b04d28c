/*
 * bench-streams: saves and loads a machine with N GiB of RAM (90% non-zero pages) through the
 * GIO stream API, to a file and to /dev/null, and memcpy of the same bytes for reference.
 * Prints wall time, GB/s and peak RSS above the guest RAM. Run by scripts/bench-streams.
 *
 *   vmstate-bench-streams GIB FILE
 */
#include <errno.h>
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

static double now(void);

/* A GOutputStream that write(2)s to a descriptor but is not GFileDescriptorBased: the library
 * cannot see the file behind it, so it writes 256 KiB pieces through it and the page cache on
 * the caller's thread, as any stream (the "caller's thread" row). */
typedef struct { GOutputStream parent; int fd; } PlainFdStream;
typedef struct { GOutputStreamClass parent; } PlainFdStreamClass;
static GType plain_fd_stream_get_type(void);
G_DEFINE_TYPE(PlainFdStream, plain_fd_stream, G_TYPE_OUTPUT_STREAM)
static gssize plain_fd_write(GOutputStream *s, const void *buf, gsize n, GCancellable *c, GError **error) {
    gssize r = write(((PlainFdStream *)s)->fd, buf, n);
    if (r < 0) g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(errno), g_strerror(errno));
    (void)c;
    return r;
}
static gboolean plain_fd_close(GOutputStream *s, GCancellable *c, GError **error) {
    (void)c, (void)error;
    return close(((PlainFdStream *)s)->fd) == 0;
}
static void plain_fd_stream_class_init(PlainFdStreamClass *k) {
    G_OUTPUT_STREAM_CLASS(k)->write_fn = plain_fd_write;
    G_OUTPUT_STREAM_CLASS(k)->close_fn = plain_fd_close;
}
static void plain_fd_stream_init(PlainFdStream *s) { s->fd = -1; }

/* Saves `reg` to a new file at `path` (O_WRONLY|O_CREAT|O_TRUNC, as the shell of `exec:cat >
 * FILE` opens it; no fsync, no rename), through a GUnixOutputStream (with O_DIRECT when `mode`
 * is 1), or a PlainFdStream when `mode` is -1; the time includes the close.
 * Returns the seconds, or a negative number on failure; the size in *size. */
static double save_to_file(VMStateRegistry *reg, const char *path, int mode, goffset *size) {
    GError *err = NULL;
    double t = now();
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror(path);
        return -1;
    }
    GOutputStream *out;
    if (mode < 0) {
        PlainFdStream *p = g_object_new(plain_fd_stream_get_type(), NULL);
        p->fd = fd;
        out = G_OUTPUT_STREAM(p);
    } else {
        out = g_unix_output_stream_new(fd, TRUE);
        vmstate_registry_set_direct_io(reg, mode == 1);
    }
    if (!vmstate_registry_save_to_stream(reg, "bench", out, &err) || !g_output_stream_flush(out, NULL, &err)) {
        fprintf(stderr, "save to %s: %s\n", path, err->message);
        return -1;
    }
    *size = lseek(fd, 0, SEEK_CUR);
    g_output_stream_close(out, NULL, NULL);
    double s = now() - t;
    g_object_unref(out);
    return s;
}

static double now(void) { return (double)g_get_monotonic_time() / 1e6; }

/* Whether the files at `a` and `b` hold the same bytes (read in 8 MiB pieces). */
static gboolean same_contents(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    gboolean same = fa && fb;
    char *x = g_malloc(8 << 20), *y = g_malloc(8 << 20);
    while (same) {
        size_t n = fread(x, 1, 8 << 20, fa), m = fread(y, 1, 8 << 20, fb);
        same = n == m && memcmp(x, y, n) == 0;
        if (n == 0) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    g_free(x), g_free(y);
    return same;
}

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
    vmstate_registry_set_direct_io(back, TRUE); /* read the O_DIRECT file back past the page cache */
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

    /* The three ways to a file. First with O_DIRECT, to FILE: the reference, which the load below
     * and scripts/bench-streams' analysis read back (written past the page cache, so the load
     * reads the disk). Then each other way to FILE.WAY, compared with FILE byte for byte and
     * deleted before the next: the page-cache save, like QEMU's (which scripts/bench-streams runs
     * after this program), starts right after such a file left the page cache. */
    static const struct { int mode; const char *suffix, *what, *key; } ways[] = {
        {1, "", "save to a file, O_DIRECT", "SAVE_DIRECT_SECONDS"},
        {-1, ".plain", "save to a file, caller's thread", "SAVE_PLAIN_SECONDS"},
        {0, ".pagecache", "save to a file, page cache", "SAVE_PAGECACHE_SECONDS"},
    };
    double seconds[3];
    goffset size = 0;
    for (int i = 0; i < 3; i++) {
        char *way_path = g_strconcat(path, ways[i].suffix, NULL);
        seconds[i] = save_to_file(reg, way_path, ways[i].mode, &size);
        if (seconds[i] < 0) return 1;
        report(ways[i].what, seconds[i], (gsize)size, base);
        if (i > 0) {
            gboolean same = same_contents(path, way_path);
            printf("    the file is %s the O_DIRECT one\n", same ? "identical to" : "DIFFERENT from");
            unlink(way_path);
            if (!same) return 1;
        }
        g_free(way_path);
    }
    printf("    stream: %" G_GINT64_FORMAT " bytes\n", (gint64)size);
    GFile *file = g_file_new_for_path(path);

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
    for (int i = 0; i < 3; i++) printf("%s=%.3f\n", ways[i].key, seconds[i]);

    g_object_unref(in);
    g_object_unref(null_out);
    g_object_unref(file);
    g_object_unref(devnull);
    vmstate_registry_free(reg);
    vmstate_registry_free(back);
    return memcmp(ram, copy, length) == 0 ? 0 : 1;
}
