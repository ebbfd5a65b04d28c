/* A host that loads device plugins (dlopen_plugin.c) the way emulators with loadable modules do:
 * dlopen, run, dlclose, then another plugin, then the first again. Two things must hold:
 * - The Swift runtime inside libswiftvmstate keeps records of every image it has seen and cannot
 *   forget an unloaded one: were the library unmapped by dlclose and mapped elsewhere by the next
 *   dlopen, the runtime would read the stale records and crash. The library is therefore linked
 *   with `-z nodelete` (scripts/lib.sh): it must still be mapped after dlclose. (Were it not, the
 *   host reserves its old address range, so that it is mapped elsewhere.)
 * - The library plans each table once and keeps the plan by the table's address; the second
 *   plugin's table lands where the first's was (the two build alike), and must be saved by its
 *   own fields: the library drops its plans when a shared object is unloaded.
 * Usage: dlopen_host PLUGIN.so OTHER_PLUGIN.so; exit 0 when every run succeeds and the library
 * stayed mapped. */
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

static const void *table; /* the last plugin's table (plugin_vmsd) */

static int load_and_run(const char *plugin, unsigned seed)
{
    void *handle = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    int (*run)(unsigned) = (int (*)(unsigned))dlsym(handle, "plugin_run");
    const void *(*vmsd)(void) = (const void *(*)(void))dlsym(handle, "plugin_vmsd");
    int status = run && vmsd ? run(seed) : 1;
    table = vmsd ? vmsd() : NULL;
    printf("run %u: %s\n", seed, status == 0 ? "ok" : "FAILED");
    lib_start = lib_end = 0;
    dl_iterate_phdr(find_library, NULL);
    dlclose(handle);
    return status;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: dlopen_host PLUGIN.so OTHER_PLUGIN.so\n");
        return 2;
    }
    if (load_and_run(argv[1], 1) != 0 || !lib_start) {
        return 1;
    }
    const void *first = table;
    uintptr_t old_start = lib_start & ~(uintptr_t)4095, old_end = (lib_end + 4095) & ~(uintptr_t)4095;
    lib_start = lib_end = 0;
    dl_iterate_phdr(find_library, NULL);
    bool still_mapped = lib_start != 0;
    printf("after dlclose: libswiftvmstate %s\n", still_mapped ? "still mapped" : "UNMAPPED");
    if (!still_mapped) {
        /* Keep the old range from the next dlopen: the library lands elsewhere. */
        mmap((void *)old_start, old_end - old_start, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
             -1, 0);
    }
    fflush(stdout);
    int status = load_and_run(argv[2], 2);
    printf("the other plugin's table where the first's was: %s\n", table == first ? "yes" : "no");
    status |= load_and_run(argv[1], 3);
    return status == 0 && still_mapped ? 0 : 1;
}
