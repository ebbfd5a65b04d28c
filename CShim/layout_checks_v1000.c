/*
 * Compile-time proof that the QEMU 10.0 API (VMSTATE_QEMU_API 1000) gives QEMU 10.0's x86-64
 * layout: VMStateDescription has `bool unmigratable` at 8 and `bool early_setup` at 9, and every
 * other member where QEMU 7.2's has it (CShim/layout_checks.c), so the engine reads both kinds
 * of tables with one plan; VMStateField and VMStateInfo are unchanged. Nothing here runs.
 */
#define VMSTATE_QEMU_API 1000
#include "migration/vmstate.h"

#define VMS_AT(type, member, off) _Static_assert(offsetof(type, member) == (off), #type "." #member)

_Static_assert(sizeof(VMStateInfo) == 24, "sizeof(VMStateInfo)");
_Static_assert(sizeof(VMStateField) == 104, "sizeof(VMStateField)");
VMS_AT(VMStateField, flags, 72);
VMS_AT(VMStateField, field_exists, 96);

_Static_assert(sizeof(VMStateDescription) == 88, "sizeof(VMStateDescription)");
VMS_AT(VMStateDescription, name, 0);
VMS_AT(VMStateDescription, unmigratable, 8);
VMS_AT(VMStateDescription, early_setup, 9);
_Static_assert(sizeof(((VMStateDescription *)0)->unmigratable) == 1, "bool unmigratable");
_Static_assert(sizeof(((VMStateDescription *)0)->early_setup) == 1, "bool early_setup");
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
_Static_assert(__builtin_types_compatible_p(__typeof__(((VMStateDescription *)0)->subsections),
                                            const VMStateDescription *const *),
               "subsections is a const array of const pointers");

_Static_assert(sizeof(enum VMStateFlags) == 4, "enum VMStateFlags is an int");
_Static_assert(VMS_END == 0x10000, "VMS_END");
static const VMStateField end_of_list = VMSTATE_END_OF_LIST();
_Static_assert(sizeof(end_of_list) == 104, "VMSTATE_END_OF_LIST is one VMStateField");
