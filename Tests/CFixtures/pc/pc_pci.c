/*
 * PCI: "PCIHost" (hw/pci/pci_host.c), "PCIBUS" and the nested "PCIDevice" (hw/pci/pci.c),
 * "I440FX" (hw/pci-host/i440fx.c) and "PIIX3" (hw/isa/piix3.c).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "pc_internal.h"

_Static_assert(sizeof(PcPCIDevice) == 2608, "PCIDevice is 2608 bytes in QEMU 7.2");

/* ---- PCIHost ----------------------------------------------------------------------------- */

static bool pc_pci_host_needed(void *opaque) {
    const PcPCIHostState *s = opaque;
    return s->mig_enabled;
}

const VMStateDescription pc_vmstate_pcihost = {
    .name = "PCIHost",
    .needed = pc_pci_host_needed,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(config_reg, PcPCIHostState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- PCIBUS ------------------------------------------------------------------------------ */

void pc_pci_bus_init(PcPCIBus *bus) {
    memset(bus, 0, sizeof(*bus));
    bus->nirq = PC_PCI_NUM_PINS;
    bus->irq_count = bus->irq_count_storage;
}

const VMStateDescription pc_vmstate_pcibus = {
    .name = "PCIBUS",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32_EQUAL(nirq, PcPCIBus, NULL),
        VMSTATE_VARRAY_INT32(irq_count, PcPCIBus, nirq, 0, vmstate_info_int32, int32_t),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- PCIDevice --------------------------------------------------------------------------- */

void pc_pci_device_init(PcPCIDevice *d) {
    memset(d, 0, sizeof(*d));
    d->version_id = 2;
    d->config = d->config_storage;
}

static size_t pc_pci_config_size(const PcPCIDevice *d) {
    return (d->cap_present & PC_PCI_CAP_EXPRESS) ? PC_PCIE_CONFIG_SPACE_SIZE
                                                 : PC_PCI_CONFIG_SPACE_SIZE;
}

/*
 * "pci config": `pv` points at the member `config` (a pointer to the config space). Load reads
 * the whole space, rejects it when a byte differs from the current one in bits that are
 * checked (cmask) and are neither writable (wmask) nor write-1-to-clear (w1cmask), then
 * copies it in. Save writes the space as it is.
 */
static int pc_get_pci_config(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    PcPCIDevice *d = container_of(pv, PcPCIDevice, config); /* as QEMU's get_pci_config_device */
    uint8_t *incoming;
    (void)field;

    if (d->config == NULL || size != pc_pci_config_size(d)) {
        return -EINVAL;
    }
    incoming = g_malloc(size);
    qemu_get_buffer(f, incoming, size);
    if (d->cmask != NULL) {
        for (size_t i = 0; i < size; i++) {
            uint8_t checked = d->cmask[i];
            if (d->wmask != NULL) {
                checked &= (uint8_t)~d->wmask[i];
            }
            if (d->w1cmask != NULL) {
                checked &= (uint8_t)~d->w1cmask[i];
            }
            if ((incoming[i] ^ d->config[i]) & checked) {
                g_free(incoming);
                return -EINVAL;
            }
        }
    }
    memcpy(d->config, incoming, size);
    g_free(incoming);
    return 0;
}

static int pc_put_pci_config(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                             JSONWriter *vmdesc) {
    uint8_t *const *config = pv;
    (void)field;
    (void)vmdesc;
    if (*config == NULL) {
        return -EINVAL;
    }
    qemu_put_buffer(f, *config, size);
    return 0;
}

const VMStateInfo pc_info_pci_config = {
    .name = "pci config",
    .get = pc_get_pci_config,
    .put = pc_put_pci_config,
};

/* "pci irq state": one be32 per INTx pin, 0 or 1. */
static int pc_get_pci_irq_state(QEMUFile *f, void *pv, size_t size,
                                const VMStateField *field) {
    PcPCIDevice *d = container_of(pv, PcPCIDevice, irq_state);
    uint32_t levels[PC_PCI_NUM_PINS];
    (void)size;
    (void)field;

    for (int i = 0; i < PC_PCI_NUM_PINS; i++) {
        levels[i] = qemu_get_be32(f);
        if (levels[i] > 1) {
            return -EINVAL;
        }
    }
    for (int i = 0; i < PC_PCI_NUM_PINS; i++) {
        d->irq_state = (uint8_t)((d->irq_state & ~(1u << i)) | (levels[i] << i));
    }
    return 0;
}

static int pc_put_pci_irq_state(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                                JSONWriter *vmdesc) {
    const PcPCIDevice *d = container_of(pv, PcPCIDevice, irq_state);
    (void)size;
    (void)field;
    (void)vmdesc;
    for (int i = 0; i < PC_PCI_NUM_PINS; i++) {
        qemu_put_be32(f, (d->irq_state >> i) & 1u);
    }
    return 0;
}

const VMStateInfo pc_info_pci_irq_state = {
    .name = "pci irq state",
    .get = pc_get_pci_irq_state,
    .put = pc_put_pci_irq_state,
};

static bool pc_pci_is_express(void *opaque, int version_id) {
    const PcPCIDevice *d = opaque;
    (void)version_id;
    return (d->cap_present & PC_PCI_CAP_EXPRESS) != 0;
}

static bool pc_pci_is_not_express(void *opaque, int version_id) {
    return !pc_pci_is_express(opaque, version_id);
}

const VMStateDescription pc_vmstate_pci_device = {
    .name = "PCIDevice",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32_POSITIVE_LE(version_id, PcPCIDevice),
        VMSTATE_BUFFER_UNSAFE_INFO_TEST(config, PcPCIDevice, pc_pci_is_not_express, 0,
                                        pc_info_pci_config, PC_PCI_CONFIG_SPACE_SIZE),
        VMSTATE_BUFFER_UNSAFE_INFO_TEST(config, PcPCIDevice, pc_pci_is_express, 0,
                                        pc_info_pci_config, PC_PCIE_CONFIG_SPACE_SIZE),
        VMSTATE_BUFFER_UNSAFE_INFO(irq_state, PcPCIDevice, 2, pc_info_pci_irq_state,
                                   PC_PCI_NUM_PINS * sizeof(int32_t)),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- I440FX ------------------------------------------------------------------------------ */

const VMStateDescription pc_vmstate_i440fx = {
    .name = "I440FX",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]){
        PC_VMSTATE_PCI_DEVICE(parent_obj, PcI440FXState),
        VMSTATE_UNUSED(1), /* was smm_enabled */
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- PIIX3 ------------------------------------------------------------------------------- */

static int pc_piix3_pre_save(void *opaque) {
    PcPIIX3State *s = opaque;
    if (s->bus != NULL && s->bus->irq_count != NULL) {
        for (int i = 0; i < PC_PIIX_NUM_PIRQS && i < s->bus->nirq; i++) {
            s->pci_irq_levels_vmstate[i] = s->bus->irq_count[i] != 0;
        }
    }
    return 0;
}

static bool pc_piix3_rcr_needed(void *opaque) {
    const PcPIIX3State *s = opaque;
    return s->rcr != 0;
}

static const VMStateDescription pc_vmstate_piix3_rcr = {
    .name = "PIIX3/rcr",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_piix3_rcr_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(rcr, PcPIIX3State),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_piix3 = {
    .name = "PIIX3",
    .version_id = 3,
    .minimum_version_id = 2,
    .pre_save = pc_piix3_pre_save,
    .fields = (const VMStateField[]){
        PC_VMSTATE_PCI_DEVICE(dev, PcPIIX3State),
        VMSTATE_INT32_ARRAY_V(pci_irq_levels_vmstate, PcPIIX3State, PC_PIIX_NUM_PIRQS, 3),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_piix3_rcr,
        NULL,
    },
};
