/*
 * tiny-emulator: runs a toy machine for a number of deterministic steps, then saves it to a
 * QEMU-format migration stream, or checks that a stream restores it exactly.
 *
 *   tiny-emulator [--steps N] [--seed S] save FILE
 *   tiny-emulator [--steps N] [--seed S] restore FILE
 *   tiny-emulator [--steps N] [--seed S] check [FILE]
 *   tiny-emulator [--steps N] [--seed S] --incoming tcp:HOST:PORT   (live migration, live.c)
 *   tiny-emulator [--steps N] [--seed S] --migrate tcp:HOST:PORT
 *
 * restore runs the same steps again in a second machine to know what to expect, loads FILE into
 * a freshly reset machine, compares every device field and all RAM, and then lets both
 * machines run on to show they behave the same. check does save and restore (FILE defaults to
 * a temporary file), then loads the RTC from streams of each of its versions.
 * Exit status: 0 identical, 1 a load error or a difference, 2 bad usage.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tiny.h"

#define DEFAULT_STEPS 5000
#define DEFAULT_SEED 0x7e57
#define CONTINUE_STEPS 1000

typedef struct Options {
    unsigned steps;
    uint64_t seed;
} Options;

static void print_error(const char *what, const char *path, GError *err) {
    fprintf(stderr, "tiny-emulator: %s %s: %s\n", what, path, err ? err->message : "unknown error");
}

static void run_expected(Machine *m, const Options *o) {
    machine_init(m, o->seed);
    machine_run(m, o->steps);
}

static int cmd_save(const Options *o, const char *path) {
    Machine m;
    run_expected(&m, o);
    printf("tiny-emulator: ran %u steps from seed 0x%" PRIx64 " (%.3f ms of guest time)\n",
           o->steps, o->seed, (double)m.clock.now_ns / 1e6);

    /* The stream goes straight to the file through GIO (memory stays bounded whatever the RAM
     * size); vmstate_registry_save into a GByteArray is the small-snapshot alternative. */
    GError *err = NULL;
    VMStateRegistry *reg = vmstate_registry_new();
    GFile *file = g_file_new_for_path(path);
    GFileOutputStream *out = NULL;
    int status = 0;
    gint64 size = 0; /* read before the close: a closed stream's position is 0 */
    if (!machine_register(&m, reg, &err) ||
        !(out = g_file_replace(file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &err)) ||
        !vmstate_registry_save_to_stream(reg, TINY_MACHINE_TYPE, G_OUTPUT_STREAM(out), &err) ||
        (size = g_seekable_tell(G_SEEKABLE(out)), !g_output_stream_close(G_OUTPUT_STREAM(out), NULL, &err))) {
        print_error("cannot save to", path, err);
        status = 1;
    } else {
        size_t pages = TINY_RAM_SIZE / 4096, zero = ram_zero_pages(m.ram);
        printf("saved machine %s to %s: %" G_GINT64_FORMAT " bytes\n", TINY_MACHINE_TYPE, path, size);
        printf("  devices: %zu sections (", machine_device_count);
        for (size_t i = 0; i < machine_device_count; i++) {
            printf("%s%s/%u", i ? ", " : "", machine_devices[i].idstr,
                   machine_devices[i].instance_id);
        }
        printf(")\n");
        printf("  RAM: %s, %zu pages of 4096 bytes (%zu with data, %zu zero)\n", TINY_RAM_BLOCK,
               pages, pages - zero, zero);
        printf("  tiny-rtc/irq_reinject subsection: %s\n",
               rtc_reinject_needed(&m.rtc) ? "sent" : "not needed, not sent");
    }
    g_clear_error(&err);
    g_clear_object(&out);
    g_object_unref(file);
    vmstate_registry_free(reg);
    machine_finalize(&m);
    return status;
}

static int cmd_restore(const Options *o, const char *path) {
    GError *err = NULL;
    GFile *file = g_file_new_for_path(path);
    GFileInputStream *in = g_file_read(file, NULL, &err);
    if (in == NULL) {
        print_error("cannot read", path, err);
        g_clear_error(&err);
        g_object_unref(file);
        return 1;
    }

    Machine want, got;
    run_expected(&want, o);
    printf("tiny-emulator: expected state = %u steps from seed 0x%" PRIx64 "\n", o->steps, o->seed);
    machine_init(&got, 0);

    int status = 1;
    VMStateRegistry *reg = vmstate_registry_new();
    if (!machine_register(&got, reg, &err) ||
        !vmstate_registry_load_from_stream(reg, G_INPUT_STREAM(in), 0, &err)) {
        print_error("cannot load", path, err);
    } else if (g_strcmp0(vmstate_registry_machine_type(reg), TINY_MACHINE_TYPE) != 0) {
        fprintf(stderr, "tiny-emulator: %s is a stream for machine \"%s\", not \"%s\"\n", path,
                vmstate_registry_machine_type(reg), TINY_MACHINE_TYPE);
    } else {
        printf("loaded %s (%" G_GINT64_FORMAT " bytes read, machine %s) into a freshly reset machine:\n",
               path, (gint64)g_seekable_tell(G_SEEKABLE(in)), vmstate_registry_machine_type(reg));
        int diffs = machine_compare(&want, &got, true);
        if (diffs == 0) {
            machine_run(&want, CONTINUE_STEPS);
            machine_run(&got, CONTINUE_STEPS);
            diffs = machine_compare(&want, &got, false);
            printf("  both machines ran %u more steps: %s\n", CONTINUE_STEPS,
                   diffs ? "they DIFFER" : "still identical");
        }
        if (diffs == 0) {
            printf("restore: OK, every device field and all RAM identical\n");
            status = 0;
        } else {
            printf("restore: FAILED, %d difference%s\n", diffs, diffs == 1 ? "" : "s");
        }
    }
    g_clear_error(&err);
    vmstate_registry_free(reg);
    g_object_unref(in);
    g_object_unref(file);
    machine_finalize(&want);
    machine_finalize(&got);
    return status;
}

