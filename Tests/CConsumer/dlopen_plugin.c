/* A device model in a plugin (a shared object that links libswiftvmstate), for dlopen_host.c.
 * Built twice: as is, and with -DPLUGIN_OTHER, which saves the same struct's fields in another
 * order under the same name. Both builds lay out the same (same table length, same name), so a
 * host that unloads one and loads the other finds the second's table where the first's was.
 * plugin_run(seed) saves the device with vmstate_save_to_bytes, compares the bytes with the
 * wire bytes its own table gives (big-endian, in its order), loads them into a fresh struct
 * with vmstate_load_from_bytes and returns 0 when all came back. */
#include <stdio.h>
#include <string.h>

#include "migration/vmstate.h"

typedef struct PluginDev {
    uint8_t mode;
    uint32_t count;
    uint64_t base;
    uint16_t regs[8];
} PluginDev;

static const VMStateDescription vmstate_plugin_dev = {
    .name = "plugin-dev",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
#ifdef PLUGIN_OTHER
        VMSTATE_UINT64(base, PluginDev),
        VMSTATE_UINT16_ARRAY(regs, PluginDev, 8),
        VMSTATE_UINT32(count, PluginDev),
        VMSTATE_UINT8(mode, PluginDev),
#else
        VMSTATE_UINT8(mode, PluginDev),
        VMSTATE_UINT32(count, PluginDev),
        VMSTATE_UINT64(base, PluginDev),
        VMSTATE_UINT16_ARRAY(regs, PluginDev, 8),
#endif
        VMSTATE_END_OF_LIST(),
    },
};

const void *plugin_vmsd(void)
{
    return &vmstate_plugin_dev;
}

static size_t put_be(uint8_t *out, uint64_t value, int bytes)
{
    for (int i = 0; i < bytes; i++) {
        out[i] = (uint8_t)(value >> (8 * (bytes - 1 - i)));
    }
    return (size_t)bytes;
}

int plugin_run(unsigned seed)
{
    PluginDev saved = {.mode = (uint8_t)seed, .count = seed * 7u, .base = (uint64_t)seed << 40};
    PluginDev loaded;
    uint8_t want[1 + 4 + 8 + 16];
    size_t n = 0;
    GError *error = NULL;
    for (int i = 0; i < 8; i++) {
        saved.regs[i] = (uint16_t)(seed + i);
    }
#ifdef PLUGIN_OTHER
    n += put_be(want + n, saved.base, 8);
    for (int i = 0; i < 8; i++) {
        n += put_be(want + n, saved.regs[i], 2);
    }
    n += put_be(want + n, saved.count, 4);
    n += put_be(want + n, saved.mode, 1);
#else
    n += put_be(want + n, saved.mode, 1);
    n += put_be(want + n, saved.count, 4);
    n += put_be(want + n, saved.base, 8);
    for (int i = 0; i < 8; i++) {
        n += put_be(want + n, saved.regs[i], 2);
    }
#endif
    GByteArray *bytes = vmstate_save_to_bytes(&vmstate_plugin_dev, &saved, NULL, &error);
    if (!bytes) {
        fprintf(stderr, "plugin: save failed: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    if (bytes->len != n || memcmp(bytes->data, want, n) != 0) {
        fprintf(stderr, "plugin: saved %u bytes that are not its table's\n", bytes->len);
        g_byte_array_unref(bytes);
        return 1;
    }
    memset(&loaded, 0, sizeof(loaded));
    GBytes *input = g_byte_array_free_to_bytes(bytes);
    bool ok = vmstate_load_from_bytes(&vmstate_plugin_dev, &loaded, 1, input, &error);
    g_bytes_unref(input);
    if (!ok) {
        fprintf(stderr, "plugin: load failed: %s\n", error->message);
        g_error_free(error);
        return 1;
    }
    return memcmp(&saved, &loaded, sizeof(saved)) == 0 ? 0 : 1;
}
