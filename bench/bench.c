/*
 * scripts/bench's program: saves and loads each case (cases.c) many times with the engine
 * (vmstate_save_state / vmstate_load_state) and with the plain C interpreter (interp.c), in
 * one process over the same QEMUFile layer, and prints medians.
 *
 *   bench [CASE...]                    all cases, or the named ones
 *   bench --mem CASE save|load engine|c   (internal) one operation in a fresh process: prints
 *                                      "maxrss-delta-KiB allocations peak-heap-bytes"
 *   bench --iter CASE save|load engine|c N   N operations, nothing printed: for profilers
 *                                      (valgrind --tool=callgrind --toggle-collect=run_iterations)
 *   bench --iter CASE vmdesc engine N  N saves with a vmdesc JSONWriter
 *   bench --iter registry save|load engine N   N registry saves or loads of the machine
 *
 * After the cases: each case saved with a vmdesc JSONWriter (engine only: the C interpreter
 * writes no vmdesc), the "registry" machine (cpu x2, table, deep, 64 MiB of RAM) saved and
 * loaded as whole streams, against a memcpy of the same bytes into a pre-faulted buffer, and
 * "many": a registry of BENCH_DEVICES (default 16384) cpu devices added, saved and loaded, and
 * "checked": struct arrays counted by a member loaded unchecked, checked and transactional.
 *
 * Environment: BENCH_SAMPLES (default 9 timed samples per measurement, the median is shown),
 * BENCH_SAMPLE_MS (default 20: each sample repeats the operation for about this long),
 * BENCH_DEVICES (default 16384: the devices of "many").
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "alloc_track.h"
#include "migration/vmstate-registry.h"
#include "qapi/qmp/json-writer.h"
#include "cases.h"
#include "interp.h"

typedef struct Ctx {
    const BenchCase *c;
    void *src;        /* the device saved */
    void *dst;        /* the device loaded into */
    GByteArray *out;  /* reused output of the timed saves */
    GBytes *in;       /* the saved state, input of the timed loads */
    int engine;       /* 1: the Swift engine, 0: the C interpreter */
    uint8_t *copy_src, *copy_dst;
    size_t copy_len;
} Ctx;

