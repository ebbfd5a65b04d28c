/*
 * tiny-emulator: a toy machine whose devices describe their state the way QEMU devices do, and
 * which saves and restores itself through libswiftvmstate.
 *
 * Each device has its own struct and VMStateDescription (in its own .c file); this header holds
 * the structs so that the machine can embed the devices and compare two machines field by field.
 */
#ifndef TINY_H
#define TINY_H

#include <gio/gio.h>
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "migration/vmstate.h"

#define TINY_MACHINE_TYPE "tiny-emulator-1.0"
#define TINY_RAM_SIZE (1024 * 1024)
#define TINY_STEP_NS 10000 /* guest time per step: 10 us */

/* ---- the random source every "guest" action comes from (machine.c) ------------------------- */

/* splitmix64: any seed, including 0, gives a good sequence. */
uint64_t tiny_rand(uint64_t *state);
/* A value in [0, n). */
uint32_t tiny_rand_below(uint64_t *state, uint32_t n);

/* ---- CPU: the part of the machine that runs the guest's "program" -------------------------- */

typedef struct TinyCPU {
    uint64_t rng_state; /* where the guest's next action comes from */
    uint64_t steps;
    uint32_t regs[8];
    uint32_t pc;
} TinyCPU;

extern const VMStateDescription vmstate_tiny_cpu;

/* ---- the guest clock and its timers (clock.c) ---------------------------------------------- */

#define EMU_MAX_TIMERS 8

/*
 * The machine's virtual clock. Timers are plain QEMUTimers: pending when expire_time != -1.
 * The clock fires due timers in order of expire time (then registration order), so the firing
 * order does not depend on the order in which timers were armed, or re-armed by a load.
 */
typedef struct EmuClock {
    int64_t now_ns;
    QEMUTimer *timers[EMU_MAX_TIMERS]; /* not migrated: registered at init */
    int ntimers;
} EmuClock;

extern const VMStateDescription vmstate_emu_clock;

void emu_clock_init(EmuClock *clock);
/* Initialises `timer` (not pending) and registers it with `clock`. */
void emu_timer_init(EmuClock *clock, QEMUTimer *timer, QEMUTimerCB *cb, void *opaque);
void emu_timer_mod(QEMUTimer *timer, int64_t expire_ns);
void emu_timer_del(QEMUTimer *timer);
bool emu_timer_pending(const QEMUTimer *timer);
/* Moves the clock forward by `ns`, firing every timer that falls due on the way. */
void emu_clock_advance(EmuClock *clock, int64_t ns);
int emu_clock_pending_timers(const EmuClock *clock);

/* ---- 16550-style UART with receive and transmit FIFOs (uart.c) ----------------------------- */

#define UART_FIFO_SIZE 16

typedef struct UartFifo {
    uint8_t data[UART_FIFO_SIZE];
    uint8_t head; /* index of the oldest byte */
    uint8_t num;  /* bytes queued */
} UartFifo;

typedef struct TinyUART {
    uint16_t divider;
    uint8_t rbr, ier, iir, lcr, mcr, lsr, msr, scr, fcr;
    uint8_t fifo_size; /* always UART_FIFO_SIZE; checked on load */
    UartFifo rx, tx;
    bool irq_level;
    uint64_t tx_count, rx_count;
    uint32_t overruns;
} TinyUART;

extern const VMStateDescription vmstate_tiny_uart;

void uart_reset(TinyUART *s);
void uart_write(TinyUART *s, unsigned reg, uint8_t val);
uint8_t uart_read(TinyUART *s, unsigned reg);
/* The wire: moves at most one byte from `from`'s transmit FIFO into `to`'s receive FIFO. */
void uart_transmit(TinyUART *from, TinyUART *to);

/* ---- timer device: a periodic tick and a watchdog (timer.c) -------------------------------- */

#define TIMER_CTRL_ENABLE 0x1
#define TIMER_CTRL_PERIODIC 0x2
#define TIMER_CTRL_IRQ 0x4

typedef struct TinyTimer {
    QEMUTimer *tick;     /* allocated at init, saved through the pointer (VMSTATE_TIMER_PTR) */
    QEMUTimer watchdog;  /* embedded (VMSTATE_TIMER) */
    uint32_t ctrl;
    uint32_t period_ns;
    uint32_t ticks;
    uint32_t irq_status;
    int64_t last_tick_ns;
    uint32_t watchdog_expiries;
    EmuClock *clock;     /* not migrated */
} TinyTimer;

extern const VMStateDescription vmstate_tiny_timer;

void tiny_timer_init(TinyTimer *s, EmuClock *clock);
void tiny_timer_finalize(TinyTimer *s);
void tiny_timer_program(TinyTimer *s, uint32_t ctrl, uint32_t period_ns);
void tiny_timer_kick_watchdog(TinyTimer *s);
void tiny_timer_ack(TinyTimer *s);

/* ---- RTC with CMOS memory, a version history and a subsection (rtc.c) ---------------------- */

#define RTC_CMOS_SIZE 128
#define RTC_REG_A 10 /* low 4 bits: periodic rate */
#define RTC_REG_B 11 /* 0x40: periodic interrupt enable */
#define RTC_REG_C 12 /* 0x40: periodic interrupt flag; reading acknowledges */

