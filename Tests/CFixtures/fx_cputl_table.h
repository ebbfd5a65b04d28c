/*
 * The fx-cputl table (see include/fx_cputl.h), included by fx_cputl64.c and fx_cputl32.c after
 * they define TARGET_LONG_BITS, target_ulong, FX_CPUTL_STATE (the struct) and FX_CPUTL_VMSD (the
 * description's name), and include migration/cpu.h.
 */
#include "fx_cputl.h"

#include <stddef.h>

static bool fx_cputl_has_extra(void *opaque, int version_id) {
    (void)version_id;
    return ((FX_CPUTL_STATE *)opaque)->has_extra;
}

/* "tl-pair": pair[0] unsigned and pair[1] signed, each as wide as target_ulong. */
static int fx_cputl_get_pair(QEMUFile *f, void *pv, size_t size, const VMStateField *field) {
    target_ulong *pair = pv;
    (void)size;
    (void)field;
    qemu_get_betls(f, &pair[0]);
    pair[1] = (target_ulong)qemu_get_sbetl(f);
    return qemu_file_get_error(f);
}

static int fx_cputl_put_pair(QEMUFile *f, void *pv, size_t size, const VMStateField *field,
                             JSONWriter *vmdesc) {
    const target_ulong *pair = pv;
    (void)size;
    (void)field;
    (void)vmdesc;
    qemu_put_betls(f, &pair[0]);
    qemu_put_sbetl(f, pair[1]);
    return 0;
}

static const VMStateInfo fx_cputl_info_pair = {
    .name = "tl-pair",
    .get = fx_cputl_get_pair,
    .put = fx_cputl_put_pair,
};

const VMStateDescription FX_CPUTL_VMSD = {
    .name = "fx-cputl",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields = (VMStateField[]){
        VMSTATE_UINT32(selector, FX_CPUTL_STATE),
        VMSTATE_UINTTL(base, FX_CPUTL_STATE),
        VMSTATE_UINTTL_ARRAY(regs, FX_CPUTL_STATE, 3),
        VMSTATE_UINTTL_2DARRAY(tlb, FX_CPUTL_STATE, 2, 2),
        VMSTATE_UINTTL_EQUAL(model, FX_CPUTL_STATE),
        VMSTATE_UINTTL_TEST(extra, FX_CPUTL_STATE, fx_cputl_has_extra),
        VMSTATE_UINTTL_V(eip, FX_CPUTL_STATE, 2),
        VMSTATE_SINGLE(cr3, FX_CPUTL_STATE, 0, vmstate_info_uinttl, target_ulong),
        {
            .name = "pair",
            .info = &fx_cputl_info_pair,
            .size = sizeof(target_ulong[2]),
            .flags = VMS_SINGLE,
            .offset = vmstate_offset_array(FX_CPUTL_STATE, pair, target_ulong, 2),
        },
        VMSTATE_END_OF_LIST(),
    },
};