static void die(const char *what, const BenchCase *c, int r) {
    fprintf(stderr, "bench: %s failed for %s (%d)\n", what, c->name, r);
    exit(1);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int save_into(const BenchCase *c, int engine, void *dev, GByteArray *out) {
    QEMUFile *f = vmstate_file_new_output(out);
    int r = engine ? vmstate_save_state(f, c->vmsd, dev, NULL)
                   : interp_save(f, c->vmsd, dev, c->vmsd->version_id);
    int e = qemu_fclose(f);
    return r ? r : e;
}

/* The input of a load: the saved state followed by QEMU_VM_EOF (0x1f), as in a stream. As
 * QEMU's, a load looks one byte past the state for a subsection; with nothing there it would
 * find the end (-EIO on the file, and a failed load when the last field is a struct). */
static GBytes *load_input(const GByteArray *state) {
    GByteArray *a = g_byte_array_sized_new(state->len + 1);
    g_byte_array_append(a, state->data, state->len);
    g_byte_array_append(a, (const guint8 *)"\x1f", 1);
    return g_byte_array_free_to_bytes(a);
}

static int load_from(const BenchCase *c, int engine, void *dev, GBytes *in) {
    QEMUFile *f = vmstate_file_new_input(in);
    int r = engine ? vmstate_load_state(f, c->vmsd, dev, c->vmsd->version_id)
                   : interp_load(f, c->vmsd, dev, c->vmsd->version_id);
    if (!r && vmstate_file_remaining(f) != 1) r = -1000; /* all but QEMU_VM_EOF read */
    int e = qemu_fclose(f);
    return r ? r : e;
}

static void op_save(Ctx *x) {
    g_byte_array_set_size(x->out, 0);
    int r = save_into(x->c, x->engine, x->src, x->out);
    if (r) die("save", x->c, r);
}

static void op_load(Ctx *x) {
    int r = load_from(x->c, x->engine, x->dst, x->in);
    if (r) die("load", x->c, r);
}

static void op_memcpy(Ctx *x) {
    memcpy(x->copy_dst, x->copy_src, x->copy_len);
    __asm__ volatile("" ::"r"(x->copy_dst) : "memory");
}

/* A save as a stream save does it: into a JSONWriter with the device's object open. */
static int save_vmdesc_into(const BenchCase *c, void *dev, GByteArray *out, GString *json) {
    JSONWriter *w = json_writer_new(false);
    json_writer_start_object(w, NULL);
    QEMUFile *f = vmstate_file_new_output(out);
    int r = vmstate_save_state(f, c->vmsd, dev, w);
    int e = qemu_fclose(f);
    json_writer_end_object(w);
    if (json) g_string_assign(json, json_writer_get(w));
    json_writer_free(w);
    return r ? r : e;
}

static void op_save_vmdesc(Ctx *x) {
    g_byte_array_set_size(x->out, 0);
    int r = save_vmdesc_into(x->c, x->src, x->out, NULL);
    if (r) die("save with vmdesc", x->c, r);
}

static void prepare_load(Ctx *x) {
    if (x->c->prepare_load) x->c->prepare_load(x->dst);
}

static int compare_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int samples(void) {
    const char *s = getenv("BENCH_SAMPLES");
    int n = s ? atoi(s) : 9;
    return n > 0 ? n : 9;
}

/* Median over samples of the time of one `op`, in ns. `prepare` (if any) runs before each op,
 * outside the timing. */
static double measure(Ctx *x, void (*op)(Ctx *), void (*prepare)(Ctx *)) {
    const char *ms = getenv("BENCH_SAMPLE_MS");
    double target = (ms ? atof(ms) : 20.0) * 1e6;
    /* warm up and calibrate */
    double one = 1e18;
    for (int i = 0; i < 3; i++) {
        if (prepare) prepare(x);
        double t0 = now_ns();
        op(x);
        double t = now_ns() - t0;
        if (t < one) one = t;
    }
    long batch = (long)(target / (one > 1 ? one : 1));
    if (batch < 1) batch = 1;
    if (batch > 10000000) batch = 10000000;
    int n = samples();
    double *per = calloc(n, sizeof(double));
    for (int s = 0; s < n; s++) {
        double total = 0;
        if (prepare) {
            for (long b = 0; b < batch; b++) {
                prepare(x);
                double t0 = now_ns();
                op(x);
                total += now_ns() - t0;
            }
        } else {
            double t0 = now_ns();
            for (long b = 0; b < batch; b++) op(x);
            total = now_ns() - t0;
        }
        per[s] = total / batch;
    }
    qsort(per, n, sizeof(double), compare_double);
    double median = n % 2 ? per[n / 2] : (per[n / 2 - 1] + per[n / 2]) / 2;
    free(per);
    return median;
}

static const BenchCase *find_case(const char *name) {
    for (int i = 0; i < bench_case_count; i++)
        if (!strcmp(bench_cases[i].name, name)) return &bench_cases[i];
    return NULL;
}

static long maxrss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* --mem: one save (into a new GByteArray) or one load, in this fresh process. */
static int memory_child(const char *name, const char *dir, const char *impl) {
    const BenchCase *c = find_case(name);
    if (!c) return 2;
    int engine = !strcmp(impl, "engine");
    int is_save = !strcmp(dir, "save");
    void *src = c->create();
    /* Run the operation once first so that one-time work (plans) is not counted. The first
     * output stays allocated, so the measured save grows a new array in new pages. */
    GByteArray *warm = g_byte_array_new();
    if (save_into(c, engine, src, warm)) die("save", c, -1);
    GBytes *in = load_input(warm);
    void *dst = NULL;
    if (!is_save) {
        dst = c->create_empty();
        if (load_from(c, engine, dst, in)) die("load", c, -1);
        if (c->prepare_load) c->prepare_load(dst);
    }
    long allocations, peak;
    long before = maxrss_kib();
    int r;
    if (is_save) {
        GByteArray *out = g_byte_array_new();
        alloc_track_begin();
        r = save_into(c, engine, src, out);
        alloc_track_end(&allocations, &peak);
        g_byte_array_unref(out);
    } else {
        alloc_track_begin();
        r = load_from(c, engine, dst, in);
        alloc_track_end(&allocations, &peak);
    }
    if (r) die(dir, c, r);
    printf("%ld %ld %ld\n", maxrss_kib() - before, allocations, peak);
    return 0;
}

static int run_memory(const char *self, const char *name, const char *dir, const char *impl,
                      long out[3]) {
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "'%s' --mem %s %s %s", self, name, dir, impl);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    int n = fscanf(p, "%ld %ld %ld", &out[0], &out[1], &out[2]);
    int status = pclose(p);
    return n == 3 && status == 0 ? 0 : -1;
}

static void human_time(char *buf, size_t n, double ns) {
    if (ns < 1e3) snprintf(buf, n, "%.0f ns", ns);
    else if (ns < 1e6) snprintf(buf, n, "%.2f us", ns / 1e3);
    else if (ns < 1e9) snprintf(buf, n, "%.2f ms", ns / 1e6);
    else snprintf(buf, n, "%.2f s", ns / 1e9);
}

