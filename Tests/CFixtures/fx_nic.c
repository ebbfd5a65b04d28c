/* fx-nic: see fx_nic.h. */
#include "fx_nic.h"

#include <string.h>

bool fx_nic_has_eeprom(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxNICState *)opaque)->has_eeprom;
}

bool fx_nic_filter_enabled(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxNICState *)opaque)->filter_enabled;
}

bool fx_nic_tx_active(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxNICState *)opaque)->tx_active;
}

bool fx_nic_sizes_valid(void *opaque, int version_id) {
    (void)version_id;
    const FxNICState *s = opaque;
    return s->rx_len >= 0 && s->rx_len <= FX_NIC_BUF_CAPACITY && s->tx_len <= FX_NIC_BUF_CAPACITY &&
           s->pkt_len >= 0 && s->pkt_len <= FX_NIC_BUF_CAPACITY &&
           s->cfg_len <= FX_NIC_BUF_CAPACITY &&
           s->ring_entries <= FX_NIC_BUF_CAPACITY / FX_NIC_RING_ENTRY_SIZE &&
           s->fw_len <= FX_NIC_FW_MAX && s->vlan_bits >= 0 && s->vlan_bits <= FX_NIC_VLAN_BITS_MAX;
}

bool fx_nic_debug_enabled(void *opaque, int version_id) {
    return ((const FxNICState *)opaque)->debug_enabled && version_id >= 3;
}

