/*
 * Input devices: "ps2kbd" and "ps2mouse" (hw/input/ps2.c), "pckbd", the i8042 controller
 * (hw/input/pckbd.c), and "vmmouse" (hw/i386/vmmouse.c).
 */
#include <string.h>

#include "pc_internal.h"

/* ---- PS/2 common ------------------------------------------------------------------------- */

_Static_assert(sizeof(PcPS2State) == 1104, "PS2State is 1104 bytes in QEMU 7.2");

static void pc_ps2_reset_queue(PcPS2State *s) {
    memset(&s->queue, 0, sizeof(s->queue));
    s->queue.cwptr = -1;
}

static void pc_ps2_common_init(PcPS2State *s) {
    memset(s, 0, sizeof(*s));
    s->write_cmd = -1;
    pc_ps2_reset_queue(s);
}

/*
 * After a load the queue pointers come from the stream: QEMU clamps them into the 256-byte
 * ring, limits the command replies to PC_PS2_QUEUE_HEADROOM and the scancodes to
 * PC_PS2_QUEUE_SIZE, and recomputes wptr and cwptr. Same here.
 */
static void pc_ps2_common_post_load(PcPS2State *s) {
    PcPS2Queue *q = &s->queue;
    int ccount = 0;

    if (q->cwptr != -1) {
        ccount = (q->cwptr - q->rptr) & (PC_PS2_BUFFER_SIZE - 1);
        if (ccount > PC_PS2_QUEUE_HEADROOM) {
            ccount = PC_PS2_QUEUE_HEADROOM;
        }
    }
    if (q->count < ccount) {
        q->count = ccount;
    } else if (q->count > ccount + PC_PS2_QUEUE_SIZE) {
        q->count = ccount + PC_PS2_QUEUE_SIZE;
    }
    q->rptr = q->rptr & (PC_PS2_BUFFER_SIZE - 1);
    q->wptr = (q->rptr + q->count) & (PC_PS2_BUFFER_SIZE - 1);
    q->cwptr = ccount ? (q->rptr + ccount) & (PC_PS2_BUFFER_SIZE - 1) : -1;
}