static void human_bytes(char *buf, size_t n, long b) {
    if (b < 10 * 1024) snprintf(buf, n, "%ld B", b);
    else if (b < 10 * 1024 * 1024) snprintf(buf, n, "%.1f KiB", b / 1024.0);
    else snprintf(buf, n, "%.1f MiB", b / 1048576.0);
}

static void print_machine(void) {
    char model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10)) {
                char *v = strchr(line, ':');
                if (v) {
                    snprintf(model, sizeof model, "%s", v + 2);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        }
        fclose(f);
    }
    double load[3] = {0};
    getloadavg(load, 3);
    printf("machine: %s, %ld cores, load average %.2f %.2f %.2f\n", model,
           sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
    printf("samples: median of %d (BENCH_SAMPLES), each about %s ms (BENCH_SAMPLE_MS)\n",
           samples(), getenv("BENCH_SAMPLE_MS") ? getenv("BENCH_SAMPLE_MS") : "20");
}

/* Saves `c` with both implementations, checks the bytes agree, loads them back with both and
 * checks each load saves the same bytes again. Returns the saved bytes. */
static GBytes *check_case(const BenchCase *c, void *src) {
    GByteArray *a = g_byte_array_new(), *b = g_byte_array_new();
    int r = save_into(c, 1, src, a);
    if (r) die("engine save", c, r);
    r = save_into(c, 0, src, b);
    if (r) die("C interpreter save", c, r);
    if (a->len != b->len || memcmp(a->data, b->data, a->len)) {
        fprintf(stderr, "bench: %s: the engine and the C interpreter wrote different bytes "
                        "(%u vs %u)\n", c->name, a->len, b->len);
        exit(1);
    }
    GBytes *in = load_input(a);
    for (int engine = 1; engine >= 0; engine--) {
        void *dst = c->create_empty();
        r = load_from(c, engine, dst, in);
        if (r) die(engine ? "engine load" : "C interpreter load", c, r);
        g_byte_array_set_size(b, 0);
        r = save_into(c, 1, dst, b);
        if (r || b->len != a->len || memcmp(a->data, b->data, a->len)) {
            fprintf(stderr, "bench: %s: %s load did not restore the state\n", c->name,
                    engine ? "engine" : "C interpreter");
            exit(1);
        }
        c->destroy(dst);
    }
    g_byte_array_unref(a);
    g_byte_array_unref(b);
    return in;
}

/* Kept out of line so that `valgrind --tool=callgrind --toggle-collect=run_iterations` counts
 * exactly the timed operations (not prepare_load). */
__attribute__((noinline)) void run_iterations(Ctx *x, void (*op)(Ctx *)) {
    op(x);
    __asm__ volatile("" ::: "memory");
}

static void run_n(Ctx *x, void (*op)(Ctx *), long n) {
    for (long i = 0; i < n; i++) {
        if (op == op_load && x->c->prepare_load) x->c->prepare_load(x->dst);
        run_iterations(x, op);
    }
}

/* --iter: N operations of one kind, for profilers (callgrind, perf). */
static int iterate(const char *name, const char *dir, const char *impl, long n) {
    const BenchCase *c = find_case(name);
    if (!c) return 2;
    Ctx x = {.c = c, .engine = !strcmp(impl, "engine")};
    x.src = c->create();
    x.dst = c->create_empty();
    x.out = g_byte_array_new();
    GByteArray *first = g_byte_array_new();
    if (save_into(c, x.engine, x.src, first)) die("save", c, -1);
    x.in = load_input(first);
    g_byte_array_unref(first);
    void (*op)(Ctx *) = !strcmp(dir, "save") ? op_save : !strcmp(dir, "vmdesc") ? op_save_vmdesc : op_load;
    op(&x);
    run_n(&x, op, n);
    return 0;
}

/* ==== save with vmdesc ====================================================================== */

/* The number of field objects in a vmdesc text (each one starts with {"name": ). */
static long count_fields(const char *json) {
    long n = 0;
    for (const char *p = json; (p = strstr(p, "{\"name\": ")); p++) n++;
    return n;
}

