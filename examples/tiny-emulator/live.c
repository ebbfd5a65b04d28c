/*
 * Live migration of the tiny machine over TCP (pre-copy, QEMU 7.2's stream):
 *
 *   tiny-emulator [--steps N] [--seed S] --incoming tcp:HOST:PORT   (start this one first)
 *   tiny-emulator [--steps N] [--seed S] --migrate tcp:HOST:PORT
 *
 * The source runs N steps, starts the migration, and then sends LIVE_PASSES passes of dirty
 * pages while the guest keeps running LIVE_STEPS steps after each pass; then it stops the guest
 * and completes (last dirty pages, every device). Its dirty log compares each RAM page with a
 * shadow copy taken when the page was last reported: every page the guest wrote since is
 * reported. The destination loads the stream as it arrives into a freshly reset machine and
 * compares it, as restore does, with a machine that ran the same N + LIVE_PASSES * LIVE_STEPS
 * steps. Exit status: 0 identical, 1 an error or a difference.
 */
#include <gio/gio.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tiny.h"

#define LIVE_PASSES 4
#define LIVE_STEPS 500
#define LIVE_CONTINUE_STEPS 1000

int live_migrate(uint64_t seed, unsigned steps, const char *uri);
int live_incoming(uint64_t seed, unsigned steps, const char *uri);

/* "tcp:HOST:PORT" into its host (caller frees) and port; false when it is not one. */
static bool parse_uri(const char *uri, char **host, guint16 *port) {
    if (strncmp(uri, "tcp:", 4) != 0) return false;
    const char *colon = strrchr(uri + 4, ':');
    if (colon == NULL || colon == uri + 4) return false;
    char *end = NULL;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || p == 0 || p > 65535) return false;
    *host = g_strndup(uri + 4, (gsize)(colon - uri - 4));
    *port = (guint16)p;
    return true;
}

typedef struct ShadowLog {
    const uint8_t *ram;
    uint8_t *shadow;
} ShadowLog;

/* The dirty log: pages that differ from the shadow copy, which is then brought up to date. */
static bool shadow_dirty_log(const char *block, unsigned long *bitmap, size_t npages, void *opaque) {
    ShadowLog *log = opaque;
    if (strcmp(block, TINY_RAM_BLOCK) != 0 || npages != TINY_RAM_SIZE / 4096) return false;
    const size_t bits = 8 * sizeof(unsigned long);
    for (size_t i = 0; i < npages; i++) {
        if (memcmp(log->ram + i * 4096, log->shadow + i * 4096, 4096) != 0) {
            bitmap[i / bits] |= 1UL << (i % bits);
            memcpy(log->shadow + i * 4096, log->ram + i * 4096, 4096);
        }
    }
    return true;
}

