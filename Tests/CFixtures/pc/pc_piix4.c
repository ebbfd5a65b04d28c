/*
 * "piix4_pm": the PIIX4 power-management PCI function (QEMU's hw/acpi/piix4.c), with the ACPI
 * register blocks, APM (hw/isa/apm.c), SMBus (hw/i2c/pm_smbus.c), PCI hotplug
 * (hw/acpi/pcihp.c), memory hotplug (hw/acpi/memory_hotplug.c) and CPU hotplug (hw/acpi/cpu.c)
 * state it embeds.
 */
#include <string.h>

#include "pc_internal.h"

_Static_assert(sizeof(PcAPMState) == 304, "APMState is 304 bytes in QEMU 7.2");
_Static_assert(sizeof(PcPMSMBus) == 384, "PMSMBus is 384 bytes in QEMU 7.2");
_Static_assert(sizeof(PcACPIGPE) == 24, "ACPIGPE is 24 bytes in QEMU 7.2");
_Static_assert(sizeof(PcAcpiPciHpPciStatus) == 12, "AcpiPciHpPciStatus is 12 bytes in QEMU 7.2");
_Static_assert(sizeof(PcMemStatus) == 24, "MemStatus is 24 bytes in QEMU 7.2");
_Static_assert(sizeof(PcMemHotplugState) == 304, "MemHotplugState is 304 bytes in QEMU 7.2");
_Static_assert(sizeof(PcAcpiCpuStatus) == 32, "AcpiCpuStatus is 32 bytes in QEMU 7.2");
_Static_assert(sizeof(PcCPUHotplugState) == 304, "CPUHotplugState is 304 bytes in QEMU 7.2");

void pc_piix4_pm_init(PcPIIX4PMState *s) {
    memset(s, 0, sizeof(*s));
    pc_pci_device_init(&s->parent_obj);
    pc_timer_reset(&s->tmr_timer_storage, s);
    s->ar.tmr.timer = &s->tmr_timer_storage;
    s->ar.gpe.len = PC_PIIX4_GPE_LEN;
    s->ar.gpe.sts = s->gpe_sts_storage;
    s->ar.gpe.en = s->gpe_en_storage;
    s->smb.op_done = true;
    s->smbus_migration = true;
    s->use_acpi_hotplug_bridge = true;
    s->not_migrate_acpi_index = false;
    s->cpu_hotplug_legacy = true;
    s->cpuhp_state.dev_count = 1;
    s->cpuhp_state.devs = s->cpu_status_storage;
    s->acpi_memory_hotplug.is_enabled = true; /* the pc machine always has the interface */
}

/* ---- nested descriptions ----------------------------------------------------------------- */