static void run_vmdesc(const BenchCase *const *selected, int nselected) {
    printf("\nsave with vmdesc (engine, vmstate_save_state into a compact JSONWriter, as a stream "
           "save does):\n");
    printf("%-6s %8s %10s | %10s %12s %10s %10s\n", "case", "fields", "json bytes", "save",
           "with vmdesc", "+ns/field", "ratio");
    printf("------------------------------------------------------------------------------\n");
    for (int k = 0; k < nselected; k++) {
        const BenchCase *c = selected[k];
        Ctx x = {.c = c, .engine = 1};
        x.src = c->create();
        x.out = g_byte_array_new();
        GString *json = g_string_new(NULL);
        if (save_vmdesc_into(c, x.src, x.out, json)) die("save with vmdesc", c, -1);
        GByteArray *plain = g_byte_array_new();
        if (save_into(c, 1, x.src, plain) || plain->len != x.out->len ||
            memcmp(plain->data, x.out->data, plain->len)) {
            fprintf(stderr, "bench: %s: a save with vmdesc wrote different bytes\n", c->name);
            exit(1);
        }
        g_byte_array_unref(plain);
        long fields = count_fields(json->str);
        double t0 = measure(&x, op_save, NULL);
        double t1 = measure(&x, op_save_vmdesc, NULL);
        char a[32], b[32];
        human_time(a, sizeof a, t0);
        human_time(b, sizeof b, t1);
        printf("%-6s %8ld %10zu | %10s %12s %10.1f %9.2fx\n", c->name, fields, json->len, a, b,
               (t1 - t0) / (fields ? fields : 1), t1 / t0);
        fflush(stdout);
        g_string_free(json, TRUE);
        g_byte_array_unref(x.out);
        c->destroy(x.src);
    }
}

/* ==== registry ============================================================================== */

#define MACHINE_RAM (64u << 20)

/* A machine: devices (two cpus, a table, a deep tree, each added with its size) and/or 64 MiB
 * of RAM, each page filled with a pattern (no zero pages: every page is copied). */
typedef struct Machine {
    VMStateRegistry *reg;
    void *dev[4], *empty[4];
    const BenchCase *cases[4];
    int ndev;
    uint8_t *ram;
    GByteArray *out;
    GBytes *in;
    unsigned flags;
} Machine;

static void machine_fail(const char *what, GError *err) {
    fprintf(stderr, "bench: registry %s failed: %s\n", what, err ? err->message : "?");
    exit(1);
}

static Machine *machine_new(int devices, int ram, int into_empty) {
    Machine *m = g_new0(Machine, 1);
    m->reg = vmstate_registry_new();
    GError *err = NULL;
    if (devices) {
        const char *names[4] = {"cpu", "cpu", "table", "deep"};
        for (int i = 0; i < 4; i++) {
            const BenchCase *c = find_case(names[i]);
            m->cases[i] = c;
            m->dev[i] = c->create();
            m->empty[i] = c->create_empty();
            char idstr[32];
            snprintf(idstr, sizeof idstr, "bench-%s", c->name);
            if (!vmstate_registry_add_sized(m->reg, idstr, i == 1, c->vmsd,
                                            into_empty ? m->empty[i] : m->dev[i], c->size, &err))
                machine_fail("add", err);
        }
        m->ndev = 4;
    }
    if (ram) {
        m->ram = g_malloc(MACHINE_RAM);
        for (size_t i = 0; i < MACHINE_RAM; i += 8) {
            uint64_t v = (i * 0x9E3779B97F4A7C15ull) | 1;
            memcpy(m->ram + i, &v, 8);
        }
        if (!vmstate_registry_add_ram(m->reg, "pc.ram", m->ram, MACHINE_RAM, &err))
            machine_fail("add_ram", err);
    }
    m->out = g_byte_array_new();
    return m;
}

static void machine_free(Machine *m) {
    vmstate_registry_free(m->reg);
    for (int i = 0; i < m->ndev; i++) {
        m->cases[i]->destroy(m->dev[i]);
        m->cases[i]->destroy(m->empty[i]);
    }
    g_free(m->ram);
    g_byte_array_unref(m->out);
    if (m->in) g_bytes_unref(m->in);
    g_free(m);
}

static void machine_save(Machine *m) {
    GError *err = NULL;
    g_byte_array_set_size(m->out, 0);
    if (!vmstate_registry_save(m->reg, "bench-machine", m->out, &err)) machine_fail("save", err);
}

static void machine_load(Machine *m) {
    GError *err = NULL;
    if (!vmstate_registry_load(m->reg, m->in, m->flags, &err)) machine_fail("load", err);
}

/* `measure` works on a Ctx: these carry the machine in its `src`. */
static void op_machine_save(Ctx *x) { machine_save(x->src); }
static void op_machine_load(Ctx *x) { machine_load(x->src); }

static void print_machine_row(const char *what, size_t bytes, double t, double floor) {
    char a[32], b[32];
    human_time(a, sizeof a, t);
    human_time(b, sizeof b, floor);
    printf("%-34s %10zu | %10s %10s %9.2fx %8.0f\n", what, bytes, a, b, t / floor,
           bytes / t * 1e3);
    fflush(stdout);
}

