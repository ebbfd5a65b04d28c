/* Helpers shared by the pc device fixtures (not part of pc_devices.h). */
#ifndef PC_INTERNAL_H
#define PC_INTERNAL_H

#include <string.h>

#include "pc_devices.h"

/* A timer that is not pending (without calling into the engine). */
static inline void pc_timer_reset(QEMUTimer *t, void *opaque) {
    memset(t, 0, sizeof(*t));
    t->expire_time = -1;
    t->opaque = opaque;
}

/* QEMU's VMSTATE_PCI_DEVICE (hw/pci/pci.h): a struct field of type PCIDevice at version 0. */
#define PC_VMSTATE_PCI_DEVICE(_field, _state)                                                    \
    VMSTATE_STRUCT(_field, _state, 0, pc_vmstate_pci_device, PcPCIDevice)

#endif
