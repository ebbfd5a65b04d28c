/*
 * One input of each fuzz target, as a function: the libFuzzer drivers in fuzz/ call these, and
 * the Swift tests replay fuzz/regressions/ and the corpus through them.
 *
 * Each returns NULL when every property held, or a description of the one that did not (the
 * fuzz drivers abort on it). Memory errors and leaks are for the sanitizers to see.
 */
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "hostile_fixtures.h"
#include "hostile_harness.h"

#define HX_RAM_PAGES 4
#define HX_ROM_PAGES 1

static char hx_failure[512];

static const char *hx_fail(const char *fmt, const char *a, const char *b)
{
    snprintf(hx_failure, sizeof(hx_failure), fmt, a ? a : "", b ? b : "");
    return hx_failure;
}

/* A failed load must say why with one of our codes and a message. */
static const char *hx_check_error(const GError *err, const char *what)
{
    if (!err) {
        return hx_fail("%s failed without a GError%s", what, NULL);
    }
    if (err->domain != VMSTATE_ERROR || err->code < VMSTATE_ERROR_FAILED ||
        err->code > VMSTATE_ERROR_RAM || !err->message || !err->message[0]) {
        return hx_fail("%s failed with a malformed GError: %s", what, err->message);
    }
    return NULL;
}

/*
 * QEMU's format cannot tell field bytes that spell a subsection header from a subsection:
 * vmstate_subsection_load peeks for 0x05, a length of at least the description's name plus
 * one and a name that starts with it, and such a name that is not a subsection fails the load
 * (-ENOENT) in QEMU as here. A loaded state can hold such bytes when the input ended before the
 * would-be name did (the peek fell short, so no subsection was read) and its save is longer (a
 * sample target's subsections). True when `err` is that case: an unknown subsection whose
 * marker is in `saved` at the reported offset.
 */
static bool hx_subsection_lookalike(const GError *err, const GByteArray *saved)
{
    if (err->code != VMSTATE_ERROR_UNKNOWN_SUBSECTION) {
        return false;
    }
    const char *at = g_strrstr(err->message, "(at byte ");
    if (!at) {
        return false;
    }
    guint64 offset = g_ascii_strtoull(at + strlen("(at byte "), NULL, 10);
    return offset + 1 < saved->len && saved->data[offset] == 0x05;
}

static bool hx_same_bytes(const GByteArray *a, const GByteArray *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Whether `saved` (a save that differs from the one before it) loads into a blank target and
 * saves as itself. A count from the stream may run an array over later fields of its struct
 * (checked loads allow it within the struct, as QEMU's openpic's `max_irq` does), which then
 * load again over it: the first round's save then reads the later fields through the array, and
 * the state settles at the next round. */
static bool hx_settles(const HxFixture *fx, GByteArray *saved)
{
    GError *err = NULL;
    void *target = hx_create(fx, false);
    GBytes *bytes = g_bytes_new(saved->data, saved->len);
    bool same = false;
    if (vmstate_load_checked(fx->vmsd, target, fx->size, fx->vmsd->version_id, bytes, 0, &err)) {
        GByteArray *again = vmstate_save_to_bytes(fx->vmsd, target, NULL, &err);
        same = again && hx_same_bytes(saved, again);
        if (again) {
            g_byte_array_unref(again);
        }
    }
    g_clear_error(&err);
    g_bytes_unref(bytes);
    hx_destroy(fx, target);
    return same;
}

/* ---- load target ---------------------------------------------------------------------------
 * data[0]: fixture; data[1]: bit 0 transactional, bits 1-2 subtracted from the version,
 * bit 3 load into a sample-filled target (pre-existing list and tree entries) instead of a
 * blank one; the rest is the device state.
 */
const char *hx_run_load_input(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return NULL;
    }
    size_t count;
    const HxFixture *fx = &hx_fixtures(&count)[data[0] % count];
    unsigned mode = data[1];
    bool transactional = mode & 1;
    int version = fx->vmsd->version_id - (int)((mode >> 1) & 3);
    /* A sample hx-ptr holds buffers a load would replace (and leak, as QEMU's load does). */
    bool sample = (mode & 8) && strcmp(fx->name, "hx-ptr") != 0;
    const char *failure = NULL;

    void *opaque = hx_create(fx, sample);
    uint64_t before = fx->digest(opaque);
    GBytes *in = g_bytes_new(data + 2, size - 2);
    GError *err = NULL;
    bool ok = vmstate_load_checked(fx->vmsd, opaque, fx->size, version, in,
                                   transactional ? VMSTATE_LOAD_TRANSACTIONAL : 0, &err);
    if (!ok) {
        failure = hx_check_error(err, fx->name);
        if (!failure && transactional && fx->digest(opaque) != before) {
            failure = hx_fail("transactional load of %s failed but changed the state: %s", fx->name,
                              err->message);
        }
        g_clear_error(&err);
    } else {
        /* What loaded saves, and the saved bytes load into a blank target and save the same. */
        GByteArray *first = vmstate_save_to_bytes(fx->vmsd, opaque, NULL, &err);
        if (!first) {
            failure = hx_fail("%s loaded but does not save: %s", fx->name, err->message);
            g_clear_error(&err);
        } else {
            void *again = hx_create(fx, false);
            GBytes *bytes = g_bytes_new(first->data, first->len);
            if (!vmstate_load_checked(fx->vmsd, again, fx->size, fx->vmsd->version_id, bytes, 0,
                                      &err)) {
                failure = hx_subsection_lookalike(err, first)
                              ? NULL
                              : hx_fail("%s: its own saved state does not load: %s",
                                        fx->name, err->message);
                g_clear_error(&err);
            } else {
                GByteArray *second = vmstate_save_to_bytes(fx->vmsd, again, NULL, &err);
                if (!second) {
                    failure = hx_fail("%s: reloaded state does not save: %s", fx->name,
                                      err->message);
                    g_clear_error(&err);
                } else {
                    if (!hx_same_bytes(first, second) && !hx_settles(fx, second)) {
                        failure = hx_fail("%s: save, load, save is not stable%s", fx->name, NULL);
                    }
                    g_byte_array_unref(second);
                }
            }
            g_bytes_unref(bytes);
            hx_destroy(fx, again);
            g_byte_array_unref(first);
        }
    }
    g_bytes_unref(in);
    hx_destroy(fx, opaque);
    return failure;
}

