/*
 * A DMA engine that copies between RAM addresses through a bounce buffer, following a table of
 * descriptors the guest programs.
 *
 * Both the descriptor table and the bounce buffer are sized at run time, so they are pointers:
 * VMSTATE_STRUCT_VARRAY_ALLOC saves num_desc descriptors and allocates the table on load;
 * VMSTATE_VBUFFER_ALLOC_UINT32 does the same for buf_size bytes of buffer. The counts come from
 * the stream, so they are loaded first and checked (VMSTATE_VALIDATE) before anything is
 * allocated from them.
 */
#include <errno.h>
#include <string.h>

#include "tiny.h"

static const VMStateDescription vmstate_dma_desc = {
    .name = "tiny-dma-desc",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(src, DmaDesc),
        VMSTATE_UINT32(dst, DmaDesc),
        VMSTATE_UINT32(len, DmaDesc),
        VMSTATE_UINT32(flags, DmaDesc),
        VMSTATE_END_OF_LIST(),
    },
};

static bool dma_num_desc_valid(void *opaque, int version_id) {
    TinyDMA *s = opaque;
    (void)version_id;
    return s->num_desc >= 0 && s->num_desc <= DMA_MAX_DESC;
}

static bool dma_buf_size_valid(void *opaque, int version_id) {
    TinyDMA *s = opaque;
    (void)version_id;
    return s->buf_size <= DMA_MAX_BUF;
}

/* The ALLOC fields store a fresh allocation over the pointer: free what is there first. */
static int dma_pre_load(void *opaque) {
    TinyDMA *s = opaque;
    /* Not g_free: a transactional load that fails puts these pointers back. */
    vmstate_free_after_load(s->desc);
    s->desc = NULL;
    vmstate_free_after_load(s->buf);
    s->buf = NULL;
    return 0;
}

static int dma_post_load(void *opaque, int version_id) {
    TinyDMA *s = opaque;
    (void)version_id;
    if (s->cur_desc > (uint32_t)s->num_desc) {
        return -EINVAL;
    }
    for (int32_t i = 0; i < s->num_desc; i++) {
        const DmaDesc *d = &s->desc[i];
        if (d->len > s->buf_size || d->src > s->ram_size - d->len || d->dst > s->ram_size - d->len) {
            return -EINVAL;
        }
    }
    return 0;
}

const VMStateDescription vmstate_tiny_dma = {
    .name = "tiny-dma",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = dma_pre_load,
    .post_load = dma_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(ctrl, TinyDMA),
        VMSTATE_UINT32(status, TinyDMA),
        VMSTATE_INT32(num_desc, TinyDMA),
        VMSTATE_VALIDATE("num_desc is at most DMA_MAX_DESC", dma_num_desc_valid),
        VMSTATE_STRUCT_VARRAY_ALLOC(desc, TinyDMA, num_desc, 0, vmstate_dma_desc, DmaDesc),
        VMSTATE_UINT32(cur_desc, TinyDMA),
        VMSTATE_UINT32(cur_off, TinyDMA),
        VMSTATE_UINT32(buf_size, TinyDMA),
        VMSTATE_VALIDATE("buf_size is at most DMA_MAX_BUF", dma_buf_size_valid),
        VMSTATE_VBUFFER_ALLOC_UINT32(buf, TinyDMA, 0, NULL, buf_size),
        VMSTATE_UINT64(bytes_moved, TinyDMA),
        VMSTATE_END_OF_LIST(),
    },
};

void dma_init(TinyDMA *s, uint8_t *ram, size_t ram_size) {
    *s = (TinyDMA){.ram = ram, .ram_size = ram_size};
}

void dma_finalize(TinyDMA *s) {
    g_free(s->desc);
    g_free(s->buf);
    s->desc = NULL;
    s->buf = NULL;
}

bool dma_busy(const TinyDMA *s) { return s->ctrl & DMA_CTRL_RUN; }

void dma_program(TinyDMA *s, const DmaDesc *desc, int32_t num) {
    g_assert(num >= 0 && num <= DMA_MAX_DESC);
    uint32_t longest = 0;
    for (int32_t i = 0; i < num; i++) {
        g_assert(desc[i].len <= DMA_MAX_BUF);
        if (desc[i].len > longest) {
            longest = desc[i].len;
        }
    }
    g_free(s->desc);
    s->desc = num ? g_memdup2(desc, sizeof(DmaDesc) * (size_t)num) : NULL;
    s->num_desc = num;
    g_free(s->buf);
    s->buf_size = longest;
    s->buf = longest ? g_malloc0(longest) : NULL;
    s->cur_desc = 0;
    s->cur_off = 0;
    s->status = 0;
    s->ctrl = DMA_CTRL_RUN;
}

void dma_run(TinyDMA *s, uint32_t budget) {
    while ((s->ctrl & DMA_CTRL_RUN) && budget > 0) {
        if (s->cur_desc >= (uint32_t)s->num_desc) {
            s->ctrl &= ~DMA_CTRL_RUN;
            s->status |= DMA_STATUS_DONE;
            break;
        }
        const DmaDesc *d = &s->desc[s->cur_desc];
        uint32_t chunk = d->len - s->cur_off;
        if (chunk > budget) {
            chunk = budget;
        }
        memcpy(s->buf + s->cur_off, s->ram + d->src + s->cur_off, chunk);
        memcpy(s->ram + d->dst + s->cur_off, s->buf + s->cur_off, chunk);
        s->cur_off += chunk;
        s->bytes_moved += chunk;
        budget -= chunk;
        if (s->cur_off == d->len) {
            s->cur_desc++;
            s->cur_off = 0;
        }
    }
}
