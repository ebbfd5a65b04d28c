/* How many shared objects the process has unloaded, for the plan cache (Plan.swift, Planner):
 * its plans are keyed by the addresses of C tables, which a dlclose of a device plugin frees
 * and a later dlopen may fill with another plugin's tables. glibc counts unloads in
 * dl_iterate_phdr's dlpi_subs (the counter libgcc's unwinder keys its own cache on); the first
 * object's record is enough. 0 where the C library gives no such counter. */
#define _GNU_SOURCE
#include <link.h>
#include <stddef.h>

#include "vmstate-internal.h"

static int read_unloads(struct dl_phdr_info *info, size_t size, void *data)
{
    if (size >= offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs)) {
        *(unsigned long long *)data = info->dlpi_subs;
    }
    return 1; /* the first object's record holds the counter */
}

uint64_t vmstate_unloaded_objects(void)
{
    unsigned long long unloads = 0;
    dl_iterate_phdr(read_unloads, &unloads);
    return unloads;
}