/*
 * The RTC's version history, with QEMU's single-device API: the RTC saved as version 1, 2 and 3
 * (vmstate_save_state_v) loads into a freshly reset RTC (vmstate_load_state); the fields a
 * version does not have get their defaults from post_load.
 */
static int check_rtc_versions(const Options *o) {
    Machine m;
    run_expected(&m, o);
    const TinyRTC *rtc = &m.rtc;
    int failures = 0;
    printf("tiny-rtc streams of older versions, loaded into a reset RTC:\n");
    for (int version = 1; version <= vmstate_tiny_rtc.version_id; version++) {
        GByteArray *buf = g_byte_array_new();
        QEMUFile *f = vmstate_file_new_output(buf);
        int ret = vmstate_save_state_v(f, &vmstate_tiny_rtc, &m.rtc, NULL, version);
        qemu_fclose(f);

        TinyRTC copy;
        rtc_reset(&copy);
        GBytes *in = g_bytes_new(buf->data, buf->len);
        f = vmstate_file_new_input(in);
        if (ret == 0) {
            ret = vmstate_load_state(f, &vmstate_tiny_rtc, &copy, version);
        }
        /* Everything read is the check: qemu_fclose reports -EIO here because, as QEMU's, the
         * load looked one byte past the RTC's state for a subsection and found the end. */
        bool all_read = vmstate_file_remaining(f) == 0;
        qemu_fclose(f);
        bool same = ret == 0 && all_read && memcmp(copy.cmos, rtc->cmos, RTC_CMOS_SIZE) == 0 &&
                    copy.index == rtc->index && copy.last_update_ns == rtc->last_update_ns &&
                    copy.irq_coalesced == (version >= 2 ? rtc->irq_coalesced : 0) &&
                    copy.alarm_hits == (version >= 2 ? rtc->alarm_hits : 0) &&
                    copy.offset_ns == (version >= 3 ? rtc->offset_ns : 0) &&
                    copy.reinject_count == rtc->reinject_count && copy.period_ns == rtc->period_ns;
        printf("  version %d: %3u bytes, %s\n", version, buf->len,
               ret ? "load FAILED" : same ? "ok" : "loaded, but the fields DIFFER");
        failures += !same;
        g_bytes_unref(in);
        g_byte_array_unref(buf);
    }
    machine_finalize(&m);
    return failures ? 1 : 0;
}

static int cmd_check(const Options *o, const char *path) {
    char *tmp = NULL;
    if (path == NULL) {
        GError *err = NULL;
        int fd = g_file_open_tmp("tiny-emulator-XXXXXX.bin", &tmp, &err);
        if (fd < 0) {
            print_error("cannot create", "a temporary file", err);
            g_clear_error(&err);
            return 1;
        }
        close(fd);
        path = tmp;
    }
    int status = cmd_save(o, path);
    if (status == 0) {
        status = cmd_restore(o, path);
    }
    if (status == 0) {
        status = check_rtc_versions(o);
    }
    if (tmp) {
        unlink(tmp);
        g_free(tmp);
    }
    return status;
}

int live_migrate(uint64_t seed, unsigned steps, const char *uri);
int live_incoming(uint64_t seed, unsigned steps, const char *uri);

static int usage(void) {
    fprintf(stderr,
            "usage: tiny-emulator [--steps N] [--seed S] save FILE\n"
            "       tiny-emulator [--steps N] [--seed S] restore FILE\n"
            "       tiny-emulator [--steps N] [--seed S] check [FILE]\n"
            "       tiny-emulator [--steps N] [--seed S] --incoming tcp:HOST:PORT\n"
            "       tiny-emulator [--steps N] [--seed S] --migrate tcp:HOST:PORT\n"
            "defaults: --steps %u --seed 0x%x; restore needs the values save used\n",
            DEFAULT_STEPS, DEFAULT_SEED);
    return 2;
}

static bool parse_number(const char *text, uint64_t max, uint64_t *value) {
    char *end = NULL;
    errno = 0;
    *value = g_ascii_strtoull(text, &end, 0);
    return errno == 0 && end != text && *end == '\0' && *value <= max;
}

int main(int argc, char **argv) {
    Options o = {.steps = DEFAULT_STEPS, .seed = DEFAULT_SEED};
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        uint64_t v;
        if (strcmp(argv[i], "--steps") == 0 && parse_number(argv[i + 1], 100000000, &v)) {
            o.steps = (unsigned)v;
        } else if (strcmp(argv[i], "--seed") == 0 && parse_number(argv[i + 1], UINT64_MAX, &v)) {
            o.seed = v;
        } else if (strcmp(argv[i], "--migrate") == 0 && i + 2 == argc) {
            return live_migrate(o.seed, o.steps, argv[i + 1]);
        } else if (strcmp(argv[i], "--incoming") == 0 && i + 2 == argc) {
            return live_incoming(o.seed, o.steps, argv[i + 1]);
        } else {
            return usage();
        }
    }
    int left = argc - i;
    if (left == 2 && strcmp(argv[i], "save") == 0) {
        return cmd_save(&o, argv[i + 1]);
    }
    if (left == 2 && strcmp(argv[i], "restore") == 0) {
        return cmd_restore(&o, argv[i + 1]);
    }
    if ((left == 1 || left == 2) && strcmp(argv[i], "check") == 0) {
        return cmd_check(&o, left == 2 ? argv[i + 1] : NULL);
    }
    return usage();
}
