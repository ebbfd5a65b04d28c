/*
 * fx-dma: a scatter-gather DMA controller. Arrays of nested structs (whole, sub-range,
 * counted by 8/16/32-bit counters, behind pointers, allocated on load), counted arrays of
 * scalars (in place and behind pointers, allocated on load, multiplied), struct pointers.
 * Every counter is saved before the VALIDATE that bounds it and before the array it counts.
 */
#ifndef FX_DMA_H
#define FX_DMA_H

#include "fx_common.h"

#define FX_DMA_CHANNELS 8
#define FX_DMA_AUX 4
#define FX_DMA_PRIO 4
#define FX_DMA_RING 8
#define FX_DMA_PEND 8
#define FX_DMA_FIXED 4
#define FX_DMA_FIFO 16
#define FX_DMA_STAT 8
#define FX_DMA_LANES_PER_GROUP 4
#define FX_DMA_LANE_GROUPS 8
/* capacity of the non-allocating pointer arrays (chain, table, bufs, regs, log) */
#define FX_DMA_PTR_CAPACITY 8
/* bound on the counts of the arrays the loader allocates (sg, hist; map is 16-bit) */
#define FX_DMA_ALLOC_MAX 64

typedef struct FxDMADesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
} FxDMADesc;

typedef struct FxDMAChannel {
    uint32_t base_addr;
    uint32_t cur_addr;
    uint16_t base_count;
    uint16_t cur_count;
    uint8_t mode;
    uint8_t page;                /* since version 2 of fx-dma-chan */
} FxDMAChannel;

typedef struct FxDMAState {
    FxDMAChannel chan[FX_DMA_CHANNELS]; /* two controllers of four channels */
    FxDMAChannel aux[FX_DMA_AUX];

    uint8_t nprio;
    FxDMAChannel prio[FX_DMA_PRIO];
    int32_t ring_count;
    FxDMADesc ring[FX_DMA_RING];
    uint32_t pend_count;
    FxDMADesc pend[FX_DMA_PEND];
    int32_t sg_count;
    FxDMADesc *sg;               /* allocated on load */
    int32_t chain_len;
    FxDMADesc *chain;
    uint32_t table_len;
    FxDMADesc *table;
    uint16_t nbufs;
    FxDMADesc *bufs;
    FxDMADesc *fixed;            /* always FX_DMA_FIXED entries */
    FxDMADesc *active;
    FxDMADesc *last;             /* since version 2 */
    FxDMADesc *shadow;           /* only with has_shadow */
    FxDMADesc *pending_desc;     /* only with has_shadow, since version 2 */

    uint32_t nregs;
    uint32_t *regs;
    uint32_t nhist;
    uint64_t *hist;              /* allocated on load */
    uint16_t nmap;
    uint16_t *map;               /* allocated on load */
    int32_t nlog;
    uint8_t *log;
    uint16_t fifo_count;
    uint32_t fifo[FX_DMA_FIFO];
    int32_t nstat;
    int32_t stat[FX_DMA_STAT];
    uint32_t nlane_groups;
    uint16_t lanes[FX_DMA_LANES_PER_GROUP * FX_DMA_LANE_GROUPS];

    /* configuration, not migrated */
    bool has_shadow;
} FxDMAState;

extern const VMStateDescription fx_dma_desc_vmsd;
extern const VMStateDescription fx_dma_chan_vmsd;
extern const VMStateDescription fx_dma_vmsd;
extern const VMStateField fx_dma_desc_fields[];
extern const VMStateField fx_dma_chan_fields[];
extern const VMStateField fx_dma_fields[];

bool fx_dma_has_shadow(void *opaque, int version_id);
bool fx_dma_counts_valid(void *opaque, int version_id);

void fx_dma_init(void *state, unsigned seed);
void fx_dma_cleanup(void *state);

#endif
