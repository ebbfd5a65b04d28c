#include "stream_fixtures.h"

const VMStateDescription str_counter_vmsd = {
    .name = "str-counter",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(counter, StrCounter),
        VMSTATE_UINT16_V(mode, StrCounter, 2),
        VMSTATE_UINT8_ARRAY(regs, StrCounter, 8),
        VMSTATE_BOOL(irq, StrCounter),
        VMSTATE_END_OF_LIST(),
    },
};

/* A description that accepts only version 1 of the counter section. */
const VMStateDescription str_counter_v1_only_vmsd = {
    .name = "str-counter",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(counter, StrCounter),
        VMSTATE_UINT8_ARRAY(regs, StrCounter, 8),
        VMSTATE_BOOL(irq, StrCounter),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription str_blob_vmsd = {
    .name = "str-blob",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]){
        VMSTATE_UINT64(base, StrBlob),
        VMSTATE_UINT32(len, StrBlob),
        VMSTATE_VBUFFER_ALLOC_UINT32(data, StrBlob, 0, NULL, len),
        VMSTATE_END_OF_LIST(),
    },
};

const VMStateDescription *str_counter_vmsd_ptr(void) { return &str_counter_vmsd; }
const VMStateDescription *str_counter_v1_only_vmsd_ptr(void) { return &str_counter_v1_only_vmsd; }
const VMStateDescription *str_blob_vmsd_ptr(void) { return &str_blob_vmsd; }

/* A counter saved before the default-priority devices (QEMU orders handlers by priority). */
const VMStateDescription str_iommu_vmsd = {
    .name = "str-iommu",
    .version_id = 1,
    .minimum_version_id = 1,
    .priority = MIG_PRI_IOMMU,
    .fields = (const VMStateField[]){VMSTATE_UINT32(counter, StrCounter), VMSTATE_END_OF_LIST()},
};

/* A device that cannot be migrated. */
const VMStateDescription str_blocked_vmsd = {
    .name = "str-blocked",
    .unmigratable = 1,
};

const VMStateDescription *str_iommu_vmsd_ptr(void) { return &str_iommu_vmsd; }
const VMStateDescription *str_blocked_vmsd_ptr(void) { return &str_blocked_vmsd; }
