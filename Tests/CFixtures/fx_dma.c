/* fx-dma: see fx_dma.h. */
#include "fx_dma.h"

#include <string.h>

bool fx_dma_has_shadow(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxDMAState *)opaque)->has_shadow;
}

bool fx_dma_counts_valid(void *opaque, int version_id) {
    (void)version_id;
    const FxDMAState *s = opaque;
    return s->nprio <= FX_DMA_PRIO && s->ring_count >= 0 && s->ring_count <= FX_DMA_RING &&
           s->pend_count <= FX_DMA_PEND && s->sg_count >= 0 && s->sg_count <= FX_DMA_ALLOC_MAX &&
           s->nhist <= FX_DMA_ALLOC_MAX && s->chain_len >= 0 &&
           s->chain_len <= FX_DMA_PTR_CAPACITY && s->table_len <= FX_DMA_PTR_CAPACITY &&
           s->nbufs <= FX_DMA_PTR_CAPACITY && s->nregs <= FX_DMA_PTR_CAPACITY &&
           s->nlog >= 0 && s->nlog <= FX_DMA_PTR_CAPACITY && s->fifo_count <= FX_DMA_FIFO &&
           s->nstat >= 0 && s->nstat <= FX_DMA_STAT && s->nlane_groups <= FX_DMA_LANE_GROUPS;
}