typedef struct TinyRTC {
    uint8_t cmos[RTC_CMOS_SIZE]; /* version 1 */
    uint8_t index;               /* version 1 */
    int64_t last_update_ns;      /* version 1 */
    uint32_t irq_coalesced;      /* version 2 */
    uint32_t alarm_hits;         /* version 2 */
    int64_t offset_ns;           /* version 3 */
    uint16_t reinject_count;     /* subsection tiny-rtc/irq_reinject, sent while non-zero */
    int64_t period_ns;           /* not migrated: derived from REG_A in post_load */
} TinyRTC;

extern const VMStateDescription vmstate_tiny_rtc;

void rtc_reset(TinyRTC *s);
void rtc_write(TinyRTC *s, unsigned port, uint8_t val); /* port 0: index, port 1: data */
uint8_t rtc_read(TinyRTC *s, unsigned port);
void rtc_update(TinyRTC *s, int64_t now_ns);
/* The guest sets the time: moves the RTC's clock by `delta_ns`. */
void rtc_adjust(TinyRTC *s, int64_t delta_ns);
bool rtc_reinject_needed(void *opaque);

/* ---- DMA engine: a descriptor table and a bounce buffer, both sized at run time (dma.c) ---- */

#define DMA_MAX_DESC 64
#define DMA_MAX_BUF 65536
#define DMA_CTRL_RUN 0x1
#define DMA_STATUS_DONE 0x1

typedef struct DmaDesc {
    uint32_t src, dst, len, flags;
} DmaDesc;

typedef struct TinyDMA {
    uint32_t ctrl, status;
    int32_t num_desc;
    DmaDesc *desc;     /* num_desc entries, g_malloc'd (VMSTATE_STRUCT_VARRAY_ALLOC) */
    uint32_t cur_desc, cur_off;
    uint32_t buf_size;
    uint8_t *buf;      /* buf_size bytes, g_malloc'd (VMSTATE_VBUFFER_ALLOC_UINT32) */
    uint64_t bytes_moved;
    uint8_t *ram;      /* not migrated */
    size_t ram_size;   /* not migrated */
} TinyDMA;

extern const VMStateDescription vmstate_tiny_dma;

void dma_init(TinyDMA *s, uint8_t *ram, size_t ram_size);
void dma_finalize(TinyDMA *s);
bool dma_busy(const TinyDMA *s);
/* Replaces the descriptor table with `num` descriptors and starts the engine. */
void dma_program(TinyDMA *s, const DmaDesc *desc, int32_t num);
void dma_run(TinyDMA *s, uint32_t budget);

/* ---- block device: a queue of pending requests and a custom VMStateInfo (blk.c) ------------ */

#define BLK_MAX_QUEUE 32
#define BLK_CMD_READ 1
#define BLK_CMD_WRITE 2
#define BLK_CMD_FLUSH 3

typedef struct BlkRequest {
    uint32_t tag;
    uint8_t cmd;
    uint64_t sector;
    uint32_t nb_sectors;
    uint32_t ram_addr;
    QTAILQ_ENTRY(BlkRequest) next;
} BlkRequest;

/* Saved packed into one be32 by the device's own VMStateInfo. */
typedef struct BlkGeometry {
    uint16_t cylinders;
    uint8_t heads;
    uint8_t sectors;
} BlkGeometry;

typedef struct TinyBlk {
    BlkGeometry geom;
    uint32_t next_tag;
    uint32_t queue_depth;
    uint64_t completed;
    uint64_t write_checksum;
    QTAILQ_HEAD(, BlkRequest) pending;
    uint8_t *ram;      /* not migrated */
    size_t ram_size;   /* not migrated */
} TinyBlk;

extern const VMStateDescription vmstate_tiny_blk;
extern const VMStateInfo vmstate_info_blk_geometry;

void blk_init(TinyBlk *s, uint8_t *ram, size_t ram_size);
void blk_finalize(TinyBlk *s);
bool blk_submit(TinyBlk *s, uint8_t cmd, uint64_t sector, uint32_t nb_sectors, uint32_t ram_addr);
bool blk_complete_one(TinyBlk *s);

/* ---- the machine (machine.c) --------------------------------------------------------------- */

typedef struct Machine {
    TinyCPU cpu;
    EmuClock clock;
    TinyUART uart[2];
    TinyTimer timer;
    TinyRTC rtc;
    TinyDMA dma;
    TinyBlk blk;
    uint8_t *ram;
} Machine;

/* One registered section: idstr, instance id, description, and where its state is. */
typedef struct MachineDevice {
    const char *idstr;
    uint32_t instance_id;
    const VMStateDescription *vmsd;
    size_t offset; /* of the device's struct inside Machine */
} MachineDevice;

extern const MachineDevice machine_devices[];
extern const size_t machine_device_count;
#define TINY_RAM_BLOCK "tiny.ram"

/* Power-on state; the guest's actions will come from `seed`. */
void machine_init(Machine *m, uint64_t seed);
void machine_finalize(Machine *m);
/* Runs `steps` steps of made-up guest activity. */
void machine_run(Machine *m, unsigned steps);
/* Registers every device and the RAM with `reg`. */
bool machine_register(Machine *m, VMStateRegistry *reg, GError **error);
/* How many of the RAM's 4096-byte pages are all zero (the stream sends those as zero pages). */
size_t ram_zero_pages(const uint8_t *ram);

/* ---- comparing two machines (compare.c) ---------------------------------------------------- */

/*
 * Compares every migrated field of every device and the RAM of `want` and `got`; with
 * `print`, prints one line per device (and the first differences). Returns the number of
 * differences.
 */
int machine_compare(Machine *want, Machine *got, bool print);

#endif
