/*
 * Field-by-field comparison of two machines: the one computed by running the steps again
 * ("expected") and the one loaded from a stream ("loaded").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tiny.h"

#define MAX_SHOWN 8

typedef struct Cmp {
    int diffs;
    GString *detail; /* the first MAX_SHOWN differences, one line each */
} Cmp;

static void cmp_u64(Cmp *c, const char *field, uint64_t want, uint64_t got) {
    if (want == got) {
        return;
    }
    if (c->diffs++ < MAX_SHOWN) {
        g_string_append_printf(c->detail, "      %s: expected 0x%" PRIx64 ", loaded 0x%" PRIx64 "\n",
                               field, want, got);
    }
}

static void cmp_bytes(Cmp *c, const char *field, const uint8_t *want, const uint8_t *got, size_t n) {
    if (n == 0 || memcmp(want, got, n) == 0) {
        return;
    }
    size_t i = 0;
    while (want[i] == got[i]) {
        i++;
    }
    if (c->diffs++ < MAX_SHOWN) {
        g_string_append_printf(c->detail, "      %s[%zu]: expected 0x%02x, loaded 0x%02x\n", field,
                               i, want[i], got[i]);
    }
}

#define CMP(c, want, got, member) cmp_u64(c, #member, (uint64_t)(want)->member, (uint64_t)(got)->member)

static double ms(int64_t ns) { return (double)ns / 1e6; }

static void cmp_cpu(Cmp *c, const TinyCPU *a, const TinyCPU *b, GString *sum) {
    CMP(c, a, b, rng_state);
    CMP(c, a, b, steps);
    for (int i = 0; i < 8; i++) {
        CMP(c, a, b, regs[i]);
    }
    CMP(c, a, b, pc);
    g_string_append_printf(sum, "step %" PRIu64 ", pc 0x%08x", b->steps, b->pc);
}

static void cmp_clock(Cmp *c, const EmuClock *a, const EmuClock *b, GString *sum) {
    CMP(c, a, b, now_ns);
    g_string_append_printf(sum, "guest time %.3f ms, %d timers pending", ms(b->now_ns),
                           emu_clock_pending_timers(b));
}

static void cmp_fifo(Cmp *c, const char *name, const UartFifo *a, const UartFifo *b) {
    char field[32];
    g_snprintf(field, sizeof(field), "%s.head", name);
    cmp_u64(c, field, a->head, b->head);
    g_snprintf(field, sizeof(field), "%s.num", name);
    cmp_u64(c, field, a->num, b->num);
    g_snprintf(field, sizeof(field), "%s.data", name);
    cmp_bytes(c, field, a->data, b->data, UART_FIFO_SIZE);
}

static void cmp_uart(Cmp *c, const TinyUART *a, const TinyUART *b, GString *sum) {
    CMP(c, a, b, divider);
    CMP(c, a, b, rbr);
    CMP(c, a, b, ier);
    CMP(c, a, b, iir);
    CMP(c, a, b, lcr);
    CMP(c, a, b, mcr);
    CMP(c, a, b, lsr);
    CMP(c, a, b, msr);
    CMP(c, a, b, scr);
    CMP(c, a, b, fcr);
    CMP(c, a, b, fifo_size);
    cmp_fifo(c, "rx", &a->rx, &b->rx);
    cmp_fifo(c, "tx", &a->tx, &b->tx);
    CMP(c, a, b, irq_level);
    CMP(c, a, b, tx_count);
    CMP(c, a, b, rx_count);
    CMP(c, a, b, overruns);
    g_string_append_printf(sum, "divisor %u, FIFOs rx %u / tx %u bytes, %" PRIu64 " sent, %" PRIu64
                           " received", b->divider, b->rx.num, b->tx.num, b->tx_count, b->rx_count);
}

