/*
 * The machine: a CPU that runs a made-up "program" (every action comes from a seeded random
 * source, so a run is the same every time), the devices, and 1 MiB of RAM.
 *
 * The random source's state is part of the CPU's migrated state: a restored machine carries on
 * with exactly the actions the original would have taken.
 */
#include <stddef.h>
#include <string.h>

#include "tiny.h"

#define GUEST_RAM_SCRATCH (512 * 1024) /* the program writes here */
#define GUEST_RAM_IO (768 * 1024)      /* DMA and block transfers stay below this */

uint64_t tiny_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t tiny_rand_below(uint64_t *state, uint32_t n) {
    return (uint32_t)(tiny_rand(state) % n);
}

const VMStateDescription vmstate_tiny_cpu = {
    .name = "tiny-cpu",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(rng_state, TinyCPU),
        VMSTATE_UINT64(steps, TinyCPU),
        VMSTATE_UINT32_ARRAY(regs, TinyCPU, 8),
        VMSTATE_UINT32(pc, TinyCPU),
        VMSTATE_END_OF_LIST(),
    },
};

const MachineDevice machine_devices[] = {
    {"tiny-cpu", 0, &vmstate_tiny_cpu, offsetof(Machine, cpu)},
    {"tiny-clock", 0, &vmstate_emu_clock, offsetof(Machine, clock)},
    {"tiny-uart", 0, &vmstate_tiny_uart, offsetof(Machine, uart[0])},
    {"tiny-uart", 1, &vmstate_tiny_uart, offsetof(Machine, uart[1])},
    {"tiny-timer", 0, &vmstate_tiny_timer, offsetof(Machine, timer)},
    {"tiny-rtc", 0, &vmstate_tiny_rtc, offsetof(Machine, rtc)},
    {"tiny-dma", 0, &vmstate_tiny_dma, offsetof(Machine, dma)},
    {"tiny-blk", 0, &vmstate_tiny_blk, offsetof(Machine, blk)},
};
const size_t machine_device_count = sizeof(machine_devices) / sizeof(machine_devices[0]);

void machine_init(Machine *m, uint64_t seed) {
    memset(m, 0, sizeof(*m));
    m->ram = g_malloc0(TINY_RAM_SIZE);
    m->cpu.rng_state = seed;
    emu_clock_init(&m->clock);
    uart_reset(&m->uart[0]);
    uart_reset(&m->uart[1]);
    tiny_timer_init(&m->timer, &m->clock);
    rtc_reset(&m->rtc);
    dma_init(&m->dma, m->ram, TINY_RAM_SIZE);
    blk_init(&m->blk, m->ram, TINY_RAM_SIZE);
}

void machine_finalize(Machine *m) {
    tiny_timer_finalize(&m->timer);
    dma_finalize(&m->dma);
    blk_finalize(&m->blk);
    g_free(m->ram);
    m->ram = NULL;
}

bool machine_register(Machine *m, VMStateRegistry *reg, GError **error) {
    for (size_t i = 0; i < machine_device_count; i++) {
        const MachineDevice *d = &machine_devices[i];
        if (!vmstate_registry_add(reg, d->idstr, d->instance_id, d->vmsd, (char *)m + d->offset,
                                  error)) {
            return false;
        }
    }
    return vmstate_registry_add_ram(reg, TINY_RAM_BLOCK, m->ram, TINY_RAM_SIZE, error);
}

size_t ram_zero_pages(const uint8_t *ram) {
    static const uint8_t zeros[4096];
    size_t n = 0;
    for (size_t off = 0; off < TINY_RAM_SIZE; off += sizeof(zeros)) {
        n += memcmp(ram + off, zeros, sizeof(zeros)) == 0;
    }
    return n;
}

/* ---- the guest's actions ------------------------------------------------------------------- */

static const char banner[] = "tiny-emulator says hello over the serial line\r\n";

static void guest_uart(Machine *m, uint64_t *rng, uint32_t what) {
    TinyUART *uart = &m->uart[what & 1];
    switch ((what >> 1) % 8) {
    case 0: case 1: case 2: { /* a burst of output */
        uint32_t n = 1 + tiny_rand_below(rng, 8);
        for (uint32_t i = 0; i < n; i++) {
            uart_write(uart, 0, (uint8_t)banner[uart->tx_count % (sizeof(banner) - 1)]);
        }
        break;
    }
    case 3: case 4: { /* read what arrived */
        uint32_t n = 1 + tiny_rand_below(rng, 6);
        for (uint32_t i = 0; i < n && (uart_read(uart, 5) & 0x01); i++) {
            uart_read(uart, 0);
        }
        break;
    }
    case 5: /* program the baud rate */
        uart_write(uart, 3, 0x83);
        uart_write(uart, 0, (uint8_t)(1 + tiny_rand_below(rng, 96)));
        uart_write(uart, 1, 0);
        uart_write(uart, 3, 0x03);
        break;
    case 6:
        uart_write(uart, 1, (uint8_t)tiny_rand_below(rng, 16)); /* IER */
        uart_write(uart, 4, (uint8_t)tiny_rand_below(rng, 32)); /* MCR */
        break;
    default:
        uart_write(uart, 2, tiny_rand_below(rng, 4) == 0 ? 0x07 : 0x01); /* FCR */
        uart_write(uart, 7, (uint8_t)tiny_rand(rng));                   /* SCR */
        break;
    }
}

