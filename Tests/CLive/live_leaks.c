/* A C emulator's live migration through libswiftvmstate, run under valgrind by
 * scripts/checks/live-leaks.sh: a migration with RAM changing between passes loaded back
 * through a GInputStream, a failing dirty log, a stream that fails mid-pass, a destination
 * stream cut mid-RAM, and vmstate_registry_load_from_listener on loopback TCP with and without a
 * second connection that starts as a QEMU multifd channel. Exits 0 when every result is as
 * expected. */
#include <gio/gio.h>
#include <stdio.h>
#include <string.h>

#include "migration/vmstate.h"
#include "migration/vmstate-registry.h"

typedef struct Dev { uint32_t a, b; } Dev;

static const VMStateDescription vmstate_dev = {
    .name = "dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_UINT32(a, Dev),
        VMSTATE_UINT32(b, Dev),
        VMSTATE_END_OF_LIST()
    },
};

#define RAM_SIZE (1 << 20)
#define NPAGES (RAM_SIZE / 4096)

typedef struct Log { unsigned char dirty[NPAGES]; bool fail; } Log;

static bool dirty_log(const char *block, unsigned long *bitmap, size_t npages, void *opaque)
{
    Log *log = opaque;
    if (log->fail) return false;
    for (size_t i = 0; i < npages && i < NPAGES; i++) {
        if (log->dirty[i]) bitmap[i / (8 * sizeof(long))] |= 1UL << (i % (8 * sizeof(long)));
        log->dirty[i] = 0;
    }
    (void)block;
    return true;
}

static void guest_write(Log *log, uint8_t *ram, size_t off, uint32_t v)
{
    memcpy(ram + off, &v, 4);
    log->dirty[off / 4096] = 1;
}

static int failures;
#define CHECK(c) do { if (!(c)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #c); failures++; } } while (0)

static VMStateRegistry *machine(Dev *dev, uint8_t *ram)
{
    VMStateRegistry *reg = vmstate_registry_new();
    CHECK(vmstate_registry_add(reg, "dev", 0, &vmstate_dev, dev, NULL));
    CHECK(vmstate_registry_add_ram(reg, "pc.ram", ram, RAM_SIZE, NULL));
    return reg;
}

typedef struct Listen { GSocketListener *listener; VMStateRegistry *reg; bool ok; GError *err; } Listen;

static gpointer listen_thread(gpointer opaque)
{
    Listen *l = opaque;
    l->ok = vmstate_registry_load_from_listener(l->reg, l->listener, 0, &l->err);
    return NULL;
}

/* Sends `bytes` to a vmstate_registry_load_from_listener of `reg` on loopback; with `multifd`,
 * a second connection sends a multifd channel's first bytes halfway and waits until it is closed.
 * Returns the load's result, `*err` its error. */
static bool over_listener(VMStateRegistry *reg, GBytes *bytes, bool multifd, GError **err)
{
    Listen l = { g_socket_listener_new(), reg, false, NULL };
    guint16 port = g_socket_listener_add_any_inet_port(l.listener, NULL, NULL);
    GThread *t = g_thread_new("destination", listen_thread, &l);
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *main_conn = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
    CHECK(main_conn != NULL);
    gsize n = g_bytes_get_size(bytes), half = n / 2;
    const char *data = g_bytes_get_data(bytes, NULL);
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(main_conn));
    CHECK(g_output_stream_write_all(out, data, half, NULL, NULL, NULL));
    if (multifd) {
        static const unsigned char magic[8] = { 0x11, 0x22, 0x33, 0x44, 0, 0, 0, 1 };
        GSocketConnection *channel = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, NULL);
        CHECK(channel != NULL);
        CHECK(g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(channel)), magic, 8, NULL, NULL,
                                        NULL));
        char buf[16];
        while (g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(channel)), buf, sizeof buf, NULL,
                                   NULL) > 0) {
        }
        g_object_unref(channel);
    }
    CHECK(g_output_stream_write_all(out, data + half, n - half, NULL, NULL, NULL));
    g_thread_join(t);
    g_object_unref(main_conn);
    g_object_unref(client);
    g_socket_listener_close(l.listener);
    g_object_unref(l.listener);
    if (l.err) g_propagate_error(err, l.err);
    return l.ok;
}