static void cmp_timer(Cmp *c, const TinyTimer *a, const TinyTimer *b, GString *sum) {
    cmp_u64(c, "tick.expire_time", (uint64_t)a->tick->expire_time, (uint64_t)b->tick->expire_time);
    cmp_u64(c, "watchdog.expire_time", (uint64_t)a->watchdog.expire_time,
            (uint64_t)b->watchdog.expire_time);
    CMP(c, a, b, ctrl);
    CMP(c, a, b, period_ns);
    CMP(c, a, b, ticks);
    CMP(c, a, b, irq_status);
    CMP(c, a, b, last_tick_ns);
    CMP(c, a, b, watchdog_expiries);
    g_string_append_printf(sum, "%u ticks, tick timer ", b->ticks);
    if (emu_timer_pending(b->tick)) {
        g_string_append_printf(sum, "due at %.3f ms", ms(b->tick->expire_time));
    } else {
        g_string_append(sum, "stopped");
    }
    g_string_append_printf(sum, ", watchdog due at %.3f ms (%u expiries)",
                           ms(b->watchdog.expire_time), b->watchdog_expiries);
}

static void cmp_rtc(Cmp *c, const TinyRTC *a, const TinyRTC *b, GString *sum) {
    cmp_bytes(c, "cmos", a->cmos, b->cmos, RTC_CMOS_SIZE);
    CMP(c, a, b, index);
    CMP(c, a, b, last_update_ns);
    CMP(c, a, b, irq_coalesced);
    CMP(c, a, b, alarm_hits);
    CMP(c, a, b, offset_ns);
    CMP(c, a, b, reinject_count);
    CMP(c, a, b, period_ns);
    g_string_append_printf(sum, "%u coalesced interrupts, subsection irq_reinject ", b->irq_coalesced);
    if (b->reinject_count) {
        g_string_append_printf(sum, "sent (%u to reinject)", b->reinject_count);
    } else {
        g_string_append(sum, "not needed");
    }
}

static void cmp_dma(Cmp *c, const TinyDMA *a, const TinyDMA *b, GString *sum) {
    CMP(c, a, b, ctrl);
    CMP(c, a, b, status);
    CMP(c, a, b, num_desc);
    if (a->num_desc == b->num_desc) {
        char field[32];
        for (int32_t i = 0; i < a->num_desc; i++) {
            const DmaDesc *x = &a->desc[i], *y = &b->desc[i];
            g_snprintf(field, sizeof(field), "desc[%d]", i);
            cmp_bytes(c, field, (const uint8_t *)x, (const uint8_t *)y, sizeof(DmaDesc));
        }
    }
    CMP(c, a, b, cur_desc);
    CMP(c, a, b, cur_off);
    CMP(c, a, b, buf_size);
    if (a->buf_size == b->buf_size) {
        cmp_bytes(c, "buf", a->buf, b->buf, a->buf_size);
    }
    CMP(c, a, b, bytes_moved);
    g_string_append_printf(sum, "%d descriptors, %u-byte buffer, %" PRIu64 " bytes moved, %s",
                           b->num_desc, b->buf_size, b->bytes_moved, dma_busy(b) ? "running" : "idle");
}

