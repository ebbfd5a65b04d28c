/* fx-board: see fx_board.h. */
#include "fx_board.h"

#include <string.h>

bool fx_board_ext_present(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxBoardState *)opaque)->ext_present;
}

bool fx_board_power_managed(void *opaque, int version_id) {
    return ((const FxBoardState *)opaque)->power_managed && version_id >= 2;
}

bool fx_board_legacy_layout(void *opaque, int version_id) {
    (void)version_id;
    return ((const FxBoardState *)opaque)->legacy_layout;
}

const VMStateField fx_board_fields[] = {
    VMSTATE_UINT8_EQUAL(magic, FxBoardState, "not an fx-board"),
    VMSTATE_UINT16_EQUAL(model, FxBoardState, "board model differs"),
    VMSTATE_UINT16_EQUAL_V(revision, FxBoardState, 2, "board revision differs"),
    VMSTATE_INT32_EQUAL(nr_slots, FxBoardState, "slot count differs: check -device options"),
    VMSTATE_UINT32_EQUAL(features, FxBoardState, NULL),
    VMSTATE_UINT32_EQUAL_V(caps, FxBoardState, 3, "capabilities differ"),
    VMSTATE_UINT64_EQUAL(serial, FxBoardState, "serial number differs"),
    VMSTATE_UINT64_EQUAL_V(hw_id, FxBoardState, 4, "hardware id differs"),
    VMSTATE_SINGLE_FULL(boot_index, FxBoardState, NULL, 2, vmstate_info_int32_equal, int32_t,
                        "boot order differs"),
    VMSTATE_INT32_POSITIVE_LE(queue_depth, FxBoardState),
    VMSTATE_SINGLE_TEST(power_state, FxBoardState, fx_board_power_managed, 0, vmstate_info_uint8,
                        uint8_t),

    VMSTATE_BOOL_TEST(ext_enabled, FxBoardState, fx_board_ext_present),
    VMSTATE_INT8_TEST(ext_temp, FxBoardState, fx_board_ext_present),
    VMSTATE_INT16_TEST(ext_fan, FxBoardState, fx_board_ext_present),
    VMSTATE_INT32_TEST(ext_volt, FxBoardState, fx_board_ext_present),
    VMSTATE_INT64_TEST(ext_uptime, FxBoardState, fx_board_ext_present),
    VMSTATE_UINT8_TEST(ext_leds, FxBoardState, fx_board_ext_present),
    VMSTATE_UINT16_TEST(ext_port, FxBoardState, fx_board_ext_present),
    VMSTATE_UINT32_TEST(ext_irqmask, FxBoardState, fx_board_ext_present),
    VMSTATE_UINT64_TEST(ext_cookie, FxBoardState, fx_board_ext_present),
    VMSTATE_BUFFER_UNSAFE_INFO_TEST(oem_blob, FxBoardState, fx_board_ext_present, 3,
                                    vmstate_info_buffer, 16),
    VMSTATE_POINTER_TEST(led_state, FxBoardState, fx_board_ext_present, vmstate_info_uint8,
                         uint8_t *),

    VMSTATE_U8(kvm_flags, FxBoardState),
    VMSTATE_U16(kvm_vcpu, FxBoardState),
    VMSTATE_U32(kvm_mp_state, FxBoardState),
    VMSTATE_U64(kvm_clock, FxBoardState),
    VMSTATE_U8_V(kvm_pad_flags, FxBoardState, 2),
    VMSTATE_U16_V(kvm_apic_id, FxBoardState, 3),
    VMSTATE_U32_V(kvm_tsc_khz, FxBoardState, 4),
    VMSTATE_U64_V(kvm_msr_star, FxBoardState, 4),

    VMSTATE_UNUSED_TEST(fx_board_legacy_layout, 6),
    VMSTATE_UNUSED_BUFFER(fx_board_legacy_layout, 3, 2),
    VMSTATE_UINT32(n_legacy, FxBoardState),
    VMSTATE_UNUSED_VARRAY_UINT32(FxBoardState, NULL, 0, n_legacy, 4),

    VMSTATE_BUFFER_UNSAFE_INFO(nvram, FxBoardState, 1, vmstate_info_buffer, 64),
    VMSTATE_BUFFER_UNSAFE(sensors, FxBoardState, 2, sizeof(FxBoardSensor) * FX_BOARD_SENSORS),
    VMSTATE_POINTER(irq_status, FxBoardState, 1, vmstate_info_uint32, uint32_t *),
    VMSTATE_END_OF_LIST()
};

