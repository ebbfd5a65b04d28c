/*
 * Other pc-machine state: "dma" (hw/dma/i8257.c), "fdc" (hw/block/fdc.c, fdc-isa.c),
 * "port92" (hw/i386/port92.c), "i2c_bus" (hw/i2c/core.c), "acpi_build" (hw/i386/acpi-build.c).
 */
#include <string.h>

#include "pc_internal.h"

/* ---- dma --------------------------------------------------------------------------------- */

_Static_assert(sizeof(PcI8257Regs) == 40, "I8257Regs is 40 bytes in QEMU 7.2");

static const VMStateDescription pc_vmstate_i8257_regs = {
    .name = "dma_regs",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_INT32_ARRAY(now, PcI8257Regs, 2),
        VMSTATE_UINT16_ARRAY(base, PcI8257Regs, 2),
        VMSTATE_UINT8(mode, PcI8257Regs),
        VMSTATE_UINT8(page, PcI8257Regs),
        VMSTATE_UINT8(pageh, PcI8257Regs),
        VMSTATE_UINT8(dack, PcI8257Regs),
        VMSTATE_UINT8(eop, PcI8257Regs),
        VMSTATE_END_OF_LIST(),
    },
};

/* QEMU's post_load restarts pending transfers; there are none to restart here. */
const VMStateDescription pc_vmstate_i8257 = {
    .name = "dma",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(command, PcI8257State),
        VMSTATE_UINT8(mask, PcI8257State),
        VMSTATE_UINT8(flip_flop, PcI8257State),
        VMSTATE_INT32(dshift, PcI8257State),
        VMSTATE_STRUCT_ARRAY(regs, PcI8257State, 4, 1, pc_vmstate_i8257_regs, PcI8257Regs),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- fdc --------------------------------------------------------------------------------- */

_Static_assert(sizeof(PcFDrive) == 48, "FDrive is 48 bytes in QEMU 7.2");
_Static_assert(sizeof(PcFDCtrl) == 672, "FDCtrl is 672 bytes in QEMU 7.2");

#define PC_FD_DOR_SELMASK 0x01 /* two drives */
#define PC_FD_MSR_NONDMA 0x20
#define PC_FD_MSR_DIO 0x40
#define PC_FD_MSR_RQM 0x80
enum {
    PC_FD_PHASE_RECONSTRUCT = 0,
    PC_FD_PHASE_COMMAND = 1,
    PC_FD_PHASE_EXECUTION = 2,
    PC_FD_PHASE_RESULT = 3,
};

void pc_fdc_init(PcFDCtrlISABus *isa) {
    PcFDCtrl *s = &isa->state;
    memset(isa, 0, sizeof(*isa));
    pc_timer_reset(&isa->result_timer_storage, s);
    s->result_timer = &isa->result_timer_storage;
    s->fifo = isa->fifo_storage;
    s->fifo_size = PC_FD_SECTOR_LEN;
    s->num_floppies = PC_MAX_FD;
    s->phase = PC_FD_PHASE_COMMAND;
    s->msr = PC_FD_MSR_RQM;
    for (int i = 0; i < PC_MAX_FD; i++) {
        s->drives[i].fdctrl = s;
        s->drives[i].media_changed = 1;
    }
}

static bool pc_fdrive_media_changed_needed(void *opaque) {
    const PcFDrive *drive = opaque;
    return drive->blk != NULL && drive->media_changed != 1;
}

static bool pc_fdrive_perpendicular_needed(void *opaque) {
    const PcFDrive *drive = opaque;
    return drive->perpendicular != 0;
}

static const VMStateDescription pc_vmstate_fdrive_media_changed = {
    .name = "fdrive/media_changed",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fdrive_media_changed_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(media_changed, PcFDrive),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fdrive_media_rate = {
    .name = "fdrive/media_rate",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(media_rate, PcFDrive),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fdrive_perpendicular = {
    .name = "fdrive/perpendicular",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fdrive_perpendicular_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(perpendicular, PcFDrive),
        VMSTATE_END_OF_LIST(),
    },
};

/* QEMU's post_load re-reads the medium geometry from the block backend. */
static const VMStateDescription pc_vmstate_fdrive = {
    .name = "fdrive",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(head, PcFDrive),
        VMSTATE_UINT8(track, PcFDrive),
        VMSTATE_UINT8(sect, PcFDrive),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_fdrive_media_changed,
        &pc_vmstate_fdrive_media_rate,
        &pc_vmstate_fdrive_perpendicular,
        NULL,
    },
};

/* The phase QEMU 2.3 would have derived from the registers (part of the migration ABI). */
static int pc_fdc_reconstruct_phase(const PcFDCtrl *s) {
    if (s->msr & PC_FD_MSR_NONDMA) {
        return PC_FD_PHASE_EXECUTION;
    } else if ((s->msr & PC_FD_MSR_RQM) == 0) {
        return PC_FD_PHASE_EXECUTION;
    } else if (s->msr & PC_FD_MSR_DIO) {
        return PC_FD_PHASE_RESULT;
    }
    return PC_FD_PHASE_COMMAND;
}

static int pc_fdc_pre_save(void *opaque) {
    PcFDCtrl *s = opaque;
    s->dor_vmstate = s->dor | s->cur_drv;
    return 0;
}

static int pc_fdc_pre_load(void *opaque) {
    PcFDCtrl *s = opaque;
    s->phase = PC_FD_PHASE_RECONSTRUCT;
    return 0;
}

static int pc_fdc_post_load(void *opaque, int version_id) {
    PcFDCtrl *s = opaque;
    (void)version_id;
    s->cur_drv = s->dor_vmstate & PC_FD_DOR_SELMASK;
    s->dor = s->dor_vmstate & ~PC_FD_DOR_SELMASK;
    if (s->phase == PC_FD_PHASE_RECONSTRUCT) {
        s->phase = (uint8_t)pc_fdc_reconstruct_phase(s);
    }
    return 0;
}

static bool pc_fdc_reset_sensei_needed(void *opaque) {
    const PcFDCtrl *s = opaque;
    return s->reset_sensei != 0;
}

static bool pc_fdc_result_timer_needed(void *opaque) {
    const PcFDCtrl *s = opaque;
    return timer_pending(s->result_timer);
}

static bool pc_fdc_phase_needed(void *opaque) {
    const PcFDCtrl *s = opaque;
    return pc_fdc_reconstruct_phase(s) != s->phase;
}

static const VMStateDescription pc_vmstate_fdc_reset_sensei = {
    .name = "fdc/reset_sensei",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fdc_reset_sensei_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(reset_sensei, PcFDCtrl),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fdc_result_timer = {
    .name = "fdc/result_timer",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fdc_result_timer_needed,
    .fields = (const VMStateField[]){
        VMSTATE_TIMER_PTR(result_timer, PcFDCtrl),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fdc_phase = {
    .name = "fdc/phase",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_fdc_phase_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(phase, PcFDCtrl),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_fdc = {
    .name = "fdc",
    .version_id = 2,
    .minimum_version_id = 2,
    .pre_save = pc_fdc_pre_save,
    .pre_load = pc_fdc_pre_load,
    .post_load = pc_fdc_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(sra, PcFDCtrl),
        VMSTATE_UINT8(srb, PcFDCtrl),
        VMSTATE_UINT8(dor_vmstate, PcFDCtrl),
        VMSTATE_UINT8(tdr, PcFDCtrl),
        VMSTATE_UINT8(dsr, PcFDCtrl),
        VMSTATE_UINT8(msr, PcFDCtrl),
        VMSTATE_UINT8(status0, PcFDCtrl),
        VMSTATE_UINT8(status1, PcFDCtrl),
        VMSTATE_UINT8(status2, PcFDCtrl),
        VMSTATE_VARRAY_INT32(fifo, PcFDCtrl, fifo_size, 0, vmstate_info_uint8, uint8_t),
        VMSTATE_UINT32(data_pos, PcFDCtrl),
        VMSTATE_UINT32(data_len, PcFDCtrl),
        VMSTATE_UINT8(data_state, PcFDCtrl),
        VMSTATE_UINT8(data_dir, PcFDCtrl),
        VMSTATE_UINT8(eot, PcFDCtrl),
        VMSTATE_UINT8(timer0, PcFDCtrl),
        VMSTATE_UINT8(timer1, PcFDCtrl),
        VMSTATE_UINT8(precomp_trk, PcFDCtrl),
        VMSTATE_UINT8(config, PcFDCtrl),
        VMSTATE_UINT8(lock, PcFDCtrl),
        VMSTATE_UINT8(pwrd, PcFDCtrl),
        VMSTATE_UINT8_EQUAL(num_floppies, PcFDCtrl, NULL),
        VMSTATE_STRUCT_ARRAY(drives, PcFDCtrl, PC_MAX_FD, 1, pc_vmstate_fdrive, PcFDrive),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_fdc_reset_sensei,
        &pc_vmstate_fdc_result_timer,
        &pc_vmstate_fdc_phase,
        NULL,
    },
};

const VMStateDescription pc_vmstate_isa_fdc = {
    .name = "fdc",
    .version_id = 2,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(state, PcFDCtrlISABus, 0, pc_vmstate_fdc, PcFDCtrl),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- port92 ------------------------------------------------------------------------------ */

const VMStateDescription pc_vmstate_port92 = {
    .name = "port92",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(outport, PcPort92State),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- i2c_bus ----------------------------------------------------------------------------- */

#define PC_I2C_BROADCAST 0x00

void pc_i2c_bus_init(PcI2CBus *bus) {
    memset(bus, 0, sizeof(*bus));
    bus->current_address = -1;
}

static int pc_i2c_bus_pre_save(void *opaque) {
    PcI2CBus *bus = opaque;
    bus->saved_address = 0xff; /* (uint8_t)-1: no transfer in progress */
    if (bus->current_address >= 0) {
        bus->saved_address =
            bus->broadcast ? PC_I2C_BROADCAST : (uint8_t)bus->current_address;
    }
    return 0;
}

const VMStateDescription pc_vmstate_i2c_bus = {
    .name = "i2c_bus",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = pc_i2c_bus_pre_save,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(saved_address, PcI2CBus),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- acpi_build -------------------------------------------------------------------------- */

const VMStateDescription pc_vmstate_acpi_build = {
    .name = "acpi_build",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(patched, PcAcpiBuildState),
        VMSTATE_END_OF_LIST(),
    },
};