const VMStateField fx_dma_desc_fields[] = {
    VMSTATE_UINT64(addr, FxDMADesc),
    VMSTATE_UINT32(len, FxDMADesc),
    VMSTATE_UINT16(flags, FxDMADesc),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_dma_desc_vmsd = {
    .name = "fx-dma-desc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_dma_desc_fields,
};

const VMStateField fx_dma_chan_fields[] = {
    VMSTATE_UINT32(base_addr, FxDMAChannel),
    VMSTATE_UINT32(cur_addr, FxDMAChannel),
    VMSTATE_UINT16(base_count, FxDMAChannel),
    VMSTATE_UINT16(cur_count, FxDMAChannel),
    VMSTATE_UINT8(mode, FxDMAChannel),
    VMSTATE_UINT8_V(page, FxDMAChannel, 2),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_dma_chan_vmsd = {
    .name = "fx-dma-chan",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = fx_dma_chan_fields,
};

const VMStateField fx_dma_fields[] = {
    VMSTATE_STRUCT_SUB_ARRAY(chan, FxDMAState, 0, 4, 0, fx_dma_chan_vmsd, FxDMAChannel),
    VMSTATE_STRUCT_SUB_ARRAY(chan, FxDMAState, 4, 4, 0, fx_dma_chan_vmsd, FxDMAChannel),
    VMSTATE_STRUCT_ARRAY(aux, FxDMAState, FX_DMA_AUX, 1, fx_dma_chan_vmsd, FxDMAChannel),

    /* counters first, then the check that bounds them, then what they count */
    VMSTATE_UINT8(nprio, FxDMAState),
    VMSTATE_INT32(ring_count, FxDMAState),
    VMSTATE_UINT32(pend_count, FxDMAState),
    VMSTATE_INT32(sg_count, FxDMAState),
    VMSTATE_INT32(chain_len, FxDMAState),
    VMSTATE_UINT32(table_len, FxDMAState),
    VMSTATE_UINT16(nbufs, FxDMAState),
    VMSTATE_UINT32(nregs, FxDMAState),
    VMSTATE_UINT32(nhist, FxDMAState),
    VMSTATE_UINT16(nmap, FxDMAState),
    VMSTATE_INT32(nlog, FxDMAState),
    VMSTATE_UINT16(fifo_count, FxDMAState),
    VMSTATE_INT32(nstat, FxDMAState),
    VMSTATE_UINT32(nlane_groups, FxDMAState),
    VMSTATE_VALIDATE("fx-dma counts in range", fx_dma_counts_valid),

    VMSTATE_STRUCT_VARRAY_UINT8(prio, FxDMAState, nprio, 0, fx_dma_chan_vmsd, FxDMAChannel),
    VMSTATE_STRUCT_VARRAY_INT32(ring, FxDMAState, ring_count, 0, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_VARRAY_UINT32(pend, FxDMAState, pend_count, 2, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_VARRAY_ALLOC(sg, FxDMAState, sg_count, 1, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_VARRAY_POINTER_INT32(chain, FxDMAState, chain_len, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_VARRAY_POINTER_UINT32(table, FxDMAState, table_len, fx_dma_desc_vmsd,
                                         FxDMADesc),
    VMSTATE_STRUCT_VARRAY_POINTER_UINT16(bufs, FxDMAState, nbufs, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_VARRAY_POINTER_KNOWN(fixed, FxDMAState, FX_DMA_FIXED, 0, fx_dma_desc_vmsd,
                                        FxDMADesc),
    VMSTATE_STRUCT_POINTER(active, FxDMAState, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_POINTER_V(last, FxDMAState, 2, fx_dma_desc_vmsd, FxDMADesc),
    VMSTATE_STRUCT_POINTER_TEST(shadow, FxDMAState, fx_dma_has_shadow, fx_dma_desc_vmsd,
                                FxDMADesc),
    VMSTATE_STRUCT_POINTER_TEST_V(pending_desc, FxDMAState, fx_dma_has_shadow, 2,
                                  fx_dma_desc_vmsd, FxDMADesc),

    VMSTATE_VARRAY_UINT32(regs, FxDMAState, nregs, 0, vmstate_info_uint32, uint32_t),
    VMSTATE_VARRAY_UINT32_ALLOC(hist, FxDMAState, nhist, 1, vmstate_info_uint64, uint64_t),
    VMSTATE_VARRAY_UINT16_ALLOC(map, FxDMAState, nmap, 2, vmstate_info_uint16, uint16_t),
    VMSTATE_VARRAY_INT32(log, FxDMAState, nlog, 0, vmstate_info_uint8, uint8_t),
    VMSTATE_VARRAY_UINT16_UNSAFE(fifo, FxDMAState, fifo_count, 0, vmstate_info_uint32, uint32_t),
    VMSTATE_ARRAY_INT32_UNSAFE(stat, FxDMAState, nstat, vmstate_info_int32, int32_t),
    VMSTATE_VARRAY_MULTIPLY(lanes, FxDMAState, nlane_groups, FX_DMA_LANES_PER_GROUP,
                            vmstate_info_uint16, uint16_t),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_dma_vmsd = {
    .name = "fx-dma",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = fx_dma_fields,
};

const FxTable fx_dma_tables[] = {
    FX_TABLE(&fx_dma_vmsd, fx_dma_fields),
    FX_TABLE(&fx_dma_desc_vmsd, fx_dma_desc_fields),
    FX_TABLE(&fx_dma_chan_vmsd, fx_dma_chan_fields),
};
const size_t fx_dma_table_count = FX_N_ELEMENTS(fx_dma_tables);

static void fx_dma_fill_desc(FxDMADesc *d, unsigned seed, unsigned i) {
    d->addr = 0x100000ULL * (i + 1) + seed;
    d->len = 512 * (i + 1);
    d->flags = (uint16_t)(i | (seed << 8));
}

static void fx_dma_fill_chan(FxDMAChannel *c, unsigned seed, unsigned i) {
    c->base_addr = 0x1000u * i + seed;
    c->cur_addr = c->base_addr + 16;
    c->base_count = (uint16_t)(0xff + i);
    c->cur_count = (uint16_t)(0x80 + i);
    c->mode = (uint8_t)(0x40 | i);
    c->page = (uint8_t)(seed + i);
}

void fx_dma_init(void *state, unsigned seed) {
    FxDMAState *s = state;
    memset(s, 0, sizeof(*s));
    s->has_shadow = true;
    /* pointers the loader fills in place (no VMS_ALLOC) are allocated here at capacity */
    s->chain = g_new0(FxDMADesc, FX_DMA_PTR_CAPACITY);
    s->table = g_new0(FxDMADesc, FX_DMA_PTR_CAPACITY);
    s->bufs = g_new0(FxDMADesc, FX_DMA_PTR_CAPACITY);
    s->fixed = g_new0(FxDMADesc, FX_DMA_FIXED);
    s->active = g_new0(FxDMADesc, 1);
    s->last = g_new0(FxDMADesc, 1);
    s->shadow = g_new0(FxDMADesc, 1);
    s->pending_desc = g_new0(FxDMADesc, 1);
    s->regs = g_new0(uint32_t, FX_DMA_PTR_CAPACITY);
    s->log = g_new0(uint8_t, FX_DMA_PTR_CAPACITY);
    if (seed == 0) {
        return; /* sg, hist and map stay NULL: the loader allocates them */
    }
    for (unsigned i = 0; i < FX_DMA_CHANNELS; i++) {
        fx_dma_fill_chan(&s->chan[i], seed, i);
    }
    for (unsigned i = 0; i < FX_DMA_AUX; i++) {
        fx_dma_fill_chan(&s->aux[i], seed + 100, i);
    }
    s->nprio = 3;
    for (unsigned i = 0; i < s->nprio; i++) {
        fx_dma_fill_chan(&s->prio[i], seed + 200, i);
    }
    s->ring_count = 5;
    for (int i = 0; i < s->ring_count; i++) {
        fx_dma_fill_desc(&s->ring[i], seed, (unsigned)i);
    }
    s->pend_count = 2;
    for (unsigned i = 0; i < s->pend_count; i++) {
        fx_dma_fill_desc(&s->pend[i], seed + 1, i);
    }
    s->sg_count = 3;
    s->sg = g_new0(FxDMADesc, (gsize)s->sg_count);
    for (int i = 0; i < s->sg_count; i++) {
        fx_dma_fill_desc(&s->sg[i], seed + 2, (unsigned)i);
    }
    s->chain_len = 2;
    s->table_len = 4;
    s->nbufs = 1;
    for (unsigned i = 0; i < FX_DMA_PTR_CAPACITY; i++) {
        fx_dma_fill_desc(&s->chain[i], seed + 3, i);
        fx_dma_fill_desc(&s->table[i], seed + 4, i);
        fx_dma_fill_desc(&s->bufs[i], seed + 5, i);
    }
    for (unsigned i = 0; i < FX_DMA_FIXED; i++) {
        fx_dma_fill_desc(&s->fixed[i], seed + 6, i);
    }
    fx_dma_fill_desc(s->active, seed + 7, 0);
    fx_dma_fill_desc(s->last, seed + 8, 1);
    fx_dma_fill_desc(s->shadow, seed + 9, 2);
    fx_dma_fill_desc(s->pending_desc, seed + 10, 3);
    s->nregs = 6;
    for (unsigned i = 0; i < s->nregs; i++) {
        s->regs[i] = 0xa0000000u + i + seed;
    }
    s->nhist = 3;
    s->hist = g_new0(uint64_t, s->nhist);
    for (unsigned i = 0; i < s->nhist; i++) {
        s->hist[i] = 0x1000000000ULL * (i + 1) + seed;
    }
    s->nmap = 4;
    s->map = g_new0(uint16_t, s->nmap);
    for (unsigned i = 0; i < s->nmap; i++) {
        s->map[i] = (uint16_t)(0xf00 + i + seed);
    }
    s->nlog = 7;
    for (int i = 0; i < s->nlog; i++) {
        s->log[i] = (uint8_t)(i * 11 + seed);
    }
    s->fifo_count = 10;
    for (unsigned i = 0; i < s->fifo_count; i++) {
        s->fifo[i] = 0x55aa0000u + i;
    }
    s->nstat = 4;
    for (int i = 0; i < s->nstat; i++) {
        s->stat[i] = -i * (int32_t)seed;
    }
    s->nlane_groups = 3;
    for (unsigned i = 0; i < s->nlane_groups * FX_DMA_LANES_PER_GROUP; i++) {
        s->lanes[i] = (uint16_t)(i * 257 + seed);
    }
}

void fx_dma_cleanup(void *state) {
    FxDMAState *s = state;
    g_free(s->sg);
    g_free(s->chain);
    g_free(s->table);
    g_free(s->bufs);
    g_free(s->fixed);
    g_free(s->active);
    g_free(s->last);
    g_free(s->shadow);
    g_free(s->pending_desc);
    g_free(s->regs);
    g_free(s->hist);
    g_free(s->map);
    g_free(s->log);
    memset(s, 0, sizeof(*s));
}
