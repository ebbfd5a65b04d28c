/* A host that loads device plugins (dlopen_plugin.c) the way emulators with loadable modules do:
 * dlopen, run, dlclose, then dlopen and run again. The Swift runtime inside libswiftvmstate keeps
 * records of every image it has seen and cannot forget an unloaded one: were the library unmapped
 * by dlclose and mapped elsewhere by the second dlopen, the runtime would read the stale records
 * and crash. The library is therefore linked with `-z nodelete` (scripts/lib.sh): it must still
 * be mapped after dlclose, and the second run must work. Between the two loads the host reserves
 * the library's old address range when it is free (what any allocation of the host may do), so a
 * library that was unmapped is mapped elsewhere. Usage: dlopen_host PLUGIN.so; exit 0 when both
 * runs succeed and the library stayed mapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

static uintptr_t lib_start, lib_end;

static int find_library(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    (void)data;
    if (!strstr(info->dlpi_name, "libswiftvmstate")) {
        return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; i++) {
        if (info->dlpi_phdr[i].p_type != PT_LOAD) {
            continue;
        }
        uintptr_t start = info->dlpi_addr + info->dlpi_phdr[i].p_vaddr;
        uintptr_t end = start + info->dlpi_phdr[i].p_memsz;
        if (!lib_start || start < lib_start) {
            lib_start = start;
        }
        if (end > lib_end) {
            lib_end = end;
        }
    }
    return 0;
}

static int load_and_run(const char *plugin, unsigned seed)
{
    void *handle = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*run)(unsigned) = (int (*)(unsigned))dlsym(handle, "plugin_run");
    int status = run ? run(seed) : 1;
    printf("run %u: %s\n", seed, status == 0 ? "ok" : "FAILED");
    lib_start = lib_end = 0;
    dl_iterate_phdr(find_library, NULL);
    dlclose(handle);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: dlopen_host PLUGIN.so\n");
        return 2;
    }
    if (load_and_run(argv[1], 1) != 0 || !lib_start) {
        return 1;
    }
    uintptr_t old_start = lib_start & ~(uintptr_t)4095, old_end = (lib_end + 4095) & ~(uintptr_t)4095;
    lib_start = lib_end = 0;
    dl_iterate_phdr(find_library, NULL);
    bool still_mapped = lib_start != 0;
    printf("after dlclose: libswiftvmstate %s\n", still_mapped ? "still mapped" : "UNMAPPED");
    if (!still_mapped) {
        /* Keep the old range from the second dlopen: the library lands elsewhere. */
        mmap((void *)old_start, old_end - old_start, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
             -1, 0);
    }
    fflush(stdout);
    if (load_and_run(argv[1], 2) != 0) {
        return 1;
    }
    return still_mapped ? 0 : 1;
}
