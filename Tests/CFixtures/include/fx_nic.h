/*
 * fx-nic: a network card. Every buffer form (whole, partial, from the middle, tested, static
 * range, variable-size behind pointers with int32/uint32 sizes, multiplied, allocated on load,
 * raw pointer, bitmap), arrays of pointers (to scalars and to structs, with NULL entries),
 * VSTRUCT at chosen struct versions, and a VMSTATE_WITH_TMP that packs the receive mode bits.
 */
#ifndef FX_NIC_H
#define FX_NIC_H

#include "fx_common.h"

#define FX_NIC_RING_ENTRY_SIZE 16
#define FX_NIC_SCRATCH_SIZE 32
#define FX_NIC_COUNTERS 4
#define FX_NIC_QUEUES 2
/* capacity of the non-allocating variable buffers (rx_buf, tx_buf, pkt, cfg, ring_mem) */
#define FX_NIC_BUF_CAPACITY 256
#define FX_NIC_VLAN_BITS_MAX 4096
/* bound on the firmware image the loader may allocate */
#define FX_NIC_FW_MAX 65536

typedef struct FxNICQueue {
    uint32_t head;
    uint32_t tail;
    uint16_t size;
    uint16_t irq_vector;
} FxNICQueue;

typedef struct FxNICStats {
    uint64_t rx_packets;
    uint64_t tx_packets;
    uint32_t rx_errors;
    uint32_t tx_errors;          /* since version 2 of fx-nic-stats */
} FxNICStats;

typedef struct FxNICState {
    uint8_t mac[6];              /* since version 1 */
    uint8_t mem[256];            /* the first 128 bytes are state, the rest is scratch */
    uint8_t rom[64];             /* bytes 0..15 are a fixed header */
    uint8_t prom[32];            /* bytes 0..7 are fixed; the rest since version 2 */
    uint8_t eeprom[64];          /* words 4..59 are writable; only with has_eeprom */
    uint8_t filter[16];          /* only with filter_enabled */

    int32_t rx_len;
    uint8_t *rx_buf;
    uint32_t tx_len;
    uint8_t *tx_buf;             /* only while tx_active */
    int32_t pkt_len;
    uint8_t *pkt;
    uint32_t cfg_len;
    uint8_t *cfg;
    uint32_t ring_entries;
    uint8_t *ring_mem;           /* ring_entries * FX_NIC_RING_ENTRY_SIZE bytes */
    uint32_t fw_len;
    uint8_t *fw;                 /* allocated on load */
    uint8_t *scratch;            /* FX_NIC_SCRATCH_SIZE bytes */
    int32_t vlan_bits;
    unsigned long *vlan_bitmap;

    uint32_t *counters[FX_NIC_COUNTERS];  /* NULL entries are saved as the marker byte */
    FxNICQueue *queues[FX_NIC_QUEUES];

    FxNICStats hw_stats;
    FxNICStats sw_stats;
    FxNICStats dbg_stats;        /* only with debug_enabled */

    /* receive mode, saved packed into one uint16_t through fx_nic_rxmode_vmsd */
    bool promisc;
    bool allmulti;
    bool broadcast;
    uint8_t rx_threshold;

    /* configuration, not migrated */
    bool has_eeprom;
    bool filter_enabled;
    bool tx_active;
    bool debug_enabled;
} FxNICState;

/* The scratch struct of VMSTATE_WITH_TMP: `parent` first, as the macro requires. */
typedef struct FxNICRxModeTmp {
    FxNICState *parent;
    uint16_t rx_ctrl;
} FxNICRxModeTmp;

extern const VMStateDescription fx_nic_queue_vmsd;
extern const VMStateDescription fx_nic_stats_vmsd;
extern const VMStateDescription fx_nic_rxmode_vmsd;
extern const VMStateDescription fx_nic_vmsd;
extern const VMStateField fx_nic_queue_fields[];
extern const VMStateField fx_nic_stats_fields[];
extern const VMStateField fx_nic_rxmode_fields[];
extern const VMStateField fx_nic_fields[];

bool fx_nic_has_eeprom(void *opaque, int version_id);
bool fx_nic_filter_enabled(void *opaque, int version_id);
bool fx_nic_tx_active(void *opaque, int version_id);
bool fx_nic_sizes_valid(void *opaque, int version_id);
bool fx_nic_debug_enabled(void *opaque, int version_id);

void fx_nic_init(void *state, unsigned seed);
void fx_nic_cleanup(void *state);

#endif
