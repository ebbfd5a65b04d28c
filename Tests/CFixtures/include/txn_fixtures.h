/*
 * Transactional loads and the memory a device's hooks free (vmstate_free_after_load), and
 * buffers the engine allocates for a device added without a size.
 */
#ifndef TXN_FIXTURES_H
#define TXN_FIXTURES_H

#include "migration/vmstate.h"

#include <stdbool.h>
#include <stdint.h>

/* A device with an ALLOC buffer of `n` bytes whose pre_load frees the old one, as QEMU's
 * devices do, with vmstate_free_after_load. */
typedef struct TxnBuf {
    uint32_t n;
    uint8_t *buf;
    uint32_t tail;
} TxnBuf;

extern const VMStateDescription vmstate_txn_buf;

/* Gives `s` a buffer of `n` bytes (g_malloc) holding `bytes`, and `tail`. */
void txn_buf_init(TxnBuf *s, const uint8_t *bytes, uint32_t n, uint32_t tail);
/* Frees `s`'s buffer. */
void txn_buf_clear(TxnBuf *s);

/* Loads `len` bytes transactionally into `s` (vmstate_load_checked); false on failure. */
bool txn_load_checked(TxnBuf *s, const uint8_t *bytes, size_t len);
/* The same with `flags`. */
bool txn_load_checked_flags(TxnBuf *s, const uint8_t *bytes, size_t len, unsigned flags);

/* A registry of two devices, "txn-a" (`a`, added with or without its size: `a_sized`) then
 * "txn-b" (`b`, with its size), loading the stream `bytes` transactionally; false on failure,
 * with the message in `message` (up to `cap` bytes). */
bool txn_registry_load(TxnBuf *a, bool a_sized, TxnBuf *b, const uint8_t *bytes, size_t len, char *message,
                       size_t cap);

/* A struct whose post_load loads the TxnBuf inside it transactionally from `inner_bytes` (a
 * load nested in the outer one's hook). */
typedef struct TxnOuter {
    uint32_t a;
    TxnBuf inner;
    const uint8_t *inner_bytes;
    size_t inner_len;
    bool inner_plain; /* the nested load without VMSTATE_LOAD_TRANSACTIONAL */
} TxnOuter;

extern const VMStateDescription vmstate_txn_outer;

/* Loads `len` bytes transactionally into `o` (vmstate_load_checked); false on failure. */
bool txn_outer_load_checked(TxnOuter *o, const uint8_t *bytes, size_t len);

/* A device whose post_load takes the buffer the load allocated (VMSTATE_VBUFFER_ALLOC_UINT32):
 * it adds its bytes into `sum`, then frees it with g_free and clears `buf` and `n`, as QEMU's
 * spapr_pci post_load does with msi_devs (and spapr_iommu's with mig_table). */
typedef struct TxnTaken {
    uint32_t n;
    uint8_t *buf;
    uint32_t sum;
} TxnTaken;

extern const VMStateDescription vmstate_txn_taken;

/* A registry of "txn-taken" (`t`) then "txn-b" (`b`), both added with their size, loading the
 * stream `bytes` transactionally; false on failure, with the message in `message` (up to `cap`
 * bytes). */
bool txn_taken_registry_load(TxnTaken *t, TxnBuf *b, const uint8_t *bytes, size_t len, char *message,
                             size_t cap);

#endif
