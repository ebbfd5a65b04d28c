/* A device model in a plugin (a shared object that links libswiftvmstate), for dlopen_host.c:
 * plugin_run(seed) saves a small device with vmstate_save_to_bytes, loads the bytes into a fresh
 * struct with vmstate_load_from_bytes and returns 0 when every field came back. */
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
        VMSTATE_UINT8(mode, PluginDev),
        VMSTATE_UINT32(count, PluginDev),
        VMSTATE_UINT64(base, PluginDev),
        VMSTATE_UINT16_ARRAY(regs, PluginDev, 8),
        VMSTATE_END_OF_LIST(),
    },
};

int plugin_run(unsigned seed)
{
    PluginDev saved = {.mode = (uint8_t)seed, .count = seed * 7u, .base = (uint64_t)seed << 40};
    PluginDev loaded;
    GError *error = NULL;
    for (int i = 0; i < 8; i++) {
        saved.regs[i] = (uint16_t)(seed + i);
    }
    GByteArray *bytes = vmstate_save_to_bytes(&vmstate_plugin_dev, &saved, NULL, &error);
    if (!bytes) {
        fprintf(stderr, "plugin: save failed: %s\n", error->message);
        g_error_free(error);
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
