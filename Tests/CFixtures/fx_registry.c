/* The lists the Swift tests walk: every fixture description, every fixture device. */
#include "cfixtures.h"

#include <string.h>

void fx_timer_reset(QEMUTimer *timer, void *opaque) {
    memset(timer, 0, sizeof(*timer));
    timer->expire_time = -1;
    timer->opaque = opaque;
}

static const struct {
    const FxTable *tables;
    const size_t *count;
} fx_table_groups[] = {
    {fx_rtc_tables, &fx_rtc_table_count},   {fx_board_tables, &fx_board_table_count},
    {fx_dma_tables, &fx_dma_table_count},   {fx_nic_tables, &fx_nic_table_count},
    {fx_queues_tables, &fx_queues_table_count}, {fx_cpu_tables, &fx_cpu_table_count},
};

size_t fx_table_count(void) {
    size_t n = 0;
    for (size_t g = 0; g < FX_N_ELEMENTS(fx_table_groups); g++) {
        n += *fx_table_groups[g].count;
    }
    return n;
}

const FxTable *fx_table_at(size_t index) {
    for (size_t g = 0; g < FX_N_ELEMENTS(fx_table_groups); g++) {
        if (index < *fx_table_groups[g].count) {
            return &fx_table_groups[g].tables[index];
        }
        index -= *fx_table_groups[g].count;
    }
    return NULL;
}

static const FxDevice fx_devices[] = {
    {"fx-rtc", &fx_rtc_vmsd, sizeof(FxRTCState), fx_rtc_init, fx_rtc_cleanup},
    {"fx-board", &fx_board_vmsd, sizeof(FxBoardState), fx_board_init, fx_board_cleanup},
    {"fx-dma", &fx_dma_vmsd, sizeof(FxDMAState), fx_dma_init, fx_dma_cleanup},
    {"fx-nic", &fx_nic_vmsd, sizeof(FxNICState), fx_nic_init, fx_nic_cleanup},
    {"fx-queues", &fx_queues_vmsd, sizeof(FxQueuesState), fx_queues_init, fx_queues_cleanup},
    {"fx-cpu", &fx_cpu_vmsd, sizeof(FxCPUState), fx_cpu_init, fx_cpu_cleanup},
};

size_t fx_device_count(void) {
    return FX_N_ELEMENTS(fx_devices);
}

const FxDevice *fx_device_at(size_t index) {
    return index < FX_N_ELEMENTS(fx_devices) ? &fx_devices[index] : NULL;
}