/* ---- stream target -------------------------------------------------------------------------
 * data[0]: bit 0 transactional, bit 1 register RAM ("pc.ram" 4 pages, "pc.rom" 1 page),
 * bit 2 SKIP_UNKNOWN only (else KEEP_UNKNOWN), bit 3 sample-filled devices, bit 4 read through
 * a GMemoryInputStream (vmstate_registry_load_from_stream: the stream loader's paths for input
 * whose end is not known yet); the rest is a whole migration stream. Every hx_ fixture is
 * registered with its size, instance 0.
 */
typedef struct HxMachine {
    VMStateRegistry *reg;
    void *dev[16];
    uint8_t *ram;
    uint8_t *rom;
    size_t count;
} HxMachine;

static HxMachine hx_machine_new(bool ram, bool sample)
{
    HxMachine m = {0};
    const HxFixture *fx = hx_fixtures(&m.count);
    m.reg = vmstate_registry_new();
    for (size_t i = 0; i < m.count; i++) {
        m.dev[i] = hx_create(&fx[i], sample && strcmp(fx[i].name, "hx-ptr") != 0);
        vmstate_registry_add_sized(m.reg, fx[i].name, 0, fx[i].vmsd, m.dev[i], fx[i].size, NULL);
    }
    if (ram) {
        m.ram = g_malloc0(HX_RAM_PAGES * 4096);
        m.rom = g_malloc0(HX_ROM_PAGES * 4096);
        if (sample) {
            memset(m.ram + 4096, 0x11, 4096);
            memset(m.rom, 0xFF, 4096);
        }
        vmstate_registry_add_ram(m.reg, "pc.ram", m.ram, HX_RAM_PAGES * 4096, NULL);
        vmstate_registry_add_ram(m.reg, "pc.rom", m.rom, HX_ROM_PAGES * 4096, NULL);
    }
    return m;
}

static uint64_t hx_machine_digest(const HxMachine *m)
{
    const HxFixture *fx = hx_fixtures(&(size_t){0});
    uint64_t h = 0;
    for (size_t i = 0; i < m->count; i++) {
        uint64_t d = fx[i].digest(m->dev[i]);
        h = hx_hash(h, &d, sizeof(d));
    }
    return h;
}