static const VMStateDescription pc_vmstate_ps2_common = {
    .name = "PS2 Common State",
    .version_id = 3,
    .minimum_version_id = 2,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(write_cmd, PcPS2State),
        VMSTATE_INT32(queue.rptr, PcPS2State),
        VMSTATE_INT32(queue.wptr, PcPS2State),
        VMSTATE_INT32(queue.count, PcPS2State),
        VMSTATE_BUFFER(queue.data, PcPS2State),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- ps2kbd ------------------------------------------------------------------------------ */

void pc_ps2_kbd_init(PcPS2KbdState *s) {
    memset(s, 0, sizeof(*s));
    pc_ps2_common_init(&s->parent_obj);
    s->scan_enabled = 1;
    s->translate = 0;
    s->scancode_set = 2;
}

static bool pc_ps2_kbd_ledstate_needed(void *opaque) {
    const PcPS2KbdState *s = opaque;
    return s->ledstate != 0;
}

static bool pc_ps2_kbd_need_high_bit_needed(void *opaque) {
    const PcPS2KbdState *s = opaque;
    return s->need_high_bit;
}

static bool pc_ps2_kbd_cqueue_needed(void *opaque) {
    const PcPS2KbdState *s = opaque;
    return s->parent_obj.queue.cwptr != -1;
}

static int pc_ps2_kbd_post_load(void *opaque, int version_id) {
    PcPS2KbdState *s = opaque;
    if (version_id == 2) {
        s->scancode_set = 2;
    }
    pc_ps2_common_post_load(&s->parent_obj);
    return 0;
}

static const VMStateDescription pc_vmstate_ps2_kbd_ledstate = {
    .name = "ps2kbd/ledstate",
    .version_id = 3,
    .minimum_version_id = 2,
    .needed = pc_ps2_kbd_ledstate_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(ledstate, PcPS2KbdState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_ps2_kbd_need_high_bit = {
    .name = "ps2kbd/need_high_bit",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = pc_ps2_kbd_need_high_bit_needed,
    .fields = (const VMStateField[]){
        VMSTATE_BOOL(need_high_bit, PcPS2KbdState),
        VMSTATE_END_OF_LIST(),
    },
};

static const VMStateDescription pc_vmstate_ps2_kbd_cqueue = {
    .name = "ps2kbd/command_reply_queue",
    .needed = pc_ps2_kbd_cqueue_needed,
    .fields = (const VMStateField[]){
        VMSTATE_INT32(parent_obj.queue.cwptr, PcPS2KbdState),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription pc_vmstate_ps2kbd = {
    .name = "ps2kbd",
    .version_id = 3,
    .minimum_version_id = 2,
    .post_load = pc_ps2_kbd_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(parent_obj, PcPS2KbdState, 0, pc_vmstate_ps2_common, PcPS2State),
        VMSTATE_INT32(scan_enabled, PcPS2KbdState),
        VMSTATE_INT32(translate, PcPS2KbdState),
        VMSTATE_INT32_V(scancode_set, PcPS2KbdState, 3),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_ps2_kbd_ledstate,
        &pc_vmstate_ps2_kbd_need_high_bit,
        &pc_vmstate_ps2_kbd_cqueue,
        NULL,
    },
};

/* ---- ps2mouse ---------------------------------------------------------------------------- */

void pc_ps2_mouse_init(PcPS2MouseState *s) {
    memset(s, 0, sizeof(*s));
    pc_ps2_common_init(&s->parent_obj);
}

static int pc_ps2_mouse_post_load(void *opaque, int version_id) {
    PcPS2MouseState *s = opaque;
    (void)version_id;
    pc_ps2_common_post_load(&s->parent_obj);
    return 0;
}

const VMStateDescription pc_vmstate_ps2mouse = {
    .name = "ps2mouse",
    .version_id = 2,
    .minimum_version_id = 2,
    .post_load = pc_ps2_mouse_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(parent_obj, PcPS2MouseState, 0, pc_vmstate_ps2_common, PcPS2State),
        VMSTATE_UINT8(mouse_status, PcPS2MouseState),
        VMSTATE_UINT8(mouse_resolution, PcPS2MouseState),
        VMSTATE_UINT8(mouse_sample_rate, PcPS2MouseState),
        VMSTATE_UINT8(mouse_wrap, PcPS2MouseState),
        VMSTATE_UINT8(mouse_type, PcPS2MouseState),
        VMSTATE_UINT8(mouse_detect_state, PcPS2MouseState),
        VMSTATE_INT32(mouse_dx, PcPS2MouseState),
        VMSTATE_INT32(mouse_dy, PcPS2MouseState),
        VMSTATE_INT32(mouse_dz, PcPS2MouseState),
        VMSTATE_UINT8(mouse_buttons, PcPS2MouseState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- pckbd (i8042) ----------------------------------------------------------------------- */

_Static_assert(sizeof(PcKBDState) == 2328, "KBDState is 2328 bytes in QEMU 7.2");

#define PC_KBD_STAT_OBF 0x01
#define PC_KBD_STAT_MOUSE_OBF 0x20
#define PC_KBD_OUT_RESET 0x01
#define PC_KBD_OUT_A20 0x02
#define PC_KBD_OUT_OBF 0x10
#define PC_KBD_OUT_MOUSE_OBF 0x20
#define PC_KBD_OUT_ONES 0xcc
#define PC_KBD_PENDING_KBD_COMPAT 0x01
#define PC_KBD_PENDING_AUX_COMPAT 0x02
#define PC_KBD_PENDING_CTRL_KBD 0x04
#define PC_KBD_PENDING_CTRL_AUX 0x08
#define PC_KBD_PENDING_KBD 0x10
#define PC_KBD_PENDING_AUX 0x20
#define PC_KBD_MIGR_TIMER_PENDING 0x1
#define PC_KBD_OBSRC_KBD 0x01
#define PC_KBD_OBSRC_MOUSE 0x02

static uint8_t pc_kbd_outport_default(const PcKBDState *s) {
    return PC_KBD_OUT_RESET | PC_KBD_OUT_A20 | PC_KBD_OUT_ONES |
           ((s->status & PC_KBD_STAT_OBF) ? PC_KBD_OUT_OBF : 0) |
           ((s->status & PC_KBD_STAT_MOUSE_OBF) ? PC_KBD_OUT_MOUSE_OBF : 0);
}

void pc_i8042_init(PcISAKBDState *isa) {
    PcKBDState *s = &isa->kbd;
    memset(isa, 0, sizeof(*isa));
    s->extended_state = true;
    s->outport = pc_kbd_outport_default(s);
    pc_ps2_kbd_init(&s->ps2kbd);
    pc_ps2_mouse_init(&s->ps2mouse);
}

static int pc_kbd_outport_post_load(void *opaque, int version_id) {
    PcKBDState *s = opaque;
    (void)version_id;
    s->outport_present = true;
    return 0;
}

static bool pc_kbd_outport_needed(void *opaque) {
    const PcKBDState *s = opaque;
    return s->outport != pc_kbd_outport_default(s);
}

static const VMStateDescription pc_vmstate_kbd_outport = {
    .name = "pckbd_outport",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = pc_kbd_outport_post_load,
    .needed = pc_kbd_outport_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(outport, PcKBDState),
        VMSTATE_END_OF_LIST(),
    },
};

static int pc_kbd_extended_state_pre_save(void *opaque) {
    PcKBDState *s = opaque;
    s->migration_flags = 0;
    if (timer_pending(s->throttle_timer)) {
        s->migration_flags |= PC_KBD_MIGR_TIMER_PENDING;
    }
    return 0;
}

static int pc_kbd_extended_state_post_load(void *opaque, int version_id) {
    PcKBDState *s = opaque;
    (void)version_id;
    /* QEMU also runs the throttle timeout when PC_KBD_MIGR_TIMER_PENDING is set */
    s->extended_state_loaded = true;
    return 0;
}

static bool pc_kbd_extended_state_needed(void *opaque) {
    const PcKBDState *s = opaque;
    return s->extended_state;
}

static const VMStateDescription pc_vmstate_kbd_extended_state = {
    .name = "pckbd/extended_state",
    .post_load = pc_kbd_extended_state_post_load,
    .pre_save = pc_kbd_extended_state_pre_save,
    .needed = pc_kbd_extended_state_needed,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(migration_flags, PcKBDState),
        VMSTATE_UINT32(obsrc, PcKBDState),
        VMSTATE_UINT8(obdata, PcKBDState),
        VMSTATE_UINT8(cbdata, PcKBDState),
        VMSTATE_END_OF_LIST(),
    },
};

/* What is saved as pending_tmp depends on whether the destination understands the
 * extended state: without it only the two compatibility bits are sent. */
static int pc_kbd_pre_save(void *opaque) {
    PcKBDState *s = opaque;
    if (s->extended_state) {
        s->pending_tmp = s->pending;
    } else {
        s->pending_tmp = 0;
        if (s->pending & PC_KBD_PENDING_KBD) {
            s->pending_tmp |= PC_KBD_PENDING_KBD_COMPAT;
        }
        if (s->pending & PC_KBD_PENDING_AUX) {
            s->pending_tmp |= PC_KBD_PENDING_AUX_COMPAT;
        }
    }
    return 0;
}

static int pc_kbd_pre_load(void *opaque) {
    PcKBDState *s = opaque;
    s->outport_present = false;
    s->extended_state_loaded = false;
    return 0;
}

static int pc_kbd_post_load(void *opaque, int version_id) {
    PcKBDState *s = opaque;
    (void)version_id;
    if (!s->outport_present) {
        s->outport = pc_kbd_outport_default(s);
    }
    s->pending = s->pending_tmp;
    if (!s->extended_state_loaded) {
        s->obsrc = (s->status & PC_KBD_STAT_OBF)
                       ? ((s->status & PC_KBD_STAT_MOUSE_OBF) ? PC_KBD_OBSRC_MOUSE
                                                               : PC_KBD_OBSRC_KBD)
                       : 0;
        if (s->pending & PC_KBD_PENDING_KBD_COMPAT) {
            s->pending |= PC_KBD_PENDING_KBD;
        }
        if (s->pending & PC_KBD_PENDING_AUX_COMPAT) {
            s->pending |= PC_KBD_PENDING_AUX;
        }
    }
    s->pending &= PC_KBD_PENDING_CTRL_KBD | PC_KBD_PENDING_CTRL_AUX | PC_KBD_PENDING_KBD |
                  PC_KBD_PENDING_AUX;
    return 0;
}

static const VMStateDescription pc_vmstate_kbd = {
    .name = "pckbd",
    .version_id = 3,
    .minimum_version_id = 3,
    .pre_load = pc_kbd_pre_load,
    .post_load = pc_kbd_post_load,
    .pre_save = pc_kbd_pre_save,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8(write_cmd, PcKBDState),
        VMSTATE_UINT8(status, PcKBDState),
        VMSTATE_UINT8(mode, PcKBDState),
        VMSTATE_UINT8(pending_tmp, PcKBDState),
        VMSTATE_END_OF_LIST(),
    },
    .subsections = (const VMStateDescription *[]){
        &pc_vmstate_kbd_outport,
        &pc_vmstate_kbd_extended_state,
        NULL,
    },
};

const VMStateDescription pc_vmstate_i8042 = {
    .name = "pckbd",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (const VMStateField[]){
        VMSTATE_STRUCT(kbd, PcISAKBDState, 0, pc_vmstate_kbd, PcKBDState),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- vmmouse ----------------------------------------------------------------------------- */

void pc_vmmouse_init(PcVMMouseState *s) {
    memset(s, 0, sizeof(*s));
    s->queue_size = PC_VMMOUSE_QUEUE_SIZE;
}

const VMStateDescription pc_vmstate_vmmouse = {
    .name = "vmmouse",
    .version_id = 0,
    .minimum_version_id = 0,
    .fields = (const VMStateField[]){
        VMSTATE_INT32_EQUAL(queue_size, PcVMMouseState, NULL),
        VMSTATE_UINT32_ARRAY(queue, PcVMMouseState, PC_VMMOUSE_QUEUE_SIZE),
        VMSTATE_UINT16(nb_queue, PcVMMouseState),
        VMSTATE_UINT16(status, PcVMMouseState),
        VMSTATE_UINT8(absolute, PcVMMouseState),
        VMSTATE_END_OF_LIST(),
    },
};