static void run_registry(void) {
    printf("\nregistry: a machine of cpu x2, table, deep (added with their sizes) and 64 MiB of "
           "RAM,\nsaved and loaded as whole streams (vmstate_registry_save / _load); memcpy: the "
           "same number of bytes\ninto a pre-faulted buffer\n");
    printf("%-34s %10s | %10s %10s %10s %8s\n", "operation", "bytes", "time", "memcpy",
           "x memcpy", "MB/s");
    printf("------------------------------------------------------------------------------\n");
    const char *parts[3] = {"machine", "devices only", "RAM only"};
    for (int part = 0; part < 3; part++) {
        Machine *saver = machine_new(part != 2, part != 1, 0);
        machine_save(saver);
        Machine *loader = machine_new(part != 2, part != 1, 1);
        loader->in = g_bytes_new(saver->out->data, saver->out->len);
        machine_load(loader);
        /* the loaded machine saves the same stream again */
        machine_save(loader);
        if (loader->out->len != saver->out->len ||
            memcmp(loader->out->data, saver->out->data, saver->out->len)) {
            fprintf(stderr, "bench: registry %s: the load did not restore the state\n", parts[part]);
            exit(1);
        }
        Ctx copy = {0};
        copy.copy_len = saver->out->len;
        copy.copy_src = g_memdup2(saver->out->data, saver->out->len);
        copy.copy_dst = g_malloc(copy.copy_len);
        memset(copy.copy_dst, 1, copy.copy_len);
        double floor = measure(&copy, op_memcpy, NULL);
        Ctx x = {.src = saver};
        char what[64];
        snprintf(what, sizeof what, "%s save", parts[part]);
        print_machine_row(what, saver->out->len, measure(&x, op_machine_save, NULL), floor);
        x.src = loader;
        snprintf(what, sizeof what, "%s load", parts[part]);
        print_machine_row(what, saver->out->len, measure(&x, op_machine_load, NULL), floor);
        if (part != 2) {
            loader->flags = VMSTATE_LOAD_TRANSACTIONAL;
            snprintf(what, sizeof what, "%s load, transactional", parts[part]);
            print_machine_row(what, saver->out->len, measure(&x, op_machine_load, NULL), floor);
        }
        g_free(copy.copy_src);
        g_free(copy.copy_dst);
        machine_free(saver);
        machine_free(loader);
    }
}

/* ==== many devices ========================================================================== */

/* A registry of N "cpu" devices (BENCH_DEVICES, default 16384: the three sections a vCPU has
 * times about 5,000 vCPUs), each added with its size and its own instance id. */
typedef struct Many {
    VMStateRegistry *reg;
    void **dev;
    long n;
    int into_empty;
    GByteArray *out;
    GBytes *in;
    unsigned flags;
} Many;

static long many_devices(void) {
    const char *v = getenv("BENCH_DEVICES");
    long n = v ? atol(v) : 16384;
    return n > 0 ? n : 16384;
}

static void many_add(Many *m) {
    const BenchCase *c = find_case("cpu");
    GError *err = NULL;
    if (m->reg) vmstate_registry_free(m->reg);
    m->reg = vmstate_registry_new();
    for (long i = 0; i < m->n; i++)
        if (!vmstate_registry_add_sized(m->reg, "cpu", (uint32_t)i, c->vmsd, m->dev[i], c->size,
                                        &err))
            machine_fail("add", err);
}

static void op_many_add(Ctx *x) { many_add(x->src); }

static void op_many_save(Ctx *x) {
    Many *m = x->src;
    GError *err = NULL;
    g_byte_array_set_size(m->out, 0);
    if (!vmstate_registry_save(m->reg, "bench-machine", m->out, &err)) machine_fail("save", err);
}

static void op_many_load(Ctx *x) {
    Many *m = x->src;
    GError *err = NULL;
    if (!vmstate_registry_load(m->reg, m->in, m->flags, &err)) machine_fail("load", err);
}

static Many *many_new(long n, int into_empty) {
    const BenchCase *c = find_case("cpu");
    Many *m = g_new0(Many, 1);
    m->n = n;
    m->dev = g_new0(void *, n);
    for (long i = 0; i < n; i++) m->dev[i] = into_empty ? c->create_empty() : c->create();
    m->out = g_byte_array_new();
    many_add(m);
    return m;
}

static void many_free(Many *m) {
    const BenchCase *c = find_case("cpu");
    vmstate_registry_free(m->reg);
    for (long i = 0; i < m->n; i++) c->destroy(m->dev[i]);
    g_free(m->dev);
    g_byte_array_unref(m->out);
    if (m->in) g_bytes_unref(m->in);
    g_free(m);
}

static void print_many_row(const char *what, long n, double t) {
    char a[32];
    human_time(a, sizeof a, t);
    printf("%-32s %8ld | %10s %10.0f\n", what, n, a, t / n);
    fflush(stdout);
}

