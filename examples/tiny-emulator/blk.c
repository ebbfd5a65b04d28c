/*
 * A block device with a queue of pending requests. Requests the guest submitted but the device
 * has not completed are part of the device state: they are saved with VMSTATE_QTAILQ_V, one
 * element at a time, and the load allocates each one (g_malloc0) and appends it to the queue.
 *
 * The disk geometry is kept as a struct but sent as one packed big-endian word, by a
 * VMStateInfo of the device's own (get/put written with qemu_get_* / qemu_put_*).
 */
#include <errno.h>
#include <string.h>

#include "tiny.h"

#define BLK_SECTOR_SIZE 512

/* ---- the custom VMStateInfo ---------------------------------------------------------------- */

static int get_blk_geometry(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    BlkGeometry *geom = pv;
    (void)size;
    (void)field;
    uint32_t packed = qemu_get_be32(f);
    int ret = qemu_file_get_error(f);
    if (ret) {
        return ret;
    }
    uint8_t heads = (packed >> 8) & 0xff;
    uint8_t sectors = packed & 0xff;
    if (heads == 0 || heads > 16 || sectors == 0 || sectors > 63) {
        return -EINVAL;
    }
    geom->cylinders = (uint16_t)(packed >> 16);
    geom->heads = heads;
    geom->sectors = sectors;
    return 0;
}

static int put_blk_geometry(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                            JSONWriter *vmdesc) {
    const BlkGeometry *geom = pv;
    (void)size;
    (void)field;
    (void)vmdesc; /* the engine already describes the field ("type": "blk-geometry") */
    qemu_put_be32(f, ((uint32_t)geom->cylinders << 16) | ((uint32_t)geom->heads << 8) |
                         geom->sectors);
    return 0;
}

const VMStateInfo vmstate_info_blk_geometry = {
    .name = "blk-geometry",
    .get = get_blk_geometry,
    .put = put_blk_geometry,
};

/* ---- descriptions -------------------------------------------------------------------------- */

static const VMStateDescription vmstate_blk_request = {
    .name = "tiny-blk-request",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(tag, BlkRequest),
        VMSTATE_UINT8(cmd, BlkRequest),
        VMSTATE_UINT64(sector, BlkRequest),
        VMSTATE_UINT32(nb_sectors, BlkRequest),
        VMSTATE_UINT32(ram_addr, BlkRequest),
        VMSTATE_END_OF_LIST(),
    },
};

static void blk_free_requests(TinyBlk *s) {
    BlkRequest *req, *tmp;
    QTAILQ_FOREACH_SAFE(req, &s->pending, next, tmp) {
        QTAILQ_REMOVE(&s->pending, req, next);
        g_free(req);
    }
}

/* The load appends to the queue: start from an empty one. The requests go to
 * vmstate_free_after_load without being unlinked, then the head is emptied: a transactional
 * load that fails puts the head back (the struct's bytes), and with it the queue, whose
 * requests are freed only once a load succeeds. */
static int blk_pre_load(void *opaque) {
    TinyBlk *s = opaque;
    BlkRequest *req, *tmp;
    QTAILQ_FOREACH_SAFE(req, &s->pending, next, tmp) {
        vmstate_free_after_load(req);
    }
    QTAILQ_INIT(&s->pending);
    return 0;
}

static int blk_post_load(void *opaque, int version_id) {
    TinyBlk *s = opaque;
    BlkRequest *req;
    uint32_t n = 0;
    (void)version_id;
    QTAILQ_FOREACH(req, &s->pending, next) {
        if (req->nb_sectors == 0 || req->ram_addr > s->ram_size - BLK_SECTOR_SIZE) {
            return -EINVAL;
        }
        n++;
    }
    return (n == s->queue_depth && n <= BLK_MAX_QUEUE) ? 0 : -EINVAL;
}

const VMStateDescription vmstate_tiny_blk = {
    .name = "tiny-blk",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_load = blk_pre_load,
    .post_load = blk_post_load,
    .fields = (const VMStateField[]){
        VMSTATE_SINGLE(geom, TinyBlk, 0, vmstate_info_blk_geometry, BlkGeometry),
        VMSTATE_UINT32(next_tag, TinyBlk),
        VMSTATE_UINT32(queue_depth, TinyBlk),
        VMSTATE_UINT64(completed, TinyBlk),
        VMSTATE_UINT64(write_checksum, TinyBlk),
        VMSTATE_QTAILQ_V(pending, TinyBlk, 1, vmstate_blk_request, BlkRequest, next),
        VMSTATE_END_OF_LIST(),
    },
};

/* ---- behaviour ----------------------------------------------------------------------------- */

void blk_init(TinyBlk *s, uint8_t *ram, size_t ram_size) {
    *s = (TinyBlk){.geom = {.cylinders = 1024, .heads = 16, .sectors = 63}, .next_tag = 1,
                   .ram = ram, .ram_size = ram_size};
    QTAILQ_INIT(&s->pending);
}

void blk_finalize(TinyBlk *s) { blk_free_requests(s); }

bool blk_submit(TinyBlk *s, uint8_t cmd, uint64_t sector, uint32_t nb_sectors, uint32_t ram_addr) {
    if (s->queue_depth >= BLK_MAX_QUEUE) {
        return false;
    }
    BlkRequest *req = g_new0(BlkRequest, 1);
    req->tag = s->next_tag++;
    req->cmd = cmd;
    req->sector = sector;
    req->nb_sectors = nb_sectors;
    req->ram_addr = ram_addr;
    QTAILQ_INSERT_TAIL(&s->pending, req, next);
    s->queue_depth++;
    return true;
}

/* What the made-up disk holds at `sector`: a pattern derived from the sector number. */
static void disk_read_sector(uint64_t sector, uint8_t *buf) {
    uint64_t x = sector * 0x9e3779b97f4a7c15ull + 1;
    for (int i = 0; i < BLK_SECTOR_SIZE; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        buf[i] = (uint8_t)x;
    }
}

bool blk_complete_one(TinyBlk *s) {
    BlkRequest *req = QTAILQ_FIRST(&s->pending);
    if (req == NULL) {
        return false;
    }
    QTAILQ_REMOVE(&s->pending, req, next);
    s->queue_depth--;
    uint32_t bytes = req->nb_sectors * BLK_SECTOR_SIZE;
    if (bytes > s->ram_size - req->ram_addr) {
        bytes = (uint32_t)(s->ram_size - req->ram_addr);
    }
    if (req->cmd == BLK_CMD_READ) {
        for (uint32_t off = 0; off + BLK_SECTOR_SIZE <= bytes; off += BLK_SECTOR_SIZE) {
            disk_read_sector(req->sector + off / BLK_SECTOR_SIZE, s->ram + req->ram_addr + off);
        }
    } else if (req->cmd == BLK_CMD_WRITE) {
        for (uint32_t i = 0; i < bytes; i++) {
            s->write_checksum = s->write_checksum * 31 + s->ram[req->ram_addr + i];
        }
    }
    s->completed++;
    g_free(req);
    return true;
}