const VMStateDescription fx_board_vmsd = {
    .name = "fx-board",
    .version_id = 4,
    .minimum_version_id = 1,
    .fields = fx_board_fields,
};

const FxTable fx_board_tables[] = {
    FX_TABLE(&fx_board_vmsd, fx_board_fields),
};
const size_t fx_board_table_count = FX_N_ELEMENTS(fx_board_tables);

void fx_board_init(void *state, unsigned seed) {
    FxBoardState *s = state;
    memset(s, 0, sizeof(*s));
    s->ext_present = true;
    s->power_managed = true;
    s->legacy_layout = false;
    s->magic = FX_BOARD_MAGIC;
    s->model = 0x1234;
    s->revision = 3;
    s->nr_slots = 4;
    s->features = 0x0000f00d;
    s->caps = 0x80000001;
    s->serial = 0x5e7a1000000000d1ULL;
    s->hw_id = 0x00ab00cd00ef0001ULL;
    s->boot_index = 1;
    s->queue_depth = 64;
    s->led_state = g_new0(uint8_t, 1);
    s->irq_status = g_new0(uint32_t, 1);
    if (seed == 0) {
        return;
    }
    s->queue_depth = (int32_t)(seed % 65);
    s->power_state = (uint8_t)(seed % 4);
    s->ext_enabled = true;
    s->ext_temp = (int8_t)-(int)(seed % 40);
    s->ext_fan = (int16_t)(1200 + seed);
    s->ext_volt = -(int32_t)seed * 1000;
    s->ext_uptime = (int64_t)seed << 33;
    s->ext_leds = (uint8_t)seed;
    s->ext_port = (uint16_t)(0x3f8 + seed);
    s->ext_irqmask = 0xdead0000u | seed;
    s->ext_cookie = 0xc00c1e0000000000ULL | seed;
    for (unsigned i = 0; i < sizeof(s->oem_blob); i++) {
        s->oem_blob[i] = (uint8_t)('A' + (i + seed) % 26);
    }
    *s->led_state = (uint8_t)(seed | 0x80);
    s->kvm_flags = (__u8)seed;
    s->kvm_vcpu = (__u16)(seed * 3);
    s->kvm_mp_state = seed % 5;
    s->kvm_clock = 0x1122334455667788ULL + seed;
    s->kvm_pad_flags = 0x5a;
    s->kvm_apic_id = (__u16)(seed & 0xff);
    s->kvm_tsc_khz = 2400000;
    s->kvm_msr_star = 0x0023001000000000ULL;
    s->n_legacy = seed % 3;
    for (unsigned i = 0; i < sizeof(s->nvram); i++) {
        s->nvram[i] = (uint8_t)(i ^ seed);
    }
    for (unsigned i = 0; i < FX_BOARD_SENSORS; i++) {
        s->sensors[i].raw = (uint16_t)(100 * i + seed);
        s->sensors[i].offset = (int16_t)-(int)i;
        s->sensors[i].alarm_mask = 1u << i;
    }
    *s->irq_status = 0x00010000u | seed;
}

void fx_board_cleanup(void *state) {
    FxBoardState *s = state;
    g_free(s->led_state);
    g_free(s->irq_status);
    s->led_state = NULL;
    s->irq_status = NULL;
}
