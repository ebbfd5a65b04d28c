/*
 * Interrupt controllers and their helpers: "apic" (hw/intc/apic_common.c), "kvm-tpr-opt"
 * (hw/i386/kvmvapic.c), "ioapic" (hw/intc/ioapic_common.c), "i8259" (hw/intc/i8259_common.c).
 * Their pre_save/post_load hooks in QEMU only push state to KVM or recompute derived state,
 * so they are left out here unless they change what is saved or loaded.
 */
#include "pc_devices.h"

/* ---- apic -------------------------------------------------------------------------------- */

static int pc_apic_pre_load(void *opaque) {
    PcAPICState *s = opaque;
    /* the value assumed when the apic_sipi subsection is absent */
    s->wait_for_sipi = 0;
    return 0;
}

static bool pc_apic_sipi_needed(void *opaque) {
    const PcAPICState *s = opaque;
    return s->wait_for_sipi != 0;
}

static const VMStateDescription pc_vmstate_apic_sipi = {
    .name = "apic_sipi",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_apic_sipi_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(sipi_vector, PcAPICState),
        VMSTATE_INT32(wait_for_sipi, PcAPICState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_apic = {
    .name = "apic",
    .version_id = 3,
    .minimum_version_id = 3,
    .pre_load = pc_apic_pre_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(apicbase, PcAPICState),
        VMSTATE_UINT8(id, PcAPICState),
        VMSTATE_UINT8(arb_id, PcAPICState),
        VMSTATE_UINT8(tpr, PcAPICState),
        VMSTATE_UINT32(spurious_vec, PcAPICState),
        VMSTATE_UINT8(log_dest, PcAPICState),
        VMSTATE_UINT8(dest_mode, PcAPICState),
        VMSTATE_UINT32_ARRAY(isr, PcAPICState, 8),
        VMSTATE_UINT32_ARRAY(tmr, PcAPICState, 8),
        VMSTATE_UINT32_ARRAY(irr, PcAPICState, 8),
        VMSTATE_UINT32_ARRAY(lvt, PcAPICState, PC_APIC_LVT_NB),
        VMSTATE_UINT32(esr, PcAPICState),
        VMSTATE_UINT32_ARRAY(icr, PcAPICState, 2),
        VMSTATE_UINT32(divide_conf, PcAPICState),
        VMSTATE_INT32(count_shift, PcAPICState),
        VMSTATE_UINT32(initial_count, PcAPICState),
        VMSTATE_INT64(initial_count_load_time, PcAPICState),
        VMSTATE_INT64(next_time, PcAPICState),
        VMSTATE_INT64(timer_expiry, PcAPICState), /* the timer, saved by hand */
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_apic_sipi,
        NULL,
    },
};

/* ---- kvm-tpr-opt ------------------------------------------------------------------------- */

_Static_assert(sizeof(PcVAPICHandlers) == 44, "VAPICHandlers is 44 bytes in QEMU 7.2");
_Static_assert(sizeof(PcGuestROMState) == 124, "GuestROMState is 124 bytes in QEMU 7.2");

enum { PC_VAPIC_INACTIVE = 0, PC_VAPIC_ACTIVE = 1, PC_VAPIC_STANDBY = 2 };

static int pc_vapic_post_load(void *opaque, int version_id) {
    PcVAPICROMState *s = opaque;
    (void)version_id;
    /* qemu-kvm had no standby state: reconstruct it */
    if (s->state == PC_VAPIC_INACTIVE && s->rom_state_paddr != 0) {
        s->state = PC_VAPIC_STANDBY;
    }
    return 0;
}

static const VMStateDescription pc_vmstate_vapic_handlers = {
    .name = "kvmvapic-handlers",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(set_tpr, PcVAPICHandlers),
        VMSTATE_UINT32(set_tpr_eax, PcVAPICHandlers),
        VMSTATE_UINT32_ARRAY(get_tpr, PcVAPICHandlers, 8),
        VMSTATE_UINT32(get_tpr_stack, PcVAPICHandlers),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_vapic_guest_rom = {
    .name = "kvmvapic-guest-rom",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UNUSED(8), /* the signature */
        VMSTATE_UINT32(vaddr, PcGuestROMState),
        VMSTATE_UINT32(fixup_start, PcGuestROMState),
        VMSTATE_UINT32(fixup_end, PcGuestROMState),
        VMSTATE_UINT32(vapic_vaddr, PcGuestROMState),
        VMSTATE_UINT32(vapic_size, PcGuestROMState),
        VMSTATE_UINT32(vcpu_shift, PcGuestROMState),
        VMSTATE_UINT32(real_tpr_addr, PcGuestROMState),
        VMSTATE_STRUCT(up, PcGuestROMState, 0, pc_vmstate_vapic_handlers, PcVAPICHandlers),
        VMSTATE_STRUCT(mp, PcGuestROMState, 0, pc_vmstate_vapic_handlers, PcVAPICHandlers),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_kvmvapic = {
    .name = "kvm-tpr-opt",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pc_vapic_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(rom_state, PcVAPICROMState, 0, pc_vmstate_vapic_guest_rom,
                       PcGuestROMState),
        VMSTATE_UINT32(state, PcVAPICROMState),
        VMSTATE_UINT32(real_tpr_addr, PcVAPICROMState),
        VMSTATE_UINT32(rom_state_vaddr, PcVAPICROMState),
        VMSTATE_UINT32(vapic_paddr, PcVAPICROMState),
        VMSTATE_UINT32(rom_state_paddr, PcVAPICROMState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- ioapic ------------------------------------------------------------------------------ */

const VMStateDescription pc_vmstate_ioapic = {
    .name = "ioapic",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(id, PcIOAPICState),
        VMSTATE_UINT8(ioregsel, PcIOAPICState),
        VMSTATE_UNUSED_V(2, 8), /* qemu-kvm's version 2 had 8 more bytes here */
        VMSTATE_UINT32_V(irr, PcIOAPICState, 2),
        VMSTATE_UINT64_ARRAY(ioredtbl, PcIOAPICState, PC_IOAPIC_NUM_PINS),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- i8259 ------------------------------------------------------------------------------- */

const VMStateDescription pc_vmstate_i8259 = {
    .name = "i8259",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(last_irr, PcPICState),
        VMSTATE_UINT8(irr, PcPICState),
        VMSTATE_UINT8(imr, PcPICState),
        VMSTATE_UINT8(isr, PcPICState),
        VMSTATE_UINT8(priority_add, PcPICState),
        VMSTATE_UINT8(irq_base, PcPICState),
        VMSTATE_UINT8(read_reg_select, PcPICState),
        VMSTATE_UINT8(poll, PcPICState),
        VMSTATE_UINT8(special_mask, PcPICState),
        VMSTATE_UINT8(init_state, PcPICState),
        VMSTATE_UINT8(auto_eoi, PcPICState),
        VMSTATE_UINT8(rotate_on_auto_eoi, PcPICState),
        VMSTATE_UINT8(special_fully_nested_mode, PcPICState),
        VMSTATE_UINT8(init4, PcPICState),
        VMSTATE_UINT8(single_mode, PcPICState),
        VMSTATE_UINT8(elcr, PcPICState),
        VMSTATE_END_OF_LIST(),
    },
};
