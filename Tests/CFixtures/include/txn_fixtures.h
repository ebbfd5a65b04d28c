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

/* A device loaded the way QEMU loads its virtio devices (a custom VMStateInfo whose get runs
 * vmstate_load_state on the device's own table, which fills a GTree of domains, an ALLOC array
 * and a QLIST, whose post_load indexes the list in a second GTree), then a VMSTATE_UINT32_EQUAL
 * `tail` that fails the load when the stream's differs: ../txn_nested_table.h. The txn_nested_ functions use QEMU 7.2's API, the
 * txn_nested10_ ones QEMU 10.0's. */
typedef struct TxnNested TxnNested;

/* What a TxnNested holds, for the tests: `magic`, the number of domains in its tree, `n`, whether
 * its array is allocated and its first entry, the number of list elements, the `mark` of
 * domain 2 (0 when there is none), and how many elements its post_load's index holds. */
typedef struct TxnNestedSummary {
    uint32_t magic;
    uint32_t domains;
    uint32_t n;
    bool tab_allocated;
    uint32_t tab_first;
    uint32_t elems;
    uint32_t mark_of_2;
    uint32_t indexed;
} TxnNestedSummary;

/* An empty device with `tail` (free it with _free). */
TxnNested *txn_nested_new(uint32_t tail);
TxnNested *txn_nested10_new(uint32_t tail);
void txn_nested_free(TxnNested *s);
void txn_nested10_free(TxnNested *s);
/* Whether the post_load asks vmstate_load_on_rollback to take what it indexed out again. */
void txn_nested_set_undo_index(TxnNested *s, bool undo);
void txn_nested10_set_undo_index(TxnNested *s, bool undo);
/* Inserts domain `id` with `mark` into `s`'s tree. */
void txn_nested_add_domain(TxnNested *s, uint32_t id, uint32_t mark);
void txn_nested10_add_domain(TxnNested *s, uint32_t id, uint32_t mark);
/* Saves a device of `count` domains (ids 1..count, each with `mark`), array entries (101..) and
 * list elements and `tail` into `out` (at most `cap` bytes); returns the length, 0 on failure. */
size_t txn_nested_saved(uint32_t count, uint32_t mark, uint32_t tail, uint8_t *out, size_t cap);
size_t txn_nested10_saved(uint32_t count, uint32_t mark, uint32_t tail, uint8_t *out, size_t cap);
/* Loads `len` bytes into `s` (vmstate_load_checked with `flags`); the error message, or "",
 * goes to `message` (at most `cap` bytes). */
bool txn_nested_load(TxnNested *s, const uint8_t *bytes, size_t len, unsigned flags, char *message, size_t cap);
bool txn_nested10_load(TxnNested *s, const uint8_t *bytes, size_t len, unsigned flags, char *message, size_t cap);
void txn_nested_summary(const TxnNested *s, TxnNestedSummary *out);
void txn_nested10_summary(const TxnNested *s, TxnNestedSummary *out);

#endif