const VMStateField fx_nic_queue_fields[] = {
    VMSTATE_UINT32(head, FxNICQueue),
    VMSTATE_UINT32(tail, FxNICQueue),
    VMSTATE_UINT16(size, FxNICQueue),
    VMSTATE_UINT16(irq_vector, FxNICQueue),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_nic_queue_vmsd = {
    .name = "fx-nic-queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = fx_nic_queue_fields,
};

const VMStateField fx_nic_stats_fields[] = {
    VMSTATE_UINT64(rx_packets, FxNICStats),
    VMSTATE_UINT64(tx_packets, FxNICStats),
    VMSTATE_UINT32(rx_errors, FxNICStats),
    VMSTATE_UINT32_V(tx_errors, FxNICStats, 2),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_nic_stats_vmsd = {
    .name = "fx-nic-stats",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = fx_nic_stats_fields,
};

#define FX_NIC_RX_PROMISC 0x1
#define FX_NIC_RX_ALLMULTI 0x2
#define FX_NIC_RX_BROADCAST 0x4

static int fx_nic_rxmode_pre_save(void *opaque) {
    FxNICRxModeTmp *tmp = opaque;
    const FxNICState *s = tmp->parent;
    tmp->rx_ctrl = (uint16_t)((s->promisc ? FX_NIC_RX_PROMISC : 0) |
                              (s->allmulti ? FX_NIC_RX_ALLMULTI : 0) |
                              (s->broadcast ? FX_NIC_RX_BROADCAST : 0) |
                              ((unsigned)s->rx_threshold << 8));
    return 0;
}

static int fx_nic_rxmode_post_load(void *opaque, int version_id) {
    (void)version_id;
    const FxNICRxModeTmp *tmp = opaque;
    FxNICState *s = tmp->parent;
    s->promisc = (tmp->rx_ctrl & FX_NIC_RX_PROMISC) != 0;
    s->allmulti = (tmp->rx_ctrl & FX_NIC_RX_ALLMULTI) != 0;
    s->broadcast = (tmp->rx_ctrl & FX_NIC_RX_BROADCAST) != 0;
    s->rx_threshold = (uint8_t)(tmp->rx_ctrl >> 8);
    return 0;
}

const VMStateField fx_nic_rxmode_fields[] = {
    VMSTATE_UINT16(rx_ctrl, FxNICRxModeTmp),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_nic_rxmode_vmsd = {
    .name = "fx-nic-rxmode",
    .version_id = 1,
    .minimum_version_id = 1,
    .pre_save = fx_nic_rxmode_pre_save,
    .post_load = fx_nic_rxmode_post_load,
    .fields = fx_nic_rxmode_fields,
};

const VMStateField fx_nic_fields[] = {
    VMSTATE_BUFFER_V(mac, FxNICState, 1),
    VMSTATE_PARTIAL_BUFFER(mem, FxNICState, 128),
    VMSTATE_BUFFER_START_MIDDLE(rom, FxNICState, 16),
    VMSTATE_BUFFER_START_MIDDLE_V(prom, FxNICState, 8, 2),
    VMSTATE_STATIC_BUFFER(eeprom, FxNICState, 1, fx_nic_has_eeprom, 4, 60),
    VMSTATE_BUFFER_TEST(filter, FxNICState, fx_nic_filter_enabled),

    /* sizes first, then the check that bounds them, then the buffers they size */
    VMSTATE_INT32(rx_len, FxNICState),
    VMSTATE_UINT32(tx_len, FxNICState),
    VMSTATE_INT32(pkt_len, FxNICState),
    VMSTATE_UINT32(cfg_len, FxNICState),
    VMSTATE_UINT32(ring_entries, FxNICState),
    VMSTATE_UINT32(fw_len, FxNICState),
    VMSTATE_INT32(vlan_bits, FxNICState),
    VMSTATE_VALIDATE("fx-nic buffer sizes fit", fx_nic_sizes_valid),

    VMSTATE_VBUFFER(rx_buf, FxNICState, 0, NULL, rx_len),
    VMSTATE_VBUFFER_UINT32(tx_buf, FxNICState, 1, fx_nic_tx_active, tx_len),
    VMSTATE_PARTIAL_VBUFFER(pkt, FxNICState, pkt_len),
    VMSTATE_PARTIAL_VBUFFER_UINT32(cfg, FxNICState, cfg_len),
    VMSTATE_VBUFFER_MULTIPLY(ring_mem, FxNICState, 2, NULL, ring_entries, FX_NIC_RING_ENTRY_SIZE),
    VMSTATE_VBUFFER_ALLOC_UINT32(fw, FxNICState, 0, NULL, fw_len),
    VMSTATE_BUFFER_POINTER_UNSAFE(scratch, FxNICState, 0, FX_NIC_SCRATCH_SIZE),
    VMSTATE_BITMAP(vlan_bitmap, FxNICState, 0, vlan_bits),

    VMSTATE_ARRAY_OF_POINTER(counters, FxNICState, FX_NIC_COUNTERS, 0, vmstate_info_uint32,
                             uint32_t *),
    VMSTATE_ARRAY_OF_POINTER_TO_STRUCT(queues, FxNICState, FX_NIC_QUEUES, 1, fx_nic_queue_vmsd,
                                       FxNICQueue),

    VMSTATE_VSTRUCT(hw_stats, FxNICState, fx_nic_stats_vmsd, FxNICStats, 2),
    VMSTATE_VSTRUCT_V(sw_stats, FxNICState, 2, fx_nic_stats_vmsd, FxNICStats, 1),
    VMSTATE_VSTRUCT_TEST(dbg_stats, FxNICState, fx_nic_debug_enabled, 3, fx_nic_stats_vmsd,
                         FxNICStats, 2),

    VMSTATE_WITH_TMP(FxNICState, FxNICRxModeTmp, fx_nic_rxmode_vmsd),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_nic_vmsd = {
    .name = "fx-nic",
    .version_id = 3,
    .minimum_version_id = 1,
    .fields = fx_nic_fields,
};

const FxTable fx_nic_tables[] = {
    FX_TABLE(&fx_nic_vmsd, fx_nic_fields),
    FX_TABLE(&fx_nic_queue_vmsd, fx_nic_queue_fields),
    FX_TABLE(&fx_nic_stats_vmsd, fx_nic_stats_fields),
    FX_TABLE(&fx_nic_rxmode_vmsd, fx_nic_rxmode_fields),
};
const size_t fx_nic_table_count = FX_N_ELEMENTS(fx_nic_tables);

#define FX_BITS_PER_LONG (8 * sizeof(unsigned long))

static void fx_nic_fill(uint8_t *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(i * 31 + seed);
    }
}

void fx_nic_init(void *state, unsigned seed) {
    FxNICState *s = state;
    memset(s, 0, sizeof(*s));
    s->has_eeprom = true;
    s->filter_enabled = true;
    s->tx_active = true;
    s->debug_enabled = true;
    s->rx_buf = g_malloc0(FX_NIC_BUF_CAPACITY);
    s->tx_buf = g_malloc0(FX_NIC_BUF_CAPACITY);
    s->pkt = g_malloc0(FX_NIC_BUF_CAPACITY);
    s->cfg = g_malloc0(FX_NIC_BUF_CAPACITY);
    s->ring_mem = g_malloc0(FX_NIC_BUF_CAPACITY);
    s->scratch = g_malloc0(FX_NIC_SCRATCH_SIZE);
    s->vlan_bitmap = g_new0(unsigned long, FX_NIC_VLAN_BITS_MAX / FX_BITS_PER_LONG);
    /* counters[3] stays NULL on both sides */
    for (unsigned i = 0; i < FX_NIC_COUNTERS - 1; i++) {
        s->counters[i] = g_new0(uint32_t, 1);
    }
    for (unsigned i = 0; i < FX_NIC_QUEUES; i++) {
        s->queues[i] = g_new0(FxNICQueue, 1);
    }
    if (seed == 0) {
        return; /* fw stays NULL: the loader allocates it */
    }
    static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(s->mac, mac, sizeof(mac));
    s->mac[5] = (uint8_t)(s->mac[5] + seed);
    fx_nic_fill(s->mem, sizeof(s->mem), seed);
    fx_nic_fill(s->rom, sizeof(s->rom), seed + 1);
    fx_nic_fill(s->prom, sizeof(s->prom), seed + 2);
    fx_nic_fill(s->eeprom, sizeof(s->eeprom), seed + 3);
    fx_nic_fill(s->filter, sizeof(s->filter), seed + 4);
    s->rx_len = 60;
    fx_nic_fill(s->rx_buf, (size_t)s->rx_len, seed + 5);
    s->tx_len = 42;
    fx_nic_fill(s->tx_buf, s->tx_len, seed + 6);
    s->pkt_len = 14;
    fx_nic_fill(s->pkt, (size_t)s->pkt_len, seed + 7);
    s->cfg_len = 8;
    fx_nic_fill(s->cfg, s->cfg_len, seed + 8);
    s->ring_entries = 4;
    fx_nic_fill(s->ring_mem, s->ring_entries * FX_NIC_RING_ENTRY_SIZE, seed + 9);
    s->fw_len = 24;
    s->fw = g_malloc(s->fw_len);
    fx_nic_fill(s->fw, s->fw_len, seed + 10);
    fx_nic_fill(s->scratch, FX_NIC_SCRATCH_SIZE, seed + 11);
    s->vlan_bits = 130;
    s->vlan_bitmap[0] = 0x8000000000000001UL ^ seed;
    s->vlan_bitmap[1] = 0x00000000ffff0000UL;
    s->vlan_bitmap[2] = 0x3; /* bits 128 and 129 */
    for (unsigned i = 0; i < FX_NIC_COUNTERS - 1; i++) {
        *s->counters[i] = 1000 * (i + 1) + seed;
    }
    for (unsigned i = 0; i < FX_NIC_QUEUES; i++) {
        s->queues[i]->head = i * 10 + seed;
        s->queues[i]->tail = i * 10 + seed + 3;
        s->queues[i]->size = 256;
        s->queues[i]->irq_vector = (uint16_t)(i + 1);
    }
    s->hw_stats = (FxNICStats){100 + seed, 200 + seed, 3, 4};
    s->sw_stats = (FxNICStats){10 + seed, 20 + seed, 1, 2};
    s->dbg_stats = (FxNICStats){7, 8, 9, 10 + seed};
    s->promisc = seed & 1;
    s->allmulti = (seed & 2) != 0;
    s->broadcast = true;
    s->rx_threshold = (uint8_t)(seed * 5);
}

void fx_nic_cleanup(void *state) {
    FxNICState *s = state;
    g_free(s->rx_buf);
    g_free(s->tx_buf);
    g_free(s->pkt);
    g_free(s->cfg);
    g_free(s->ring_mem);
    g_free(s->fw);
    g_free(s->scratch);
    g_free(s->vlan_bitmap);
    for (unsigned i = 0; i < FX_NIC_COUNTERS; i++) {
        g_free(s->counters[i]);
    }
    for (unsigned i = 0; i < FX_NIC_QUEUES; i++) {
        g_free(s->queues[i]);
    }
    memset(s, 0, sizeof(*s));
}