static void run_many(void) {
    long n = many_devices();
    printf("\nmany: a registry of %ld \"cpu\" devices (BENCH_DEVICES), each added with its size as "
           "its own\ninstance, added, saved and loaded as whole streams (no RAM)\n",
           n);
    printf("%-32s %8s | %10s %10s\n", "operation", "devices", "time", "ns/device");
    printf("--------------------------------------------------------------\n");
    Many *saver = many_new(n, 0);
    Ctx x = {.src = saver};
    op_many_save(&x);
    Many *loader = many_new(n, 1);
    loader->in = g_bytes_new(saver->out->data, saver->out->len);
    x.src = loader;
    op_many_load(&x);
    /* the loaded registry saves the same stream again */
    op_many_save(&x);
    if (loader->out->len != saver->out->len ||
        memcmp(loader->out->data, saver->out->data, saver->out->len)) {
        fprintf(stderr, "bench: many: the load did not restore the state\n");
        exit(1);
    }
    print_many_row("add every device", n, measure(&x, op_many_add, NULL));
    x.src = saver;
    print_many_row("save", n, measure(&x, op_many_save, NULL));
    x.src = loader;
    print_many_row("load", n, measure(&x, op_many_load, NULL));
    loader->flags = VMSTATE_LOAD_TRANSACTIONAL;
    print_many_row("load, transactional", n, measure(&x, op_many_load, NULL));
    many_free(saver);
    many_free(loader);
}

/* ==== checked loads of counted struct arrays ================================================= */

/* A struct array whose element count is a member of the struct (VMSTATE_STRUCT_VARRAY_UINT32),
 * loaded unchecked (vmstate_load_from_bytes), checked (vmstate_load_checked) and checked with
 * VMSTATE_LOAD_TRANSACTIONAL. Inside such a field a checked load records the ranges of stream
 * bytes it writes, so that a pointer they land on is not followed (QEMU 7.2's openpic). */
#define COUNTED_N 65536

typedef struct CountedEntry {
    uint64_t addr;
    uint32_t flags;
    uint16_t id;
    uint8_t state;
    bool valid;
    int32_t owner;
} CountedEntry;

typedef struct CountedFlat {
    uint32_t n;
    CountedEntry e[COUNTED_N];
} CountedFlat;

static const VMStateDescription vmstate_counted_entry = {
    .name = "bench-counted-entry",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT64(addr, CountedEntry), VMSTATE_UINT32(flags, CountedEntry),
                               VMSTATE_UINT16(id, CountedEntry), VMSTATE_UINT8(state, CountedEntry),
                               VMSTATE_BOOL(valid, CountedEntry), VMSTATE_INT32(owner, CountedEntry),
                               VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_counted_flat = {
    .name = "bench-counted-flat",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT32(n, CountedFlat),
                               VMSTATE_STRUCT_VARRAY_UINT32(e, CountedFlat, n, 0,
                                                            vmstate_counted_entry, CountedEntry),
                               VMSTATE_END_OF_LIST()},
};

/* Elements that are not flat: two scalars and a timer behind a pointer (each pointer is checked
 * against the recorded stream bytes before it is followed). */
typedef struct CountedTimed {
    uint64_t addr;
    uint32_t flags;
    QEMUTimer *timer;
} CountedTimed;

typedef struct CountedTimers {
    uint32_t n;
    CountedTimed e[COUNTED_N];
} CountedTimers;

static const VMStateDescription vmstate_counted_timed = {
    .name = "bench-counted-timed",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT64(addr, CountedTimed), VMSTATE_UINT32(flags, CountedTimed),
                               VMSTATE_TIMER_PTR(timer, CountedTimed), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription vmstate_counted_timers = {
    .name = "bench-counted-timers",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){VMSTATE_UINT32(n, CountedTimers),
                               VMSTATE_STRUCT_VARRAY_UINT32(e, CountedTimers, n, 0,
                                                            vmstate_counted_timed, CountedTimed),
                               VMSTATE_END_OF_LIST()},
};

typedef struct Counted {
    const VMStateDescription *vmsd;
    void *dev;
    size_t size;
    GBytes *in;
    unsigned flags;
    int checked;
} Counted;

static void counted_fail(const char *what, GError *err) {
    fprintf(stderr, "bench: checked %s failed: %s\n", what, err ? err->message : "?");
    exit(1);
}

static void op_counted_load(Ctx *x) {
    Counted *c = x->src;
    GError *err = NULL;
    bool ok = c->checked ? vmstate_load_checked(c->vmsd, c->dev, c->size, 1, c->in, c->flags, &err)
                         : vmstate_load_from_bytes(c->vmsd, c->dev, 1, c->in, &err);
    if (!ok) counted_fail(c->vmsd->name, err);
}

