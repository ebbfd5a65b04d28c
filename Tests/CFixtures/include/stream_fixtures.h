/* Small devices for the whole-stream (registry) tests. */
#ifndef STREAM_FIXTURES_H
#define STREAM_FIXTURES_H
#include "migration/vmstate.h"

typedef struct {
    uint32_t counter;
    uint16_t mode;
    uint8_t regs[8];
    bool irq;
} StrCounter;

typedef struct {
    uint64_t base;
    uint32_t len;
    uint8_t *data; /* len bytes, allocated on load */
} StrBlob;

extern const VMStateDescription str_counter_vmsd;
extern const VMStateDescription str_blob_vmsd;
/* The same counter at version 3 (only 2 exists on the wire): for version checks. */
extern const VMStateDescription str_counter_v1_only_vmsd;



/* Addresses of the descriptions (Swift may copy imported globals, so take them in C). */
const VMStateDescription *str_counter_vmsd_ptr(void);
const VMStateDescription *str_counter_v1_only_vmsd_ptr(void);
const VMStateDescription *str_blob_vmsd_ptr(void);
const VMStateDescription *str_iommu_vmsd_ptr(void);
const VMStateDescription *str_blocked_vmsd_ptr(void);
#endif
