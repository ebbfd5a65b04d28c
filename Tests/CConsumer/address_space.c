/*
 * vmstate_registry_save of a 3 GiB guest whose RAM is zero but for a few pages, into a
 * GByteArray, under an address-space limit (RLIMIT_AS) of what the process maps plus 256 MiB:
 * the buffer must grow to the stream's size (about 7 MiB: 9 bytes a zero page), not to the RAM's
 * (GLib aborts when it cannot allocate). The stream must then load back into a second 3 GiB
 * registry with the same pages. Run by scripts/checks/c-consumer.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "migration/vmstate-registry.h"

#define RAM_SIZE ((size_t)3 << 30)
#define PAGE 4096

/* The process's mapped address space in bytes (VmSize of /proc/self/status), or 0. */
static size_t mapped_bytes(void) {
    FILE *status = fopen("/proc/self/status", "r");
    char line[256];
    size_t kib = 0;
    while (status && fgets(line, sizeof line, status)) {
        if (sscanf(line, "VmSize: %zu kB", &kib) == 1) break;
    }
    if (status) fclose(status);
    return kib * 1024;
}

static void *guest_ram(void) {
    void *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    return ram;
}

int main(void) {
    unsigned char *ram = guest_ram(), *back = guest_ram();
    /* Three non-zero pages: the first, one past 2 GiB, the last. */
    size_t pages[] = {0, ((size_t)2 << 30) + 5 * PAGE, RAM_SIZE - PAGE};
    for (size_t i = 0; i < 3; i++) memset(ram + pages[i], 0xa0 + (int)i, PAGE);
    GError *err = NULL;
    VMStateRegistry *reg = vmstate_registry_new();
    VMStateRegistry *loaded = vmstate_registry_new();
    if (!vmstate_registry_add_ram(reg, "pc.ram", ram, RAM_SIZE, &err) ||
        !vmstate_registry_add_ram(loaded, "pc.ram", back, RAM_SIZE, &err)) {
        printf("FAIL - address_space: add_ram: %s\n", err->message);
        return 1;
    }
    GByteArray *out = g_byte_array_new();
    struct rlimit limit = {mapped_bytes() + ((size_t)256 << 20), RLIM_INFINITY};
    if (limit.rlim_cur == 256u << 20 || setrlimit(RLIMIT_AS, &limit) != 0) {
        perror("address_space: setrlimit");
        return 2;
    }
    if (!vmstate_registry_save(reg, "pc", out, &err)) {
        printf("FAIL - address_space: save: %s\n", err->message);
        return 1;
    }
    /* The RAM END records: 786,429 zero pages of 9 bytes, 3 of 4,104, the block's name once. */
    size_t records = (RAM_SIZE / PAGE - 3) * 9 + 3 * (8 + PAGE) + 1 + strlen("pc.ram");
    if (out->len < records || out->len > records + 4096) {
        printf("FAIL - address_space: the stream is %u bytes, expected %zu and its headers\n", out->len, records);
        return 1;
    }
    GBytes *in = g_byte_array_free_to_bytes(out);
    if (!vmstate_registry_load(loaded, in, 0, &err)) {
        printf("FAIL - address_space: load: %s\n", err->message);
        return 1;
    }
    for (size_t i = 0; i < 3; i++) {
        if (memcmp(ram + pages[i], back + pages[i], PAGE) != 0) {
            printf("FAIL - address_space: page at %#zx loaded differently\n", pages[i]);
            return 1;
        }
    }
    g_bytes_unref(in);
    vmstate_registry_free(reg);
    vmstate_registry_free(loaded);
    printf("ok - a 3 GiB guest mostly zero saves into a GByteArray within 256 MiB of address space\n");
    return 0;
}