static void cmp_blk(Cmp *c, const TinyBlk *a, const TinyBlk *b, GString *sum) {
    CMP(c, a, b, geom.cylinders);
    CMP(c, a, b, geom.heads);
    CMP(c, a, b, geom.sectors);
    CMP(c, a, b, next_tag);
    CMP(c, a, b, queue_depth);
    CMP(c, a, b, completed);
    CMP(c, a, b, write_checksum);
    const BlkRequest *x = QTAILQ_FIRST(&a->pending), *y = QTAILQ_FIRST(&b->pending);
    uint32_t n = 0;
    for (; x && y; x = QTAILQ_NEXT(x, next), y = QTAILQ_NEXT(y, next), n++) {
        char field[48];
#define CMP_REQ(member)                                                                          \
    g_snprintf(field, sizeof(field), "pending[%u]." #member, n);                                 \
    cmp_u64(c, field, x->member, y->member)
        CMP_REQ(tag);
        CMP_REQ(cmd);
        CMP_REQ(sector);
        CMP_REQ(nb_sectors);
        CMP_REQ(ram_addr);
#undef CMP_REQ
    }
    cmp_u64(c, "pending (list ends)", x != NULL, y != NULL);
    g_string_append_printf(sum, "%u pending requests", b->queue_depth);
    if (b->queue_depth) {
        g_string_append_printf(sum, " (tags %u..%u)", QTAILQ_FIRST(&b->pending)->tag,
                               b->next_tag - 1);
    }
    g_string_append_printf(sum, ", %" PRIu64 " completed, geometry %u/%u/%u", b->completed,
                           b->geom.cylinders, b->geom.heads, b->geom.sectors);
}

static void cmp_ram(Cmp *c, const uint8_t *a, const uint8_t *b, GString *sum) {
    size_t pages = TINY_RAM_SIZE / 4096, differing = 0, zero = ram_zero_pages(b);
    for (size_t p = 0; p < pages; p++) {
        const uint8_t *x = a + p * 4096, *y = b + p * 4096;
        if (memcmp(x, y, 4096) != 0) {
            if (differing++ == 0) {
                char field[48];
                g_snprintf(field, sizeof(field), "page 0x%05zx", p * 4096);
                cmp_bytes(c, field, x, y, 4096);
            }
        }
    }
    if (differing > 1) {
        c->diffs += (int)differing - 1;
        g_string_append_printf(c->detail, "      %zu pages differ in all\n", differing);
    }
    g_string_append_printf(sum, "%zu pages: %zu with data, %zu zero", pages, pages - zero, zero);
}

static int report(bool print, const char *name, unsigned instance, Cmp *c, GString *sum) {
    if (print) {
        printf("  %-11s %u  %-9s %s\n", name, instance, c->diffs ? "DIFFERENT" : "ok", sum->str);
        if (c->diffs) {
            fputs(c->detail->str, stdout);
            if (c->diffs > MAX_SHOWN) {
                printf("      ... %d differences in all\n", c->diffs);
            }
        }
    }
    int diffs = c->diffs;
    g_string_truncate(sum, 0);
    g_string_truncate(c->detail, 0);
    c->diffs = 0;
    return diffs;
}

int machine_compare(Machine *want, Machine *got, bool print) {
    Cmp c = {.detail = g_string_new(NULL)};
    GString *sum = g_string_new(NULL);
    int total = 0;

    cmp_cpu(&c, &want->cpu, &got->cpu, sum);
    total += report(print, "tiny-cpu", 0, &c, sum);
    cmp_clock(&c, &want->clock, &got->clock, sum);
    total += report(print, "tiny-clock", 0, &c, sum);
    for (unsigned i = 0; i < 2; i++) {
        cmp_uart(&c, &want->uart[i], &got->uart[i], sum);
        total += report(print, "tiny-uart", i, &c, sum);
    }
    cmp_timer(&c, &want->timer, &got->timer, sum);
    total += report(print, "tiny-timer", 0, &c, sum);
    cmp_rtc(&c, &want->rtc, &got->rtc, sum);
    total += report(print, "tiny-rtc", 0, &c, sum);
    cmp_dma(&c, &want->dma, &got->dma, sum);
    total += report(print, "tiny-dma", 0, &c, sum);
    cmp_blk(&c, &want->blk, &got->blk, sum);
    total += report(print, "tiny-blk", 0, &c, sum);
    cmp_ram(&c, want->ram, got->ram, sum);
    if (print) {
        printf("  %-14s %-9s %s\n", "RAM " TINY_RAM_BLOCK, c.diffs ? "DIFFERENT" : "ok", sum->str);
        fputs(c.detail->str, stdout);
    }
    total += c.diffs;

    g_string_free(sum, TRUE);
    g_string_free(c.detail, TRUE);
    return total;
}
