/* The list of pc-machine descriptions, in the order QEMU 7.2's `-M pc` stream has them. */
#include <string.h>

#include "pc_internal.h"

const VMStateDescription *const pc_device_vmsds[] = {
    &pc_vmstate_timers,     &pc_vmstate_cpu_common, &pc_vmstate_x86_cpu,
    &pc_vmstate_kvmvapic,
    &pc_vmstate_apic,       &pc_vmstate_fw_cfg,     &pc_vmstate_pcihost,
    &pc_vmstate_pcibus,     &pc_vmstate_i440fx,     &pc_vmstate_i8257,
    &pc_vmstate_piix3,      &pc_vmstate_i8259,      &pc_vmstate_ioapic,
    &pc_vmstate_hpet,       &pc_vmstate_rtc,        &pc_vmstate_i8254,
    &pc_vmstate_pcspk,      &pc_vmstate_isa_fdc,    &pc_vmstate_ps2kbd,
    &pc_vmstate_ps2mouse,   &pc_vmstate_i8042,      &pc_vmstate_vmmouse,
    &pc_vmstate_port92,     &pc_vmstate_ide_pci,    &pc_vmstate_i2c_bus,
    &pc_vmstate_piix4_pm,   &pc_vmstate_acpi_build, &pc_vmstate_globalstate,
    NULL,
};

const VMStateDescription *const *pc_device_vmsd_list(void) {
    return pc_device_vmsds;
}

const VMStateDescription *pc_device_vmsd_named(const char *name) {
    if (name == NULL) {
        return NULL;
    }
    for (const VMStateDescription *const *p = pc_device_vmsds; *p != NULL; p++) {
        if (strcmp((*p)->name, name) == 0) {
            return *p;
        }
    }
    return NULL;
}

/* ---- instances ---------------------------------------------------------------------------- */

static void pc_init_timers(void *p) {
    PcTimersState *s = p;
    (void)s; /* all zero: icount off, no icount timers */
}
static void pc_init_globalstate(void *p) {
    PcGlobalState *s = p;
    pc_globalstate_set_runstate(s, "running");
    s->store_global_state = true; /* migration property "store-global-state" (true) */
}
static void pc_init_cpu_common(void *p) { pc_cpu_common_init(p); }
static void pc_init_x86_cpu(void *p) { pc_x86_cpu_init(p); }
static void pc_init_fw_cfg(void *p) {
    PcFWCfgState *s = p;
    s->dma_enabled = true;    /* the pc machine's fw_cfg has DMA */
    s->acpi_mr_restore = true; /* property "acpi-mr-restore", true for pc-i440fx-7.2 */
}
static void pc_init_pcihost(void *p) {
    PcPCIHostState *s = p;
    s->mig_enabled = true;
}
static void pc_init_pcibus(void *p) { pc_pci_bus_init(p); }
static void pc_init_i440fx(void *p) { pc_pci_device_init(&((PcI440FXState *)p)->parent_obj); }
static void pc_init_piix3(void *p) { pc_pci_device_init(&((PcPIIX3State *)p)->dev); }
static void pc_init_hpet(void *p) { pc_hpet_init(p); }
static void pc_init_rtc(void *p) { pc_rtc_init(p); }
static void pc_init_pcspk(void *p) { ((PcSpeakerState *)p)->migrate = true; }
static void pc_init_fdc(void *p) { pc_fdc_init(p); }
static void pc_init_ps2kbd(void *p) { pc_ps2_kbd_init(p); }
static void pc_init_ps2mouse(void *p) { pc_ps2_mouse_init(p); }
static void pc_init_i8042(void *p) { pc_i8042_init(p); }
static void pc_init_vmmouse(void *p) { pc_vmmouse_init(p); }
static void pc_init_i2c_bus(void *p) { pc_i2c_bus_init(p); }
static void pc_init_ide(void *p) { pc_pci_ide_init(p); }
static void pc_init_piix4_pm(void *p) { pc_piix4_pm_init(p); }