static void guest_timer(Machine *m, uint64_t *rng, uint32_t what) {
    switch (what % 4) {
    case 0:
        tiny_timer_program(&m->timer, tiny_rand_below(rng, 8),
                           20000 + tiny_rand_below(rng, 2000000));
        break;
    case 1: case 2:
        /* The guest "hangs" in every other 1000 steps and stops kicking the watchdog. */
        if ((m->cpu.steps / 1000) % 2 == 0) {
            tiny_timer_kick_watchdog(&m->timer);
        }
        break;
    default:
        tiny_timer_ack(&m->timer);
        break;
    }
}

static void guest_rtc(Machine *m, uint64_t *rng, uint32_t what) {
    TinyRTC *rtc = &m->rtc;
    switch (what % 6) {
    case 0: /* periodic rate */
        rtc_write(rtc, 0, RTC_REG_A);
        rtc_write(rtc, 1, (uint8_t)(0x20 | (3 + tiny_rand_below(rng, 8))));
        break;
    case 1: /* periodic interrupt on or off */
        rtc_write(rtc, 0, RTC_REG_B);
        rtc_write(rtc, 1, tiny_rand_below(rng, 4) ? 0x42 : 0x02);
        break;
    case 2: case 3: /* acknowledge */
        rtc_write(rtc, 0, RTC_REG_C);
        rtc_read(rtc, 1);
        break;
    case 4: /* CMOS bytes */
        rtc_write(rtc, 0, (uint8_t)(14 + tiny_rand_below(rng, RTC_CMOS_SIZE - 14)));
        rtc_write(rtc, 1, (uint8_t)tiny_rand(rng));
        break;
    default: /* set the time */
        rtc_adjust(rtc, (int64_t)tiny_rand_below(rng, 2000000) - 1000000);
        break;
    }
}

static void guest_dma(Machine *m, uint64_t *rng) {
    if (dma_busy(&m->dma) || tiny_rand_below(rng, 3) != 0) {
        return;
    }
    DmaDesc desc[12];
    int32_t n = (int32_t)tiny_rand_below(rng, 13);
    for (int32_t i = 0; i < n; i++) {
        uint32_t len = 1 + tiny_rand_below(rng, 4096);
        desc[i] = (DmaDesc){.src = tiny_rand_below(rng, GUEST_RAM_IO - len),
                            .dst = tiny_rand_below(rng, GUEST_RAM_IO - len),
                            .len = len,
                            .flags = tiny_rand_below(rng, 4)};
    }
    dma_program(&m->dma, desc, n);
}

static void guest_blk(Machine *m, uint64_t *rng) {
    const BlkGeometry *g = &m->blk.geom;
    uint64_t disk_sectors = (uint64_t)g->cylinders * g->heads * g->sectors;
    blk_submit(&m->blk, (uint8_t)(1 + tiny_rand_below(rng, 3)), tiny_rand(rng) % disk_sectors,
               1 + tiny_rand_below(rng, 8), tiny_rand_below(rng, GUEST_RAM_IO - 4096) & ~511u);
}

static void machine_step(Machine *m) {
    TinyCPU *cpu = &m->cpu;
    uint64_t *rng = &cpu->rng_state;
    uint64_t r = tiny_rand(rng);
    uint32_t what = (uint32_t)(r >> 32);

    switch (r % 16) {
    case 0: case 1: case 2: { /* the program writes memory */
        uint32_t len = 1 + tiny_rand_below(rng, 64);
        uint32_t addr = tiny_rand_below(rng, GUEST_RAM_SCRATCH - len);
        for (uint32_t i = 0; i < len; i++) {
            m->ram[addr + i] = (uint8_t)tiny_rand(rng);
        }
        break;
    }
    case 3: case 4: case 5:
        guest_uart(m, rng, what);
        break;
    case 6:
        guest_timer(m, rng, what);
        break;
    case 7: case 8:
        guest_rtc(m, rng, what);
        break;
    case 9:
        guest_dma(m, rng);
        break;
    case 10: case 11:
        guest_blk(m, rng);
        break;
    case 12:
        for (uint32_t n = 1 + tiny_rand_below(rng, 3); n > 0; n--) {
            blk_complete_one(&m->blk);
        }
        break;
    default: { /* arithmetic, and a load from memory */
        uint32_t addr = tiny_rand_below(rng, TINY_RAM_SIZE - 4);
        uint32_t word;
        memcpy(&word, m->ram + addr, sizeof(word));
        cpu->regs[what & 7] = cpu->regs[(what >> 3) & 7] + word + what;
        break;
    }
    }

    /* The hardware keeps going whatever the program does. */
    if (cpu->steps % 3 == 0) {
        uart_transmit(&m->uart[0], &m->uart[1]);
    }
    if (cpu->steps % 5 == 0) {
        uart_transmit(&m->uart[1], &m->uart[0]);
    }
    dma_run(&m->dma, 512);
    emu_clock_advance(&m->clock, TINY_STEP_NS);
    rtc_update(&m->rtc, m->clock.now_ns);
    cpu->pc = (cpu->pc * 1103515245u + 12345u) ^ what;
    cpu->steps++;
}

void machine_run(Machine *m, unsigned steps) {
    for (unsigned i = 0; i < steps; i++) {
        machine_step(m);
    }
}
