/* "fw_cfg": the firmware configuration interface (QEMU's hw/nvram/fw_cfg.c). */
#include <unistd.h>

#include "pc_internal.h"

/*
 * Version 1 streams carried cur_offset as 16 bits. QEMU reads them with a private
 * VMStateInfo named "int32_as_uint16" into the 32-bit member; its put writes nothing (the field
 * only exists at version 1, which is never saved). Same here.
 */
static int pc_get_uint32_as_uint16(QEMUFile *f, void *pv, size_t size,
                                   const VMStateField *field) {
    uint32_t *v = pv;
    (void)size;
    (void)field;
    *v = qemu_get_be16(f);
    return 0;
}

static int pc_put_uint32_as_uint16_unused(QEMUFile *f, void *pv, size_t size,
                                          const VMStateField *field, JSONWriter *vmdesc) {
    (void)f;
    (void)pv;
    (void)size;
    (void)field;
    (void)vmdesc;
    return 0;
}

static const VMStateInfo pc_info_uint32_as_uint16 = {
    .name = "int32_as_uint16",
    .get = pc_get_uint32_as_uint16,
    .put = pc_put_uint32_as_uint16_unused,
};

static bool pc_fw_cfg_is_version_1(void *opaque, int version_id) {
    (void)opaque;
    return version_id == 1;
}

static bool pc_fw_cfg_dma_enabled(void *opaque) {
    const PcFWCfgState *s = opaque;
    return s->dma_enabled;
}

/* The sizes of the ACPI blobs only need sending when they are not whole host pages. */
static bool pc_fw_cfg_acpi_mr_needed(void *opaque) {
    const PcFWCfgState *s = opaque;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t mask = (uint64_t)(page > 0 ? page : 4096) - 1;
    bool aligned = (s->table_mr_size & mask) == 0 && (s->linker_mr_size & mask) == 0 &&
                   (s->rsdp_mr_size & mask) == 0;
    return s->acpi_mr_restore && !aligned;
}

static const VMStateDescription pc_vmstate_fw_cfg_dma = {
    .name = "fw_cfg/dma",
    .needed = pc_fw_cfg_dma_enabled,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(dma_addr, PcFWCfgState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fw_cfg_acpi_mr = {
    .name = "fw_cfg/acpi_mr",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fw_cfg_acpi_mr_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(table_mr_size, PcFWCfgState),
        VMSTATE_UINT64(linker_mr_size, PcFWCfgState),
        VMSTATE_UINT64(rsdp_mr_size, PcFWCfgState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_fw_cfg = {
    .name = "fw_cfg",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(cur_entry, PcFWCfgState),
        VMSTATE_SINGLE_TEST(cur_offset, PcFWCfgState, pc_fw_cfg_is_version_1, 0,
                            pc_info_uint32_as_uint16, uint32_t),
        VMSTATE_UINT32_V(cur_offset, PcFWCfgState, 2),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_fw_cfg_dma,
        &pc_vmstate_fw_cfg_acpi_mr,
        NULL,
    },
};