typedef struct PcDeviceKind {
    const VMStateDescription *vmsd;
    size_t size;
    void (*init)(void *state);
} PcDeviceKind;

static const PcDeviceKind pc_device_kinds[] = {
    {&pc_vmstate_timers, sizeof(PcTimersState), pc_init_timers},
    {&pc_vmstate_cpu_common, sizeof(PcCPUCommonState), pc_init_cpu_common},
    {&pc_vmstate_x86_cpu, sizeof(PcX86CPU), pc_init_x86_cpu},
    {&pc_vmstate_kvmvapic, sizeof(PcVAPICROMState), NULL},
    {&pc_vmstate_apic, sizeof(PcAPICState), NULL},
    {&pc_vmstate_fw_cfg, sizeof(PcFWCfgState), pc_init_fw_cfg},
    {&pc_vmstate_pcihost, sizeof(PcPCIHostState), pc_init_pcihost},
    {&pc_vmstate_pcibus, sizeof(PcPCIBus), pc_init_pcibus},
    {&pc_vmstate_i440fx, sizeof(PcI440FXState), pc_init_i440fx},
    {&pc_vmstate_i8257, sizeof(PcI8257State), NULL},
    {&pc_vmstate_piix3, sizeof(PcPIIX3State), pc_init_piix3},
    {&pc_vmstate_i8259, sizeof(PcPICState), NULL},
    {&pc_vmstate_ioapic, sizeof(PcIOAPICState), NULL},
    {&pc_vmstate_hpet, sizeof(PcHPETState), pc_init_hpet},
    {&pc_vmstate_rtc, sizeof(PcRTCState), pc_init_rtc},
    {&pc_vmstate_i8254, sizeof(PcPITState), NULL},
    {&pc_vmstate_pcspk, sizeof(PcSpeakerState), pc_init_pcspk},
    {&pc_vmstate_isa_fdc, sizeof(PcFDCtrlISABus), pc_init_fdc},
    {&pc_vmstate_ps2kbd, sizeof(PcPS2KbdState), pc_init_ps2kbd},
    {&pc_vmstate_ps2mouse, sizeof(PcPS2MouseState), pc_init_ps2mouse},
    {&pc_vmstate_i8042, sizeof(PcISAKBDState), pc_init_i8042},
    {&pc_vmstate_vmmouse, sizeof(PcVMMouseState), pc_init_vmmouse},
    {&pc_vmstate_port92, sizeof(PcPort92State), NULL},
    {&pc_vmstate_ide_pci, sizeof(PcPCIIDEState), pc_init_ide},
    {&pc_vmstate_i2c_bus, sizeof(PcI2CBus), pc_init_i2c_bus},
    {&pc_vmstate_piix4_pm, sizeof(PcPIIX4PMState), pc_init_piix4_pm},
    {&pc_vmstate_acpi_build, sizeof(PcAcpiBuildState), NULL},
    {&pc_vmstate_globalstate, sizeof(PcGlobalState), pc_init_globalstate},
};

static const PcDeviceKind *pc_device_kind(const VMStateDescription *vmsd) {
    for (size_t i = 0; i < sizeof(pc_device_kinds) / sizeof(pc_device_kinds[0]); i++) {
        if (pc_device_kinds[i].vmsd == vmsd) {
            return &pc_device_kinds[i];
        }
    }
    return NULL;
}

size_t pc_device_state_size(const VMStateDescription *vmsd) {
    const PcDeviceKind *kind = pc_device_kind(vmsd);
    return kind != NULL ? kind->size : 0;
}

void *pc_device_state_new(const VMStateDescription *vmsd) {
    const PcDeviceKind *kind = pc_device_kind(vmsd);
    void *state;
    if (kind == NULL) {
        return NULL;
    }
    state = g_malloc0(kind->size);
    if (kind->init != NULL) {
        kind->init(state);
    }
    return state;
}
