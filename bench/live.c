/* Benchmark (not a test) behind scripts/bench-live: a live migration of RAM_MIB MiB over loopback
 * TCP while a "guest" thread writes DIRTY_MIB_PER_S MiB/s of RAM (4096-byte pages at random, each
 * marked in an atomic dirty bitmap that the dirty log exchanges for zeros), with the bandwidth
 * limited to MAX_BANDWIDTH bytes/s; passes until the expected downtime is at most
 * DOWNTIME_LIMIT_MS (at most 30 passes). The destination (vmstate_registry_load_from_stream on
 * another thread) must end with the source's RAM. Prints one line of JSON.
 *
 *   live RAM_MIB DIRTY_MIB_PER_S MAX_BANDWIDTH DOWNTIME_LIMIT_MS
 */
#include <gio/gio.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migration/vmstate.h"
#include "migration/vmstate-registry.h"

typedef struct Dev { uint32_t a; } Dev;
static const VMStateDescription vmstate_dev = {
    .name = "bench-dev", .version_id = 1, .minimum_version_id = 1,
    .fields = (VMStateField[]) { VMSTATE_UINT32(a, Dev), VMSTATE_END_OF_LIST() },
};

#define BITS (8 * sizeof(unsigned long))

static uint8_t *ram;
static size_t npages;
static _Atomic unsigned long *dirty;
static atomic_bool stop_guest;
static double dirty_rate; /* bytes per second */
static uint64_t guest_writes;

static gpointer guest(gpointer unused) {
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    gint64 t0 = g_get_monotonic_time();
    while (!atomic_load(&stop_guest)) {
        double allowed = dirty_rate * (double)(g_get_monotonic_time() - t0) / 1e6;
        if ((double)guest_writes * 4096 >= allowed) { g_usleep(200); continue; }
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        size_t page = (size_t)(x % npages);
        atomic_fetch_or(&dirty[page / BITS], 1UL << (page % BITS));
        memset(ram + page * 4096, (int)(x >> 56) | 1, 4096);
        guest_writes++;
    }
    return unused;
}

static bool dirty_log(const char *block, unsigned long *bitmap, size_t n, void *opaque) {
    for (size_t w = 0; w < (n + BITS - 1) / BITS; w++) bitmap[w] = atomic_exchange(&dirty[w], 0);
    (void)block; (void)opaque;
    return true;
}

typedef struct Dest { GSocketListener *listener; VMStateRegistry *reg; bool ok; char *error; } Dest;

static gpointer destination(gpointer p) {
    Dest *d = p;
    GError *err = NULL;
    GSocketConnection *c = g_socket_listener_accept(d->listener, NULL, NULL, &err);
    d->ok = c && vmstate_registry_load_from_stream(d->reg, g_io_stream_get_input_stream(G_IO_STREAM(c)), 0, &err);
    if (err) d->error = g_strdup(err->message);
    g_clear_error(&err);
    if (c) g_object_unref(c);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: live RAM_MIB DIRTY_MIB_PER_S MAX_BANDWIDTH DOWNTIME_LIMIT_MS\n"); return 2; }
    size_t size = (size_t)strtoull(argv[1], NULL, 0) << 20;
    dirty_rate = strtod(argv[2], NULL) * (1 << 20);
    uint64_t bandwidth = strtoull(argv[3], NULL, 0), limit_us = strtoull(argv[4], NULL, 0) * 1000;
    npages = size / 4096;
    ram = g_malloc0(size);
    uint8_t *ram2 = g_malloc0(size);
    dirty = g_new0(_Atomic unsigned long, (npages + BITS - 1) / BITS);
    Dev dev = {42}, dev2 = {0};
    GError *err = NULL;
    VMStateRegistry *src = vmstate_registry_new(), *dst = vmstate_registry_new();
    vmstate_registry_add(src, "bench-dev", 0, &vmstate_dev, &dev, NULL);
    vmstate_registry_add(dst, "bench-dev", 0, &vmstate_dev, &dev2, NULL);
    vmstate_registry_add_ram(src, "pc.ram", ram, size, NULL);
    vmstate_registry_add_ram(dst, "pc.ram", ram2, size, NULL);
    vmstate_registry_set_dirty_log(src, dirty_log, NULL);

    Dest d = {g_socket_listener_new(), dst, false, NULL};
    guint16 port = g_socket_listener_add_any_inet_port(d.listener, NULL, &err);
    GThread *dt = g_thread_new("destination", destination, &d);
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *conn = g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, &err);
    if (!conn) { fprintf(stderr, "connect: %s\n", err->message); return 1; }
    GThread *gt = g_thread_new("guest", guest, NULL);
    g_usleep(100000);

    VMStateMigration *mig = vmstate_migration_start(src, "bench", g_io_stream_get_output_stream(G_IO_STREAM(conn)), &err);
    bool converged = false, ok = mig != NULL;
    if (ok) {
        vmstate_migration_set_max_bandwidth(mig, bandwidth);
        ok = vmstate_migration_iterate_until(mig, limit_us, 30, &converged, &err);
    }
    atomic_store(&stop_guest, true); /* the guest stops */
    g_thread_join(gt);
    ok = ok && vmstate_migration_complete(mig, &err);
    VMStateMigrationStats st = {0};
    if (mig) vmstate_migration_get_stats(mig, &st);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    g_thread_join(dt);
    bool same = ok && d.ok && memcmp(ram, ram2, size) == 0 && dev2.a == 42;
    printf("{\"ram_mib\": %zu, \"dirty_mib_per_s\": %s, \"max_bandwidth\": %" PRIu64 ", \"converged\": %s, "
           "\"passes\": %" PRIu64 ", \"pages_sent\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"total_ms\": %.1f, "
           "\"downtime_ms\": %.2f, \"destination_identical\": %s%s%s%s}\n",
           size >> 20, argv[2], bandwidth, converged ? "true" : "false", st.passes, st.pages_sent, st.bytes_sent,
           st.total_us / 1e3, st.downtime_us / 1e3, same ? "true" : "false",
           err || d.error ? ", \"error\": \"" : "", err ? err->message : d.error ? d.error : "", err || d.error ? "\"" : "");
    vmstate_migration_free(mig);
    return same ? 0 : 1;
}