static const VMStateDescription pc_vmstate_apm = {
    .name = "APM State",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(apmc, PcAPMState),
        VMSTATE_UINT8(apms, PcAPMState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_pmsmb = {
    .name = "pmsmb",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(smb_stat, PcPMSMBus),
        VMSTATE_UINT8(smb_ctl, PcPMSMBus),
        VMSTATE_UINT8(smb_cmd, PcPMSMBus),
        VMSTATE_UINT8(smb_addr, PcPMSMBus),
        VMSTATE_UINT8(smb_data0, PcPMSMBus),
        VMSTATE_UINT8(smb_data1, PcPMSMBus),
        VMSTATE_UINT32(smb_index, PcPMSMBus),
        VMSTATE_UINT8_ARRAY(smb_data, PcPMSMBus, PC_PM_SMBUS_MAX_MSG_SIZE),
        VMSTATE_UINT8(smb_auxctl, PcPMSMBus),
        VMSTATE_UINT8(smb_blkdata, PcPMSMBus),
        VMSTATE_BOOL(i2c_enable, PcPMSMBus),
        VMSTATE_BOOL(op_done, PcPMSMBus),
        VMSTATE_BOOL(in_i2c_block_read, PcPMSMBus),
        VMSTATE_BOOL(start_transaction_on_status_read, PcPMSMBus),
        VMSTATE_END_OF_LIST(),
    },
};

/*
 * piix4's GPE registers: the first two bytes behind each pointer, saved as one uint16 in host
 * order (QEMU's own VMSTATE_GPE_ARRAY in hw/acpi/piix4.c; the macros cannot express a uint16
 * through a uint8_t pointer, hence the plain initialiser).
 */
#define PC_VMSTATE_PIIX4_GPE(_field, _state)                                                     \
    {                                                                                            \
        .name = (stringify(_field)), .version_id = 0, .info = &vmstate_info_uint16,              \
        .size = sizeof(uint16_t), .flags = VMS_SINGLE | VMS_POINTER,                             \
        .offset = offsetof(_state, _field),                                                      \
    }

static const VMStateDescription pc_vmstate_gpe = {
    .name = "gpe",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        PC_VMSTATE_PIIX4_GPE(sts, PcACPIGPE),
        PC_VMSTATE_PIIX4_GPE(en, PcACPIGPE),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_pci_status = {
    .name = "pci_status",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(up, PcAcpiPciHpPciStatus),
        VMSTATE_UINT32(down, PcAcpiPciHpPciStatus),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_acpi_pcihp_pci_status = {
    .name = "acpi_pcihp_pci_status",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(up, PcAcpiPciHpPciStatus),
        VMSTATE_UINT32(down, PcAcpiPciHpPciStatus),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_memhp_sts = {
    .name = "memory hotplug device state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(is_enabled, PcMemStatus),
        VMSTATE_BOOL(is_inserting, PcMemStatus),
        VMSTATE_UINT32(ost_event, PcMemStatus),
        VMSTATE_UINT32(ost_status, PcMemStatus),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_memory_hotplug = {
    .name = "memory hotplug state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(selector, PcMemHotplugState),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(devs, PcMemHotplugState, dev_count,
                                             pc_vmstate_memhp_sts, PcMemStatus),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_cpuhp_sts = {
    .name = "CPU hotplug device state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(is_inserting, PcAcpiCpuStatus),
        VMSTATE_BOOL(is_removing, PcAcpiCpuStatus),
        VMSTATE_UINT32(ost_event, PcAcpiCpuStatus),
        VMSTATE_UINT32(ost_status, PcAcpiCpuStatus),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_cpu_hotplug = {
    .name = "CPU hotplug state",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(selector, PcCPUHotplugState),
        VMSTATE_UINT8(command, PcCPUHotplugState),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(devs, PcCPUHotplugState, dev_count,
                                             pc_vmstate_cpuhp_sts, PcAcpiCpuStatus),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- piix4_pm ---------------------------------------------------------------------------- */

static bool pc_piix4_use_acpi_hotplug_bridge(void *opaque, int version_id) {
    const PcPIIX4PMState *s = opaque;
    (void)version_id;
    return s->use_acpi_hotplug_bridge;
}

static bool pc_piix4_no_use_acpi_hotplug_bridge(void *opaque, int version_id) {
    return !pc_piix4_use_acpi_hotplug_bridge(opaque, version_id);
}

static bool pc_piix4_use_memhp(void *opaque) {
    const PcPIIX4PMState *s = opaque;
    return s->acpi_memory_hotplug.is_enabled;
}

static bool pc_piix4_use_cpuhp(void *opaque) {
    const PcPIIX4PMState *s = opaque;
    return !s->cpu_hotplug_legacy;
}

/* An incoming modern CPU hotplug state switches the device out of legacy mode first. */
static int pc_piix4_cpuhp_pre_load(void *opaque) {
    PcPIIX4PMState *s = opaque;
    s->cpu_hotplug_legacy = false;
    return 0;
}

static bool pc_piix4_need_smbus(void *opaque, int version_id) {
    const PcPIIX4PMState *s = opaque;
    (void)version_id;
    return s->smbus_migration;
}

static bool pc_piix4_migrate_acpi_index(void *opaque, int version_id) {
    const PcPIIX4PMState *s = opaque;
    (void)version_id;
    return s->use_acpi_hotplug_bridge && !s->not_migrate_acpi_index;
}

static const VMStateDescription pc_vmstate_piix4_memhp = {
    .name = "piix4_pm/memhp",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_piix4_use_memhp,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(acpi_memory_hotplug, PcPIIX4PMState, 1, pc_vmstate_memory_hotplug,
                       PcMemHotplugState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_piix4_cpuhp = {
    .name = "piix4_pm/cpuhp",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_piix4_use_cpuhp,
    .pre_load = pc_piix4_cpuhp_pre_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(cpuhp_state, PcPIIX4PMState, 1, pc_vmstate_cpu_hotplug,
                       PcCPUHotplugState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_piix4_pm = {
    .name = "piix4_pm",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]){
        PC_VMSTATE_PCI_DEVICE(parent_obj, PcPIIX4PMState),
        VMSTATE_UINT16(ar.pm1.evt.sts, PcPIIX4PMState),
        VMSTATE_UINT16(ar.pm1.evt.en, PcPIIX4PMState),
        VMSTATE_UINT16(ar.pm1.cnt.cnt, PcPIIX4PMState),
        VMSTATE_STRUCT(apm, PcPIIX4PMState, 0, pc_vmstate_apm, PcAPMState),
        VMSTATE_STRUCT_TEST(smb, PcPIIX4PMState, pc_piix4_need_smbus, 3, pc_vmstate_pmsmb,
                            PcPMSMBus),
        VMSTATE_TIMER_PTR(ar.tmr.timer, PcPIIX4PMState),
        VMSTATE_INT64(ar.tmr.overflow_time, PcPIIX4PMState),
        VMSTATE_STRUCT(ar.gpe, PcPIIX4PMState, 2, pc_vmstate_gpe, PcACPIGPE),
        VMSTATE_STRUCT_TEST(acpi_pci_hotplug.acpi_pcihp_pci_status[PC_ACPI_PCIHP_BSEL_DEFAULT],
                            PcPIIX4PMState, pc_piix4_no_use_acpi_hotplug_bridge, 2,
                            pc_vmstate_pci_status, PcAcpiPciHpPciStatus),
        /* QEMU's VMSTATE_PCI_HOTPLUG */
        VMSTATE_UINT32_TEST(acpi_pci_hotplug.hotplug_select, PcPIIX4PMState,
                            pc_piix4_use_acpi_hotplug_bridge),
        VMSTATE_STRUCT_ARRAY_TEST(acpi_pci_hotplug.acpi_pcihp_pci_status, PcPIIX4PMState,
                                  PC_ACPI_PCIHP_MAX_HOTPLUG_BUS, pc_piix4_use_acpi_hotplug_bridge,
                                  1, pc_vmstate_acpi_pcihp_pci_status, PcAcpiPciHpPciStatus),
        VMSTATE_UINT32_TEST(acpi_pci_hotplug.acpi_index, PcPIIX4PMState,
                            pc_piix4_migrate_acpi_index),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_piix4_memhp,
        &pc_vmstate_piix4_cpuhp,
        NULL,
    },
};
