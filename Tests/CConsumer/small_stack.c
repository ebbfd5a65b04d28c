/*
 * A registry load on a thread with 64 KiB of stack, the least docs/C-API.md allows, built
 * against the installed (release) library by scripts/checks/example.sh: a real QEMU stream
 * (argv[1..]) loads with VMSTATE_LOAD_KEEP_UNKNOWN into an empty registry, which parses the
 * stream's vmdesc (13 or 14 levels of JSON) to keep its sections. Exit 0 when every stream
 * loads.
 */
#include "migration/vmstate-registry.h"
#include "migration/vmstate.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>

static void *load(void *arg)
{
    GBytes *in = arg;
    VMStateRegistry *reg = vmstate_registry_new();
    GError *err = NULL;
    bool ok = vmstate_registry_load(reg, in, VMSTATE_LOAD_KEEP_UNKNOWN, &err);
    if (!ok) {
        fprintf(stderr, "small_stack: %s\n", err->message);
        g_error_free(err);
    }
    vmstate_registry_free(reg);
    return ok ? arg : NULL;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        gchar *data = NULL;
        gsize len = 0;
        if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
            fprintf(stderr, "small_stack: cannot read %s\n", argv[i]);
            return 1;
        }
        GBytes *in = g_bytes_new_take(data, len);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 << 10);
        pthread_t thread;
        void *result = NULL;
        if (pthread_create(&thread, &attr, load, in) != 0 || pthread_join(thread, &result) != 0) {
            fprintf(stderr, "small_stack: no thread\n");
            return 1;
        }
        pthread_attr_destroy(&attr);
        g_bytes_unref(in);
        if (result == NULL) {
            fprintf(stderr, "small_stack: %s did not load on a 64 KiB stack\n", argv[i]);
            return 1;
        }
    }
    return 0;
}