static void hx_machine_free(HxMachine *m)
{
    const HxFixture *fx = hx_fixtures(&(size_t){0});
    vmstate_registry_free(m->reg);
    for (size_t i = 0; i < m->count; i++) {
        hx_destroy(&fx[i], m->dev[i]);
    }
    g_free(m->ram);
    g_free(m->rom);
}

const char *hx_run_stream_input(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return NULL;
    }
    unsigned mode = data[0];
    bool transactional = mode & 1;
    bool ram = mode & 2;
    unsigned flags = (mode & 4) ? VMSTATE_LOAD_SKIP_UNKNOWN : VMSTATE_LOAD_KEEP_UNKNOWN;
    if (transactional) {
        flags |= VMSTATE_LOAD_TRANSACTIONAL;
    }
    const char *failure = NULL;
    HxMachine m = hx_machine_new(ram, mode & 8);
    uint64_t before = hx_machine_digest(&m);
    GBytes *in = g_bytes_new(data + 1, size - 1);
    GError *err = NULL;

    bool loaded;
    if (mode & 16) {
        GInputStream *stream = g_memory_input_stream_new_from_bytes(in);
        loaded = vmstate_registry_load_from_stream(m.reg, stream, flags, &err);
        g_object_unref(stream);
    } else {
        loaded = vmstate_registry_load(m.reg, in, flags, &err);
    }
    if (!loaded) {
        failure = hx_check_error(err, "stream");
        if (!failure && transactional && hx_machine_digest(&m) != before) {
            failure = hx_fail("transactional stream load failed but changed a device: %s%s",
                              err->message, NULL);
        }
        g_clear_error(&err);
    } else {
        /* A loaded machine saves; the saved stream loads into a fresh machine; saving that
         * gives the same bytes. */
        GByteArray *first = g_byte_array_new();
        /* A stream without a configuration section names no machine type: give one. */
        const char *machine = vmstate_registry_machine_type(m.reg) ? NULL : "none";
        if (!vmstate_registry_save(m.reg, machine, first, &err)) {
            failure = hx_fail("a loaded stream does not save: %s%s", err->message, NULL);
            g_clear_error(&err);
        } else {
            HxMachine fresh = hx_machine_new(ram, false);
            GBytes *bytes = g_bytes_new(first->data, first->len);
            if (!vmstate_registry_load(fresh.reg, bytes, flags & ~VMSTATE_LOAD_TRANSACTIONAL,
                                       &err)) {
                failure = hx_subsection_lookalike(err, first)
                              ? NULL
                              : hx_fail("our own saved stream does not load: %s%s", err->message,
                                        NULL);
                g_clear_error(&err);
            } else {
                GByteArray *second = g_byte_array_new();
                if (!vmstate_registry_save(fresh.reg, NULL, second, &err)) {
                    failure = hx_fail("a reloaded stream does not save: %s%s", err->message, NULL);
                    g_clear_error(&err);
                } else if (!hx_same_bytes(first, second)) {
                    failure = hx_fail("stream save, load, save is not stable%s%s", NULL, NULL);
                }
                g_byte_array_unref(second);
            }
            g_bytes_unref(bytes);
            hx_machine_free(&fresh);
        }
        g_byte_array_unref(first);
    }
    g_bytes_unref(in);
    hx_machine_free(&m);
    return failure;
}

/* ---- seeds ---------------------------------------------------------------------------------- */

GByteArray *hx_seed_device(const char *name, unsigned mode)
{
    const HxFixture *fx = hx_fixture(name);
    if (!fx) {
        return NULL;
    }
    void *opaque = hx_create(fx, true);
    GByteArray *state = vmstate_save_to_bytes(fx->vmsd, opaque, NULL, NULL);
    hx_destroy(fx, opaque);
    if (!state) {
        return NULL;
    }
    size_t count;
    hx_fixtures(&count);
    uint8_t head[2] = {(uint8_t)(fx - hx_fixtures(&count)), (uint8_t)mode};
    g_byte_array_prepend(state, head, 2);
    return state;
}

GByteArray *hx_seed_stream(unsigned mode)
{
    HxMachine m = hx_machine_new(mode & 2, true);
    GByteArray *out = g_byte_array_new();
    uint8_t head = (uint8_t)mode;
    g_byte_array_append(out, &head, 1);
    if (!vmstate_registry_save(m.reg, "pc-i440fx-7.2", out, NULL)) {
        g_byte_array_unref(out);
        out = NULL;
    }
    hx_machine_free(&m);
    return out;
}