static void run_counted_case(const char *what, const VMStateDescription *vmsd, void *src, void *dst,
                             size_t size) {
    GError *err = NULL;
    GByteArray *out = vmstate_save_to_bytes(vmsd, src, NULL, &err);
    if (!out) counted_fail("save", err);
    Counted c = {.vmsd = vmsd, .dev = dst, .size = size,
                 .in = g_bytes_new(out->data, out->len)};
    Ctx x = {.src = &c};
    op_counted_load(&x);
    /* the loaded struct saves the same bytes again */
    GByteArray *again = vmstate_save_to_bytes(vmsd, dst, NULL, &err);
    if (!again) counted_fail("save", err);
    if (again->len != out->len || memcmp(again->data, out->data, out->len)) {
        fprintf(stderr, "bench: checked %s: the load did not restore the state\n", what);
        exit(1);
    }
    g_byte_array_unref(again);
    double t[3];
    const char *rows[3] = {"load", "load, checked", "load, checked, transactional"};
    for (int i = 0; i < 3; i++) {
        c.checked = i > 0;
        c.flags = i == 2 ? VMSTATE_LOAD_TRANSACTIONAL : 0;
        t[i] = measure(&x, op_counted_load, NULL); /* (it warms up first) */
        char a[32];
        human_time(a, sizeof a, t[i]);
        printf("%-22s %-30s %10u | %10s %8.2f %8.2fx\n", what, rows[i], out->len, a,
               t[i] / COUNTED_N, t[i] / t[0]);
        fflush(stdout);
    }
    g_bytes_unref(c.in);
    g_byte_array_unref(out);
}

static void run_checked(void) {
    printf("\nchecked: a VMSTATE_STRUCT_VARRAY_UINT32 of %d elements in the struct, loaded "
           "unchecked\n(vmstate_load_from_bytes), checked (vmstate_load_checked) and checked "
           "transactional\n", COUNTED_N);
    printf("%-22s %-30s %10s | %10s %8s %9s\n", "case", "operation", "bytes", "time", "ns/elem",
           "x load");
    printf("------------------------------------------------------------------------------"
           "--------------\n");
    CountedFlat *flat = g_new0(CountedFlat, 1), *flat_dst = g_new0(CountedFlat, 1);
    flat->n = COUNTED_N;
    for (uint32_t i = 0; i < COUNTED_N; i++)
        flat->e[i] = (CountedEntry){.addr = i * 0x9e3779b97f4a7c15ull, .flags = i * 7,
                                    .id = (uint16_t)i, .state = (uint8_t)i, .valid = i & 1,
                                    .owner = -(int32_t)i};
    run_counted_case("flat elements", &vmstate_counted_flat, flat, flat_dst, sizeof *flat);
    CountedTimers *timed = g_new0(CountedTimers, 1), *timed_dst = g_new0(CountedTimers, 1);
    QEMUTimer *timers = g_new0(QEMUTimer, COUNTED_N), *timers_dst = g_new0(QEMUTimer, COUNTED_N);
    timed->n = COUNTED_N;
    for (uint32_t i = 0; i < COUNTED_N; i++) {
        timed->e[i] = (CountedTimed){.addr = i * 0x9e3779b97f4a7c15ull, .flags = i * 7,
                                     .timer = &timers[i]};
        timers[i].expire_time = i % 3 ? (int64_t)i * 1000 : -1;
        timed_dst->e[i].timer = &timers_dst[i];
    }
    run_counted_case("a timer each", &vmstate_counted_timers, timed, timed_dst, sizeof *timed);
    g_free(flat);
    g_free(flat_dst);
    g_free(timed);
    g_free(timed_dst);
    g_free(timers);
    g_free(timers_dst);
}

