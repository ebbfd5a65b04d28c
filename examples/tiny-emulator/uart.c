/*
 * A 16550-style UART: divisor latch, interrupt enable/identification, line and modem control
 * and status, scratch register, and 16-byte receive and transmit FIFOs.
 *
 * State: the registers as single fields, each FIFO as a nested struct with its own description
 * (VMSTATE_STRUCT), and the FIFO depth as an "equal" field that must match on load.
 */
#include <errno.h>

#include "tiny.h"

enum { REG_DATA = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5,
       REG_MSR = 6, REG_SCR = 7 };

#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_FIFO 0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04

/* A stream could carry any head and count: refuse the ones that would index outside data[]. */
static int uart_fifo_post_load(void *opaque, int version_id) {
    UartFifo *fifo = opaque;
    (void)version_id;
    if (fifo->head >= UART_FIFO_SIZE || fifo->num > UART_FIFO_SIZE) {
        return -EINVAL;
    }
    return 0;
}

static const VMStateDescription vmstate_uart_fifo = {
    .name = "tiny-uart-fifo",
    .version_id = 1,
    .minimum_version_id = 1,
    .post_load = uart_fifo_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT8_ARRAY(data, UartFifo, UART_FIFO_SIZE),
        VMSTATE_UINT8(head, UartFifo),
        VMSTATE_UINT8(num, UartFifo),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription vmstate_tiny_uart = {
    .name = "tiny-uart",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT16(divider, TinyUART),
        VMSTATE_UINT8(rbr, TinyUART),
        VMSTATE_UINT8(ier, TinyUART),
        VMSTATE_UINT8(iir, TinyUART),
        VMSTATE_UINT8(lcr, TinyUART),
        VMSTATE_UINT8(mcr, TinyUART),
        VMSTATE_UINT8(lsr, TinyUART),
        VMSTATE_UINT8(msr, TinyUART),
        VMSTATE_UINT8(scr, TinyUART),
        VMSTATE_UINT8(fcr, TinyUART),
        VMSTATE_UINT8_EQUAL(fifo_size, TinyUART, "both sides must have the same FIFO depth"),
        VMSTATE_STRUCT(rx, TinyUART, 0, vmstate_uart_fifo, UartFifo),
        VMSTATE_STRUCT(tx, TinyUART, 0, vmstate_uart_fifo, UartFifo),
        VMSTATE_BOOL(irq_level, TinyUART),
        VMSTATE_UINT64(tx_count, TinyUART),
        VMSTATE_UINT64(rx_count, TinyUART),
        VMSTATE_UINT32(overruns, TinyUART),
        VMSTATE_END_OF_LIST(),
    },
};

static bool fifo_push(UartFifo *f, uint8_t byte) {
    if (f->num == UART_FIFO_SIZE) {
        return false;
    }
    f->data[(f->head + f->num) % UART_FIFO_SIZE] = byte;
    f->num++;
    return true;
}

static uint8_t fifo_pop(UartFifo *f) {
    if (f->num == 0) {
        return 0;
    }
    uint8_t byte = f->data[f->head];
    f->head = (f->head + 1) % UART_FIFO_SIZE;
    f->num--;
    return byte;
}

static void fifo_clear(UartFifo *f) {
    f->head = 0;
    f->num = 0;
}

static void uart_update(TinyUART *s) {
    s->lsr &= ~(LSR_DR | LSR_THRE | LSR_TEMT);
    if (s->rx.num) {
        s->lsr |= LSR_DR;
    }
    if (s->tx.num == 0) {
        s->lsr |= LSR_THRE | LSR_TEMT;
    }
    uint8_t iir = IIR_NO_INT;
    if ((s->ier & IER_RDI) && s->rx.num) {
        iir = IIR_RDI;
    } else if ((s->ier & IER_THRI) && s->tx.num == 0) {
        iir = IIR_THRI;
    }
    if (s->fcr & FCR_ENABLE) {
        iir |= IIR_FIFO;
    }
    s->iir = iir;
    s->irq_level = !(iir & IIR_NO_INT);
}

void uart_reset(TinyUART *s) {
    *s = (TinyUART){.divider = 12, .lsr = LSR_THRE | LSR_TEMT, .iir = IIR_NO_INT,
                    .fifo_size = UART_FIFO_SIZE};
    uart_update(s);
}

void uart_write(TinyUART *s, unsigned reg, uint8_t val) {
    switch (reg & 7) {
    case REG_DATA:
        if (s->lcr & LCR_DLAB) {
            s->divider = (uint16_t)((s->divider & 0xff00) | val);
        } else if (fifo_push(&s->tx, val)) {
            s->tx_count++;
        } else {
            s->overruns++;
        }
        break;
    case REG_IER:
        if (s->lcr & LCR_DLAB) {
            s->divider = (uint16_t)((s->divider & 0x00ff) | (val << 8));
        } else {
            s->ier = val & 0x0f;
        }
        break;
    case REG_IIR_FCR:
        s->fcr = val & 0xc9;
        if (val & FCR_CLEAR_RX) {
            fifo_clear(&s->rx);
        }
        if (val & FCR_CLEAR_TX) {
            fifo_clear(&s->tx);
        }
        break;
    case REG_LCR:
        s->lcr = val;
        break;
    case REG_MCR:
        s->mcr = val & 0x1f;
        s->msr = (uint8_t)((s->msr & 0x0f) | ((val & 0x0f) << 4));
        break;
    case REG_SCR:
        s->scr = val;
        break;
    default:
        break;
    }
    uart_update(s);
}

uint8_t uart_read(TinyUART *s, unsigned reg) {
    uint8_t val;
    switch (reg & 7) {
    case REG_DATA:
        if (s->lcr & LCR_DLAB) {
            return (uint8_t)s->divider;
        }
        if (s->rx.num) {
            s->rbr = fifo_pop(&s->rx);
        }
        val = s->rbr;
        break;
    case REG_IER:
        return s->ier;
    case REG_IIR_FCR:
        return s->iir;
    case REG_LCR:
        return s->lcr;
    case REG_MCR:
        return s->mcr;
    case REG_LSR:
        val = s->lsr;
        s->lsr &= ~LSR_OE;
        break;
    case REG_MSR:
        return s->msr;
    default:
        return s->scr;
    }
    uart_update(s);
    return val;
}

void uart_transmit(TinyUART *from, TinyUART *to) {
    if (from->tx.num == 0) {
        return;
    }
    uint8_t byte = fifo_pop(&from->tx);
    if (fifo_push(&to->rx, byte)) {
        to->rx_count++;
    } else {
        to->lsr |= LSR_OE;
        to->overruns++;
    }
    uart_update(from);
    uart_update(to);
}