int live_migrate(uint64_t seed, unsigned steps, const char *uri) {
    char *host = NULL;
    guint16 port = 0;
    if (!parse_uri(uri, &host, &port)) {
        fprintf(stderr, "tiny-emulator: --migrate wants tcp:HOST:PORT, not %s\n", uri);
        return 2;
    }
    Machine m;
    machine_init(&m, seed);
    machine_run(&m, steps);
    ShadowLog log = {m.ram, g_memdup2(m.ram, TINY_RAM_SIZE)};
    GError *err = NULL;
    int status = 1;
    VMStateRegistry *reg = vmstate_registry_new();
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *conn = NULL;
    VMStateMigration *mig = NULL;
    if (!machine_register(&m, reg, &err) ||
        !(conn = g_socket_client_connect_to_host(client, host, port, NULL, &err))) {
        goto out;
    }
    vmstate_registry_set_dirty_log(reg, shadow_dirty_log, &log);
    mig = vmstate_migration_start(reg, TINY_MACHINE_TYPE, g_io_stream_get_output_stream(G_IO_STREAM(conn)), &err);
    if (!mig) goto out;
    printf("tiny-emulator: ran %u steps from seed 0x%" PRIx64 ", migrating live to %s\n", steps, seed, uri);
    VMStateMigrationStats st;
    for (int pass = 1; pass <= LIVE_PASSES; pass++) {
        uint64_t pending = 0;
        if (!vmstate_migration_iterate(mig, &pending, &err)) goto out;
        vmstate_migration_get_stats(mig, &st);
        printf("  pass %d: %" PRIu64 " pages (%" PRIu64 " bytes) in %" PRIu64 " us; guest runs %u steps\n",
               pass, st.last_pass_pages, st.last_pass_bytes, st.last_pass_us, LIVE_STEPS);
        machine_run(&m, LIVE_STEPS);
    }
    if (!vmstate_migration_complete(mig, &err)) goto out;
    vmstate_migration_get_stats(mig, &st);
    printf("  guest stopped; last pass and devices: downtime %" PRIu64 " us\n", st.downtime_us);
    printf("migrated: %" PRIu64 " passes, %" PRIu64 " page records (%" PRIu64 " zero), %" PRIu64
           " bytes, %" PRIu64 " us in all; the guest ran %u steps\n",
           st.passes, st.pages_sent, st.zero_pages, st.bytes_sent, st.total_us, steps + LIVE_PASSES * LIVE_STEPS);
    status = 0;
out:
    if (err) fprintf(stderr, "tiny-emulator: migration to %s failed: %s\n", uri, err->message);
    g_clear_error(&err);
    vmstate_migration_free(mig);
    if (conn) {
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    }
    g_object_unref(client);
    vmstate_registry_free(reg);
    g_free(log.shadow);
    g_free(host);
    machine_finalize(&m);
    return status;
}

int live_incoming(uint64_t seed, unsigned steps, const char *uri) {
    char *host = NULL;
    guint16 port = 0;
    if (!parse_uri(uri, &host, &port)) {
        fprintf(stderr, "tiny-emulator: --incoming wants tcp:HOST:PORT, not %s\n", uri);
        return 2;
    }
    GError *err = NULL;
    int status = 1;
    GSocketListener *listener = g_socket_listener_new();
    GSocketAddress *address = g_inet_socket_address_new_from_string(host, port);
    Machine want, got;
    machine_init(&got, 0);
    VMStateRegistry *reg = vmstate_registry_new();
    if (!address || !g_socket_listener_add_address(listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                                   NULL, NULL, &err)) {
        if (!err) err = g_error_new(G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "bad address %s", host);
        goto out;
    }
    printf("tiny-emulator: waiting for a migration on %s\n", uri);
    fflush(stdout);
    /* Accepts the source's connection and loads it; a second connection (a QEMU source's multifd
     * channels) is closed and fails the load instead of leaving RAM pages unread. */
    if (!machine_register(&got, reg, &err) || !vmstate_registry_load_from_listener(reg, listener, 0, &err)) {
        goto out;
    }
    unsigned total = steps + LIVE_PASSES * LIVE_STEPS;
    machine_init(&want, seed);
    machine_run(&want, total);
    printf("received machine %s live into a freshly reset machine; expected state = %u steps:\n",
           vmstate_registry_machine_type(reg), total);
    int diffs = machine_compare(&want, &got, true);
    if (diffs == 0) {
        machine_run(&want, LIVE_CONTINUE_STEPS);
        machine_run(&got, LIVE_CONTINUE_STEPS);
        diffs = machine_compare(&want, &got, false);
        printf("  both machines ran %u more steps: %s\n", LIVE_CONTINUE_STEPS, diffs ? "they DIFFER" : "still identical");
    }
    printf("incoming: %s\n", diffs ? "FAILED, the machines differ" : "OK, every device field and all RAM identical");
    status = diffs ? 1 : 0;
    machine_finalize(&want);
out:
    if (err) fprintf(stderr, "tiny-emulator: incoming migration on %s failed: %s\n", uri, err->message);
    g_clear_error(&err);
    if (address) g_object_unref(address);
    g_socket_listener_close(listener);
    g_object_unref(listener);
    vmstate_registry_free(reg);
    machine_finalize(&got);
    g_free(host);
    return status;
}
