/*
 * A live migration with QEMU at both ends and this library in the middle: QEMU migrates to the
 * relay, which loads the stream into its registry and migrates it on to a second QEMU.
 *
 *   relay LISTEN_PORT DEST_HOST:PORT BLOCK=LENGTH...
 *
 * BLOCK=LENGTH registers one RAM block of the source's machine (its name, and its length in
 * bytes, decimal or 0x hex): every block the source sends, as `vmstate analyze` of a stream of
 * that machine lists them under "section sizes" (`-M pc -m 16`: pc.ram=0x1000000
 * /rom@etc/acpi/tables=0x20000 pc.bios=0x40000 pc.rom=0x20000 /rom@etc/table-loader=0x1000
 * /rom@etc/acpi/rsdp=0x1000). The devices are kept as unknown sections (VMSTATE_LOAD_KEEP_UNKNOWN)
 * and written back as they came. Start the destination QEMU with `-incoming tcp:DEST_HOST:PORT`
 * first, then the relay, and once it prints "listening" give the source QEMU
 * `migrate tcp:127.0.0.1:LISTEN_PORT`.
 *
 * The relay connects to the destination before it listens, so a destination that is not there
 * stops it before the source has migrated (QEMU's `-incoming` waits on an idle connection). Its
 * guest does not run, so it sets no dirty log: vmstate_migration_start counts every page dirty
 * and vmstate_migration_complete sends them all with the devices once the source's migration has
 * come in whole (QEMU's source has then completed and stays stopped). A failure on the way is
 * printed and ends the relay with status 1; a destination QEMU that refuses the stream closes
 * the connection without a word on it, so the relay can only say so and point at QEMU's error.
 *
 * Build: cc relay.c $(pkg-config --cflags --libs vmstate) -o relay (README, "C quick start").
 */
#include "migration/vmstate-registry.h"

#include <gio/gio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(GError *err) {
    fprintf(stderr, "relay: %s\n", err->message);
    return 1;
}

/* A failed send to the destination: a closed connection is the destination QEMU refusing what it
 * read (QEMU sends no reason back on a migration without a return path). */
static int fail_sending(GError *err, const char *dest) {
    fprintf(stderr, "relay: %s\n", err->message);
    if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
        g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        fprintf(stderr,
                "relay: the destination at %s closed the connection: its QEMU refused the stream, "
                "and its own error output says why (such as \"Size mismatch\" or \"Unknown ramblock\" "
                "for another -m or other devices, \"Machine type received is ...\" for another -M: "
                "start it as the source)\n",
                dest);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: relay LISTEN_PORT DEST_HOST:PORT BLOCK=LENGTH...\n");
        return 2;
    }
    GError *err = NULL;
    VMStateRegistry *reg = vmstate_registry_new();
    for (int i = 3; i < argc; i++) {
        char *eq = strrchr(argv[i], '='), *end = NULL;
        guint64 length = eq ? g_ascii_strtoull(eq + 1, &end, 0) : 0;
        if (!eq || eq == argv[i] || end == eq + 1 || *end != '\0' || length == 0 || length > G_MAXSIZE) {
            fprintf(stderr, "relay: %s is not BLOCK=LENGTH\n", argv[i]);
            return 2;
        }
        char *name = g_strndup(argv[i], (gsize)(eq - argv[i]));
        /* The memory stays allocated while the registry is used (until exit here). */
        if (!vmstate_registry_add_ram(reg, name, g_malloc0(length), length, &err))
            return fail(err);
        g_free(name);
    }

    /* Out first: the connection to the destination QEMU, idle until the stream is in. */
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *conn = g_socket_client_connect_to_host(client, argv[2], 0, NULL, &err);
    if (!conn) {
        fprintf(stderr, "relay: cannot connect to the destination %s: %s", argv[2], err->message);
        /* Nothing listens there: the destination QEMU is not started (yet). */
        if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
            fprintf(stderr, " (start it first, with -incoming tcp:%s)", argv[2]);
        fprintf(stderr, "\n");
        return 1;
    }

    /* In: the source QEMU's live migration, RAM pages into the blocks as they arrive. */
    GSocketListener *listener = g_socket_listener_new();
    if (!g_socket_listener_add_inet_port(listener, (guint16)atoi(argv[1]), NULL, &err))
        return fail(err);
    printf("listening\n"); /* the source may migrate from now on */
    fflush(stdout);
    if (!vmstate_registry_load_from_listener(reg, listener, VMSTATE_LOAD_KEEP_UNKNOWN, &err))
        return fail(err);
    /* NULL for a stream without a configuration section (pc-i440fx-2.3 and older). */
    const char *machine = vmstate_registry_machine_type(reg);
    printf("loaded a stream of machine type %s\n", machine ? machine : "(none: no configuration section)");
    fflush(stdout);

    /* Out: a live migration to the destination QEMU, for the machine type that came in. */
    VMStateMigration *mig =
        vmstate_migration_start(reg, NULL, g_io_stream_get_output_stream(G_IO_STREAM(conn)), &err);
    if (!mig || !vmstate_migration_complete(mig, &err))
        return fail_sending(err, argv[2]);
    VMStateMigrationStats stats;
    vmstate_migration_get_stats(mig, &stats);
    printf("sent %llu bytes, %llu pages (%llu zero)\n", (unsigned long long)stats.bytes_sent,
           (unsigned long long)stats.pages_sent, (unsigned long long)stats.zero_pages);
    vmstate_migration_free(mig);
    g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
    g_object_unref(conn);
    g_object_unref(client);
    g_object_unref(listener);
    vmstate_registry_free(reg);
    return 0;
}
