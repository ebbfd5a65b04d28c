/* "ide": the PIIX3 IDE function's state (QEMU's hw/ide/pci.c and hw/ide/core.c). */
#include <errno.h>
#include <string.h>

#include "pc_internal.h"

#define PC_DRQ_STAT 0x08
#define PC_BM_STATUS_DMAING 0x01
#define PC_IDE_RETRY_DMA 0x08
#define PC_IDE_RETRY_PIO 0x10
#define PC_IDE_RETRY_READ 0x20
#define PC_IDE_RETRY_FLUSH 0x40
/* bits 3..6 of the saved BMDMA status carry the bus's error_status */
#define PC_BM_MIGRATION_COMPAT_STATUS_BITS                                                       \
    (PC_IDE_RETRY_DMA | PC_IDE_RETRY_PIO | PC_IDE_RETRY_READ | PC_IDE_RETRY_FLUSH)
#define PC_IDE_END_TRANSFER_FUNCS 6

void pc_pci_ide_init(PcPCIIDEState *s) {
    memset(s, 0, sizeof(*s));
    pc_pci_device_init(&s->parent_obj);
    for (int b = 0; b < 2; b++) {
        PcIDEBus *bus = &s->bus[b];
        for (int u = 0; u < 2; u++) {
            PcIDEState *ifs = &bus->ifs[u];
            ifs->bus = bus;
            ifs->io_buffer = s->io_buffer_storage[b][u];
            ifs->io_buffer_total_len = PC_IDE_IO_BUFFER_LEN;
        }
        s->bmdma[b].bus = bus;
    }
}

void pc_isa_ide_init(PcISAIDEState *s) {
    memset(s, 0, sizeof(*s));
    for (int u = 0; u < 2; u++) {
        PcIDEState *ifs = &s->bus.ifs[u];
        ifs->bus = &s->bus;
        ifs->io_buffer = s->io_buffer_storage[u];
        ifs->io_buffer_total_len = PC_IDE_IO_BUFFER_LEN;
    }
}

/* ---- ide_drive --------------------------------------------------------------------------- */

static bool pc_ide_is_identify_set(void *opaque, int version_id) {
    const PcIDEState *s = opaque;
    (void)version_id;
    return s->identify_set != 0;
}

static bool pc_ide_drive_pio_state_needed(void *opaque) {
    const PcIDEState *s = opaque;
    return (s->status & PC_DRQ_STAT) != 0 ||
           (s->bus != NULL && (s->bus->error_status & PC_IDE_RETRY_PIO));
}

static bool pc_ide_tray_state_needed(void *opaque) {
    const PcIDEState *s = opaque;
    return s->tray_open || s->tray_locked;
}

static bool pc_ide_atapi_gesn_needed(void *opaque) {
    const PcIDEState *s = opaque;
    return s->events.new_media || s->events.eject_request;
}

/*
 * QEMU rejects an unknown end-of-transfer function. It does not check the PIO window against
 * the buffer; this fixture also rejects a window outside io_buffer (a hostile stream would
 * otherwise point later transfers outside it).
 */