/* --iter registry save|load engine N */
static int iterate_registry(const char *dir, long n) {
    Machine *saver = machine_new(1, 1, 0);
    machine_save(saver);
    Machine *loader = machine_new(1, 1, 1);
    loader->in = g_bytes_new(saver->out->data, saver->out->len);
    Ctx x = {.src = strcmp(dir, "save") ? loader : saver};
    void (*op)(Ctx *) = strcmp(dir, "save") ? op_machine_load : op_machine_save;
    op(&x);
    for (long i = 0; i < n; i++) run_iterations(&x, op);
    machine_free(saver);
    machine_free(loader);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--mem")) return memory_child(argv[2], argv[3], argv[4]);
    if (argc == 6 && !strcmp(argv[1], "--iter") && !strcmp(argv[2], "registry"))
        return iterate_registry(argv[3], atol(argv[5]));
    if (argc == 6 && !strcmp(argv[1], "--iter"))
        return iterate(argv[2], argv[3], argv[4], atol(argv[5]));

    const BenchCase *selected[16];
    int nselected = 0;
    int registry = argc == 1, many = argc == 1, checked = argc == 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "registry")) {
            registry = 1;
            continue;
        }
        if (!strcmp(argv[i], "many")) {
            many = 1;
            continue;
        }
        if (!strcmp(argv[i], "checked")) {
            checked = 1;
            continue;
        }
        const BenchCase *c = find_case(argv[i]);
        if (!c) {
            fprintf(stderr, "bench: no case %s\n", argv[i]);
            return 2;
        }
        selected[nselected++] = c;
    }
    if (!nselected && argc == 1)
        for (int i = 0; i < bench_case_count; i++) selected[nselected++] = &bench_cases[i];

    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len < 0) return 1;
    self[len] = 0;

    print_machine();
    printf("checked first, per case: the engine and the C interpreter write identical bytes, and "
           "each one's load saves them again\n");
    printf("\n%-6s %-5s %9s %10s | %10s %8s %8s %9s | %10s %8s\n", "case", "dir", "elements",
           "bytes", "engine", "ns/elem", "MB/s", "x memcpy", "C interp", "C/engine");
    printf("---------------------------------------------------------------------------------"
           "-----------------\n");
    double results[16][2][3]; /* [case][save/load][engine, C, memcpy] */
    for (int k = 0; k < nselected; k++) {
        const BenchCase *c = selected[k];
        Ctx x = {.c = c};
        x.src = c->create();
        x.in = check_case(c, x.src);
        x.dst = c->create_empty();
        x.out = g_byte_array_new();
        gsize in_len;
        const void *in_data = g_bytes_get_data(x.in, &in_len);
        in_len -= 1; /* the state, without the QEMU_VM_EOF after it */
        x.copy_len = in_len;
        x.copy_src = g_malloc(in_len);
        memcpy(x.copy_src, in_data, in_len);
        x.copy_dst = g_malloc(in_len);
        memset(x.copy_dst, 1, in_len);
        double floor = measure(&x, op_memcpy, NULL);
        for (int dir = 0; dir < 2; dir++) {
            double t[2];
            for (int engine = 1; engine >= 0; engine--) {
                x.engine = engine;
                t[engine] = dir == 0 ? measure(&x, op_save, NULL)
                                     : measure(&x, op_load, c->prepare_load ? prepare_load : NULL);
            }
            char te[32], tc[32];
            human_time(te, sizeof te, t[1]);
            human_time(tc, sizeof tc, t[0]);
            printf("%-6s %-5s %9ld %10zu | %10s %8.2f %8.0f %9.2f | %10s %7.2fx\n", c->name,
                   dir ? "load" : "save", c->elements, (size_t)in_len, te, t[1] / c->elements,
                   in_len / t[1] * 1e3, t[1] / floor, tc, t[0] / t[1]);
            fflush(stdout);
            results[k][dir][0] = t[1];
            results[k][dir][1] = t[0];
            results[k][dir][2] = floor;
        }
        g_byte_array_unref(x.out);
        g_bytes_unref(x.in);
        g_free(x.copy_src);
        g_free(x.copy_dst);
        c->destroy(x.src);
        c->destroy(x.dst);
    }
    (void)results;
    if (nselected) run_vmdesc(selected, nselected);
    if (registry) run_registry();
    if (many) run_many();
    if (checked) run_checked();

    if (!nselected) return 0;
    printf("\nmemory of one operation (fresh process; a save writes into a new GByteArray):\n");
    printf("%-6s %-5s | %-30s | %-30s\n", "case", "dir", "engine: allocs / peak heap / RSS+",
           "C interp: allocs / peak heap / RSS+");
    printf("---------------------------------------------------------------------------------"
           "-----\n");
    for (int k = 0; k < nselected; k++) {
        for (int dir = 0; dir < 2; dir++) {
            char cols[2][128];
            for (int engine = 1; engine >= 0; engine--) {
                long m[3];
                if (run_memory(self, selected[k]->name, dir ? "load" : "save",
                               engine ? "engine" : "c", m)) {
                    snprintf(cols[engine], sizeof cols[engine], "(failed)");
                    continue;
                }
                char heap[32], rss[32];
                human_bytes(heap, sizeof heap, m[2]);
                human_bytes(rss, sizeof rss, m[0] * 1024);
                snprintf(cols[engine], sizeof cols[engine], "%6ld / %10s / %10s", m[1], heap,
                         rss);
            }
            printf("%-6s %-5s | %-30s | %-30s\n", selected[k]->name, dir ? "load" : "save",
                   cols[1], cols[0]);
        }
    }
    printf("\nns/elem: engine time / primitive elements; x memcpy: engine time / memcpy of the "
           "same number of bytes;\nC/engine: C interpreter time / engine time (above 1: the "
           "engine is faster).\n");
    return 0;
}