int main(void)
{
    Dev dev = { 1, 2 }, dev2 = { 0, 0 };
    uint8_t *ram = g_malloc0(RAM_SIZE), *ram2 = g_malloc0(RAM_SIZE);
    for (int i = 0; i < RAM_SIZE; i += 8192) ram[i] = (uint8_t)(i >> 13);
    Log log = { {0}, false };
    VMStateRegistry *src = machine(&dev, ram), *dst = machine(&dev2, ram2);
    vmstate_registry_set_dirty_log(src, dirty_log, &log);
    GError *err = NULL;

    /* A whole migration, RAM changing between passes, then a failing dirty log. */
    GOutputStream *out = g_memory_output_stream_new_resizable();
    VMStateMigration *mig = vmstate_migration_start(src, "m", out, &err);
    CHECK(mig != NULL);
    uint64_t pending = 1;
    CHECK(vmstate_migration_iterate(mig, &pending, &err) && pending == 0);
    guest_write(&log, ram, 4096 * 3, 0xabcdef01);
    log.fail = true;
    CHECK(!vmstate_migration_iterate(mig, &pending, &err) && err && pending == RAM_SIZE);
    g_clear_error(&err);
    log.fail = false;
    bool converged = false;
    CHECK(vmstate_migration_iterate_until(mig, 1000000, 3, &converged, &err) && converged);
    guest_write(&log, ram, 4096 * 7 + 12, 0x12345678);
    dev.b = 99;
    CHECK(vmstate_migration_complete(mig, &err));
    VMStateMigrationStats st;
    vmstate_migration_get_stats(mig, &st);
    CHECK(st.passes == 2 && st.pages_sent == 2 * NPAGES + 1 && st.pending_bytes == 0);
    vmstate_migration_free(mig);
    CHECK(g_output_stream_close(out, NULL, NULL));
    GBytes *bytes = g_memory_output_stream_steal_as_bytes(G_MEMORY_OUTPUT_STREAM(out));
    g_object_unref(out);
    GInputStream *in = g_memory_input_stream_new_from_bytes(bytes);
    CHECK(vmstate_registry_load_from_stream(dst, in, 0, &err));
    g_object_unref(in);
    CHECK(memcmp(ram, ram2, RAM_SIZE) == 0 && dev2.a == 1 && dev2.b == 99);

    /* The destination's stream cut in the middle of the RAM. */
    GBytes *cut = g_bytes_new_from_bytes(bytes, 0, g_bytes_get_size(bytes) / 2);
    in = g_memory_input_stream_new_from_bytes(cut);
    CHECK(!vmstate_registry_load_from_stream(dst, in, 0, &err) && err);
    g_clear_error(&err);
    g_object_unref(in);
    g_bytes_unref(cut);

    /* On a listening socket: alone it loads; beside a multifd channel it fails, naming it. */
    memset(ram2, 0, RAM_SIZE);
    dev2.b = 0;
    CHECK(over_listener(dst, bytes, false, &err) && !err);
    CHECK(memcmp(ram, ram2, RAM_SIZE) == 0 && dev2.b == 99);
    g_clear_error(&err);
    CHECK(!over_listener(dst, bytes, true, &err) && err && err->code == VMSTATE_ERROR_BAD_STREAM &&
          strstr(err->message, "capability multifd is on"));
    g_clear_error(&err);
    g_bytes_unref(bytes);

    /* A stream that fails in the middle of the first pass (room for 64 KiB). */
    void *room = g_malloc(65536);
    out = g_memory_output_stream_new(room, 65536, NULL, NULL);
    mig = vmstate_migration_start(src, "m", out, &err);
    CHECK(mig != NULL);
    CHECK(!vmstate_migration_iterate(mig, &pending, &err) && err && err->domain == G_IO_ERROR);
    g_clear_error(&err);
    CHECK(!vmstate_migration_complete(mig, &err) && err);
    g_clear_error(&err);
    vmstate_migration_free(mig);
    g_object_unref(out);
    g_free(room);

    vmstate_registry_free(src);
    vmstate_registry_free(dst);
    g_free(ram);
    g_free(ram2);
    if (failures == 0) printf("live migration: 6 scenarios as expected\n");
    return failures ? 1 : 0;
}
