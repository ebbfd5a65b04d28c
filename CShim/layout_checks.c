/*
 * Compile-time proof that the public structs have QEMU 7.2's x86-64 layout (docs/FORMAT.md §1).
 * Nothing here runs; a mismatch stops the build.
 */
#include "migration/vmstate.h"

#define VMS_AT(type, member, off) _Static_assert(offsetof(type, member) == (off), #type "." #member)

_Static_assert(sizeof(VMStateInfo) == 24, "sizeof(VMStateInfo)");
VMS_AT(VMStateInfo, name, 0);
VMS_AT(VMStateInfo, get, 8);
VMS_AT(VMStateInfo, put, 16);

_Static_assert(sizeof(VMStateField) == 104, "sizeof(VMStateField)");
VMS_AT(VMStateField, name, 0);
VMS_AT(VMStateField, err_hint, 8);
VMS_AT(VMStateField, offset, 16);
VMS_AT(VMStateField, size, 24);
VMS_AT(VMStateField, start, 32);
VMS_AT(VMStateField, num, 40);
VMS_AT(VMStateField, num_offset, 48);
VMS_AT(VMStateField, size_offset, 56);
VMS_AT(VMStateField, info, 64);
VMS_AT(VMStateField, flags, 72);
VMS_AT(VMStateField, vmsd, 80);
VMS_AT(VMStateField, version_id, 88);
VMS_AT(VMStateField, struct_version_id, 92);
VMS_AT(VMStateField, field_exists, 96);

_Static_assert(sizeof(VMStateDescription) == 88, "sizeof(VMStateDescription)");
VMS_AT(VMStateDescription, name, 0);
VMS_AT(VMStateDescription, unmigratable, 8);
VMS_AT(VMStateDescription, version_id, 12);
VMS_AT(VMStateDescription, minimum_version_id, 16);
VMS_AT(VMStateDescription, priority, 20);
VMS_AT(VMStateDescription, pre_load, 24);
VMS_AT(VMStateDescription, post_load, 32);
VMS_AT(VMStateDescription, pre_save, 40);
VMS_AT(VMStateDescription, post_save, 48);
VMS_AT(VMStateDescription, needed, 56);
VMS_AT(VMStateDescription, dev_unplug_pending, 64);
VMS_AT(VMStateDescription, fields, 72);
VMS_AT(VMStateDescription, subsections, 80);

_Static_assert(sizeof(enum VMStateFlags) == 4, "enum VMStateFlags is an int");
_Static_assert(VMS_SINGLE == 0x1 && VMS_POINTER == 0x2 && VMS_ARRAY == 0x4 && VMS_STRUCT == 0x8,
               "VMStateFlags values");
_Static_assert(VMS_VARRAY_INT32 == 0x10 && VMS_BUFFER == 0x20 && VMS_ARRAY_OF_POINTER == 0x40 &&
                   VMS_VARRAY_UINT16 == 0x80,
               "VMStateFlags values");
_Static_assert(VMS_VBUFFER == 0x100 && VMS_MULTIPLY == 0x200 && VMS_VARRAY_UINT8 == 0x400 &&
                   VMS_VARRAY_UINT32 == 0x800,
               "VMStateFlags values");
_Static_assert(VMS_MUST_EXIST == 0x1000 && VMS_ALLOC == 0x2000 && VMS_MULTIPLY_ELEMENTS == 0x4000 &&
                   VMS_VSTRUCT == 0x8000,
               "VMStateFlags values");
_Static_assert(MIG_PRI_DEFAULT == 0 && MIG_PRI_IOMMU == 1 && MIG_PRI_PCI_BUS == 2 &&
                   MIG_PRI_VIRTIO_MEM == 3 && MIG_PRI_GICV3_ITS == 4 && MIG_PRI_GICV3 == 5 &&
                   MIG_PRI_MAX == 6,
               "MigrationPriority values");
_Static_assert(VMS_NULLPTR_MARKER == 0x30, "VMS_NULLPTR_MARKER");
_Static_assert(sizeof(CPU_DoubleU) == 8 && offsetof(CPU_DoubleU, l.upper) == 4, "CPU_DoubleU");
_Static_assert(offsetof(QEMUTimer, expire_time) == 0, "QEMUTimer starts with expire_time");
_Static_assert(sizeof(QTailQLink) == 16, "QTailQLink");