static int pc_ide_drive_pio_post_load(void *opaque, int version_id) {
    const PcIDEState *s = opaque;
    (void)version_id;
    if (s->end_transfer_fn_idx >= PC_IDE_END_TRANSFER_FUNCS) {
        return -EINVAL;
    }
    if (s->cur_io_buffer_offset < 0 || s->cur_io_buffer_len < 0 ||
        s->cur_io_buffer_offset > s->io_buffer_total_len ||
        s->cur_io_buffer_len > s->io_buffer_total_len - s->cur_io_buffer_offset) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription pc_vmstate_ide_atapi_gesn_state = {
    .name = "ide_drive/atapi/gesn_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_ide_atapi_gesn_needed,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(events.new_media, PcIDEState),
        VMSTATE_BOOL(events.eject_request, PcIDEState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_ide_tray_state = {
    .name = "ide_drive/tray_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_ide_tray_state_needed,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(tray_open, PcIDEState),
        VMSTATE_BOOL(tray_locked, PcIDEState),
        VMSTATE_END_OF_LIST(),
    },
};

/* QEMU's pre_save derives cur_io_buffer_offset/len and end_transfer_fn_idx from its transfer
 * pointers; here they are the state itself. */
static const VMStateDescription pc_vmstate_ide_drive_pio_state = {
    .name = "ide_drive/pio_state",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pc_ide_drive_pio_post_load,
    .needed = pc_ide_drive_pio_state_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(req_nb_sectors, PcIDEState),
        VMSTATE_VARRAY_INT32(io_buffer, PcIDEState, io_buffer_total_len, 1, vmstate_info_uint8,
                             uint8_t),
        VMSTATE_INT32(cur_io_buffer_offset, PcIDEState),
        VMSTATE_INT32(cur_io_buffer_len, PcIDEState),
        VMSTATE_UINT8(end_transfer_fn_idx, PcIDEState),
        VMSTATE_INT32(elementary_transfer_size, PcIDEState),
        VMSTATE_INT32(packet_transfer_size, PcIDEState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_ide_drive = {
    .name = "ide_drive",
    .version_id = 3,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(mult_sectors, PcIDEState),
        VMSTATE_INT32(identify_set, PcIDEState),
        VMSTATE_BUFFER_TEST(identify_data, PcIDEState, pc_ide_is_identify_set),
        VMSTATE_UINT8(feature, PcIDEState),
        VMSTATE_UINT8(error, PcIDEState),
        VMSTATE_UINT32(nsector, PcIDEState),
        VMSTATE_UINT8(sector, PcIDEState),
        VMSTATE_UINT8(lcyl, PcIDEState),
        VMSTATE_UINT8(hcyl, PcIDEState),
        VMSTATE_UINT8(hob_feature, PcIDEState),
        VMSTATE_UINT8(hob_sector, PcIDEState),
        VMSTATE_UINT8(hob_nsector, PcIDEState),
        VMSTATE_UINT8(hob_lcyl, PcIDEState),
        VMSTATE_UINT8(hob_hcyl, PcIDEState),
        VMSTATE_UINT8(select, PcIDEState),
        VMSTATE_UINT8(status, PcIDEState),
        VMSTATE_UINT8(lba48, PcIDEState),
        VMSTATE_UINT8(sense_key, PcIDEState),
        VMSTATE_UINT8(asc, PcIDEState),
        VMSTATE_UINT8_V(cdrom_changed, PcIDEState, 3),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_ide_drive_pio_state,
        &pc_vmstate_ide_tray_state,
        &pc_vmstate_ide_atapi_gesn_state,
        NULL,
    },
};

/* ---- ide_bus ----------------------------------------------------------------------------- */

static bool pc_ide_error_needed(void *opaque) {
    const PcIDEBus *bus = opaque;
    return bus->error_status != 0;
}

static const VMStateDescription pc_vmstate_ide_error_status = {
    .name = "ide_bus/error",
    .version_id = 2,
    .minimum_version_id = 1,
    .needed = pc_ide_error_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(error_status, PcIDEBus),
        VMSTATE_INT64_V(retry_sector_num, PcIDEBus, 2),
        VMSTATE_UINT32_V(retry_nsector, PcIDEBus, 2),
        VMSTATE_UINT8_V(retry_unit, PcIDEBus, 2),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_ide_bus = {
    .name = "ide_bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(cmd, PcIDEBus),
        VMSTATE_UINT8(unit, PcIDEBus),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_ide_error_status,
        NULL,
    },
};

/* ---- BMDMA ------------------------------------------------------------------------------- */

static bool pc_ide_bmdma_current_needed(void *opaque) {
    const PcBMDMAState *bm = opaque;
    return bm->cur_prd_len != 0;
}

static bool pc_ide_bmdma_status_needed(void *opaque) {
    const PcBMDMAState *bm = opaque;
    /* older versions kept error bits in the status register; send the real one then */
    return (bm->status & PC_BM_MIGRATION_COMPAT_STATUS_BITS) != 0;
}

/* The retry state and the error bits travel in the BMDMA fields (QEMU also records a DMA in
 * flight as a retry first; a fixture never has one). */
static int pc_ide_bmdma_pre_save(void *opaque) {
    PcBMDMAState *bm = opaque;
    int error_status = bm->bus != NULL ? bm->bus->error_status : 0;
    if (bm->bus != NULL) {
        bm->migration_retry_unit = bm->bus->retry_unit;
        bm->migration_retry_sector_num = bm->bus->retry_sector_num;
        bm->migration_retry_nsector = bm->bus->retry_nsector;
    }
    bm->migration_compat_status = (uint8_t)((bm->status & ~PC_BM_MIGRATION_COMPAT_STATUS_BITS) |
                                            (error_status & PC_BM_MIGRATION_COMPAT_STATUS_BITS));
    return 0;
}

static const VMStateDescription pc_vmstate_bmdma_current = {
    .name = "ide bmdma_current",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_ide_bmdma_current_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(cur_addr, PcBMDMAState),
        VMSTATE_UINT32(cur_prd_last, PcBMDMAState),
        VMSTATE_UINT32(cur_prd_addr, PcBMDMAState),
        VMSTATE_UINT32(cur_prd_len, PcBMDMAState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_bmdma_status = {
    .name = "ide bmdma/status",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_ide_bmdma_status_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(status, PcBMDMAState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_bmdma = {
    .name = "ide bmdma",
    .version_id = 3,
    .minimum_version_id = 0,
    .pre_save = pc_ide_bmdma_pre_save,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(cmd, PcBMDMAState),
        VMSTATE_UINT8(migration_compat_status, PcBMDMAState),
        VMSTATE_UINT32(addr, PcBMDMAState),
        VMSTATE_INT64(migration_retry_sector_num, PcBMDMAState),
        VMSTATE_UINT32(migration_retry_nsector, PcBMDMAState),
        VMSTATE_UINT8(migration_retry_unit, PcBMDMAState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_bmdma_current,
        &pc_vmstate_bmdma_status,
        NULL,
    },
};

/* ---- ide (PCI) --------------------------------------------------------------------------- */

/* Runs after the buses' error state is loaded (which is why QEMU does this here and not in
 * the BMDMA description): split the saved status back into status and error bits. */
static int pc_ide_pci_post_load(void *opaque, int version_id) {
    PcPCIIDEState *s = opaque;
    (void)version_id;
    for (int i = 0; i < 2; i++) {
        PcBMDMAState *bm = &s->bmdma[i];
        bm->migration_retry_unit &= 1; /* old versions stored more than the unit bit */
        if (bm->bus == NULL) {
            continue;
        }
        if (bm->status == 0) {
            bm->status = bm->migration_compat_status & ~PC_BM_MIGRATION_COMPAT_STATUS_BITS;
            bm->bus->error_status |=
                bm->migration_compat_status & PC_BM_MIGRATION_COMPAT_STATUS_BITS;
        }
        if (bm->bus->error_status) {
            bm->bus->retry_sector_num = bm->migration_retry_sector_num;
            bm->bus->retry_nsector = bm->migration_retry_nsector;
            bm->bus->retry_unit = bm->migration_retry_unit;
        }
    }
    return 0;
}

const VMStateDescription pc_vmstate_ide_pci = {
    .name = "ide",
    .version_id = 3,
    .minimum_version_id = 0,
    .post_load = pc_ide_pci_post_load,
    .fields = (const VMStateField[]){
        PC_VMSTATE_PCI_DEVICE(parent_obj, PcPCIIDEState),
        VMSTATE_STRUCT_ARRAY(bmdma, PcPCIIDEState, 2, 0, pc_vmstate_bmdma, PcBMDMAState),
        VMSTATE_STRUCT_ARRAY(bus, PcPCIIDEState, 2, 1, pc_vmstate_ide_bus, PcIDEBus),
        VMSTATE_STRUCT_ARRAY(bus[0].ifs, PcPCIIDEState, 2, 3, pc_vmstate_ide_drive, PcIDEState),
        VMSTATE_STRUCT_ARRAY(bus[1].ifs, PcPCIIDEState, 2, 3, pc_vmstate_ide_drive, PcIDEState),
        VMSTATE_END_OF_LIST(),
    },
};

/* hw/ide/isa.c: VMSTATE_IDE_BUS(bus, ISAIDEState), VMSTATE_IDE_DRIVES(bus.ifs, ISAIDEState). */
const VMStateDescription pc_vmstate_ide_isa = {
    .name = "isa-ide",
    .version_id = 3,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(bus, PcISAIDEState, 0, pc_vmstate_ide_bus, PcIDEBus),
        VMSTATE_STRUCT_ARRAY(bus.ifs, PcISAIDEState, 2, 3, pc_vmstate_ide_drive, PcIDEState),
        VMSTATE_END_OF_LIST(),
    },
};
