/*
 * swift-vmstate: whole migration streams in QEMU 7.2's and QEMU 10.0's formats (docs/FORMAT.md
 * §5, §9).
 *
 * A registry holds the devices (a description and its opaque, by idstr and instance id) and
 * the RAM blocks of an emulator. Save writes a stream QEMU 7.2 or QEMU 10.0 can load (see
 * vmstate_registry_set_stream_version); load reads a stream written by QEMU 7.2, QEMU 8.x-10.0
 * (or by save) into the registered devices and RAM.
 *
 * Return convention: every function that takes `GError **error` returns true on success, and
 * false with `*error` set (domain VMSTATE_ERROR, a VMStateErrorCode) on failure when `error` is
 * not NULL; the message names the field path, the section and the byte offset.
 */
#ifndef SWIFT_VMSTATE_REGISTRY_H
#define SWIFT_VMSTATE_REGISTRY_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct VMStateDescription VMStateDescription;

/** An opaque set of devices and RAM blocks. */
typedef struct VMStateRegistry VMStateRegistry;

/**
 * Sections with no registered entry are skipped instead of failing the load, by the size the
 * stream's vmdesc gives them. One whose vmdesc size does not end at its section footer fails
 * the load with VMSTATE_ERROR_UNKNOWN_SECTION: QEMU 7.2's and 10.0's vmdesc (and this library's,
 * written the same) give an array of pointers with NULL entries past the first
 * (VMS_ARRAY_OF_POINTER) a wrong size. (QEMU's own destination never skips a section.)
 */
#define VMSTATE_LOAD_SKIP_UNKNOWN 0x1
/** ... and kept, and written back by the next save in their original place. Implies SKIP. */
#define VMSTATE_LOAD_KEEP_UNKNOWN 0x2

/**
 * The instance id that asks vmstate_registry_add for the next free one of the idstr: one more
 * than the highest registered with that idstr, or 0 (QEMU's value and meaning: vmstate_register
 * with VMSTATE_INSTANCE_ID_ANY). As a uint32_t it is 0xffffffff, which no device gets itself.
 */
#ifndef VMSTATE_INSTANCE_ID_ANY
#define VMSTATE_INSTANCE_ID_ANY -1
#endif

/** A new, empty registry; free it with vmstate_registry_free. */
VMStateRegistry *vmstate_registry_new(void);
/** Frees the registry (not the devices, descriptions or RAM it refers to); NULL is allowed. */
void vmstate_registry_free(VMStateRegistry *reg);

/**
 * Registers a device: its state `opaque` described by `vmsd`, saved as section `idstr` (1 to 255
 * bytes, copied) with `instance_id`. `vmsd` and `opaque` must stay valid, at the same address,
 * while the registry is used. The description is planned here: a table that breaks a rule of
 * docs/FORMAT.md §7 (the errors `vmstate lint` reports: a field with neither info nor vmsd,
 * exclusive flags, a bad subsection name, descriptions nested deeper than 64 levels, ...,
 * nested tables included) fails now with
 * VMSTATE_ERROR_INVALID_TABLE and a message naming the field. Two errors lint reports do not
 * stop a save and are not refused here, as QEMU saves such tables: a description without a name
 * (its vmdesc entry says "(unnamed)") and minimum_version_id above version_id (every load of it
 * fails, VMSTATE_ERROR_VERSION_TOO_OLD or _NEW). A VMStateInfo without get or put fails the save
 * or load that reaches it.
 * Fails when the same idstr and instance id is registered already, or while a live migration of
 * the registry is in progress (vmstate_migration_start until it completes, fails or is freed:
 * its stream was planned with the devices and RAM blocks of its start). `instance_id`
 * VMSTATE_INSTANCE_ID_ANY takes the next free instance id of `idstr` (see above).
 * In a file built with VMSTATE_QEMU_API 1000 (QEMU 10.0's tables) this and
 * vmstate_registry_add_sized link to their own symbols (`_v1000`): the registry then reads the
 * table's `bool unmigratable` and `bool early_setup` as QEMU 10.0 lays them out, and a stream
 * written for QEMU 10.0 saves an early-setup device in the setup phase (before the RAM pages).
 */
#if defined(VMSTATE_QEMU_API) && VMSTATE_QEMU_API == 1000
#define VMS_REGISTRY_STR_(s) #s
#define VMS_REGISTRY_XSTR_(s) VMS_REGISTRY_STR_(s)
#define VMS_REGISTRY_SYMBOL_(name) __asm__(VMS_REGISTRY_XSTR_(__USER_LABEL_PREFIX__) #name)
#else
#define VMS_REGISTRY_SYMBOL_(name)
#endif
bool vmstate_registry_add(VMStateRegistry *reg, const char *idstr, uint32_t instance_id,
                          const VMStateDescription *vmsd, void *opaque, GError **error)
    VMS_REGISTRY_SYMBOL_(vmstate_registry_add_v1000);

/**
 * Registers a device like vmstate_registry_add, with the size of its top-level struct: loads then
 * never write outside those `opaque_size` bytes (or memory the engine allocated), validate counts
 * and sizes from the stream, and VMSTATE_LOAD_TRANSACTIONAL can restore the struct on failure.
 * An `opaque_size` of 0 is refused (VMSTATE_ERROR_FAILED), and so is one smaller than the table's
 * fixed fields reach (docs/C-API.md), naming the field. Sized structs may share memory (QEMU's
 * "cpu_common" section saves the CPUState at the start of the X86CPU that "cpu" saves): each
 * section's load is bounded by its own struct.
 */
bool vmstate_registry_add_sized(VMStateRegistry *reg, const char *idstr, uint32_t instance_id,
                                const VMStateDescription *vmsd, void *opaque, size_t opaque_size,
                                GError **error) VMS_REGISTRY_SYMBOL_(vmstate_registry_add_sized_v1000);

/**
 * Registers a RAM block of `length` bytes at `host` under `block_idstr` (QEMU's RAMBlock idstr,
 * e.g. "pc.ram"). `length` must be a positive multiple of the 4096-byte page size; `host` must
 * stay valid while the registry is used. Fails (VMSTATE_ERROR_FAILED) while a live migration of
 * the registry is in progress, as vmstate_registry_add does.
 */
bool vmstate_registry_add_ram(VMStateRegistry *reg, const char *block_idstr, void *host,
                              size_t length, GError **error);

/**
 * Appends a whole stream to the caller's buffer `out`: header, configuration (`machine_type`, at
 * most 255 bytes; NULL means the machine type of the last loaded stream, else of the last save
 * or live migration, else VMSTATE_ERROR_FAILED "no machine type"; a loaded stream without a
 * configuration section, pc-i440fx-2.3's, is saved back without one, for QEMU 7.2: a QEMU 10.0
 * stream needs a machine type, VMSTATE_ERROR_FAILED without one), RAM when registered (also
 * after loading a stream without a RAM section), one
 * section per device, EOF, vmdesc. Devices are saved as QEMU 7.2 orders its handlers: higher
 * `vmsd->priority` (MigrationPriority) first, and in registration order within one priority.
 * After a load, the loaded stream's sections keep its order and section ids; devices it did not
 * have follow, in that same priority order (one registered since whose section the load kept,
 * and RAM whose kept section the load held, take that section's place and id instead: such RAM
 * must have every block of the kept RAM, else VMSTATE_ERROR_RAM names the ones missing, whose
 * pages the save would lose). Within the RAM section, blocks (their list and their
 * pages) always come in the order vmstate_registry_add_ram registered them, whatever order a
 * loaded stream had (QEMU finds each block by name). On failure `out` is put back to the length it had.
 * A GByteArray holds at most 4 GiB: a stream that would pass that fails
 * (VMSTATE_ERROR_BOUND_EXCEEDED, checked before the RAM is written) and says to use
 * vmstate_registry_save_to_stream. `out` grows as the stream is written, to the stream's size
 * (a zero page takes 9 bytes), not the RAM's: a mostly zero guest needs little memory.
 */
bool vmstate_registry_save(VMStateRegistry *reg, const char *machine_type, GByteArray *out,
                           GError **error);

/**
 * Loads a whole stream from the caller's buffer `in` into the registered devices and RAM.
 * `flags`: 0 or VMSTATE_LOAD_SKIP_UNKNOWN, VMSTATE_LOAD_KEEP_UNKNOWN, VMSTATE_LOAD_TRANSACTIONAL
 * (declared in migration/vmstate.h); any other bit is refused (VMSTATE_ERROR_FAILED, "unknown load
 * flags", before anything is read; so is a load while a live migration of `reg` is in
 * progress, whose RAM would not reach the destination). Sections load in stream order: a failure leaves the sections
 * before it loaded, unless VMSTATE_LOAD_TRANSACTIONAL is given, in which case every device added
 * with vmstate_registry_add_sized is restored (devices added without a size and RAM are not; the
 * message names those the load had reached): each is copied first, and a size no allocation can
 * hold fails the load (VMSTATE_ERROR_FAILED) before anything is read.
 * SKIP_UNKNOWN and KEEP_UNKNOWN apply to device sections, and to two iterative sections whose
 * records give their end: ppc64 pseries' `spapr/htab` and s390x's `s390-storage_attributes`
 * (without either flag VMSTATE_ERROR_UNKNOWN_SECTION; kept ones are held in memory with kept
 * RAM, below; any other iterative section but RAM fails with VMSTATE_ERROR_BAD_STREAM). The
 * stream's RAM is never unknown (QEMU
 * always has a RAM handler): each of its blocks must be registered with the same length, and with
 * no RAM registered at all a stream with RAM fails with VMSTATE_ERROR_RAM ("the stream has a RAM
 * block that is not registered", naming the block) under 0 and SKIP_UNKNOWN alike; only
 * KEEP_UNKNOWN reads past it unloaded, holding it in memory to write it back on the next save:
 * at most 64 MiB of stream with the kept iterative sections, else VMSTATE_ERROR_RAM (register
 * the RAM blocks to load more; VMSTATE_ERROR_UNKNOWN_SECTION when an iterative section passes it).
 * Every load is checked like vmstate_load_checked: sized devices are bounded to their struct,
 * pointers into registered RAM to their block, and all devices get the allocation and nesting
 * limits. A device section that appears twice loads twice into the device, as in QEMU (which
 * loads every section of one idstr and instance into the first such device: QEMU 7.2's isapc
 * saves both isa-ide channels as instance 0), where its description writes only over its
 * struct; one that allocates (VMS_ALLOC), fills a list or a tree or has a custom get is refused
 * (VMSTATE_ERROR_BAD_STREAM: a second load would leak or add to what the first made). A section
 * skipped or kept needs a vmdesc entry of its own: QEMU writes one per section, and sections of
 * one idstr and instance take their entries in order (VMSTATE_ERROR_UNKNOWN_SECTION when there
 * are fewer). A registered device whose description has `unmigratable` set refuses every load
 * before anything is read (VMSTATE_ERROR_FAILED, "... is marked unmigratable ..."), as QEMU's
 * destination refuses every stream while one exists ("State blocked by non-migratable device").
 */
bool vmstate_registry_load(VMStateRegistry *reg, GBytes *in, unsigned flags, GError **error);

#ifndef __G_IO_H__
typedef struct _GOutputStream GOutputStream;
typedef struct _GInputStream GInputStream;
typedef struct _GSocketListener GSocketListener;
#endif

/**
 * Writes a whole stream, as vmstate_registry_save, to the GIO stream `out` (a file, a socket, a
 * pipe...), through one bounded buffer: RAM pages go from guest memory to `out` without a copy
 * of the whole RAM, so memory stays bounded whatever the guest size, and the stream has no size
 * limit. `out` is flushed at the end and never closed. A failed write returns false with the
 * stream's own GError (e.g. G_IO_ERROR_NO_SPACE, G_IO_ERROR_BROKEN_PIPE) whose message gives the
 * byte offset of the first byte not written and names the section that byte belongs to (none
 * for the header, the EOF marker and the vmdesc: a stream that fits in the buffer whole fails
 * at its final flush, at byte 0); other failures are VMSTATE_ERROR as for
 * vmstate_registry_save. Bytes written before a failure stay written. A stream on a local
 * regular file is written from a thread of the library (vmstate_registry_set_direct_io). A
 * stream already closed or with an operation pending is refused before anything is written
 * (G_IO_ERROR_CLOSED, G_IO_ERROR_PENDING; the stream is not marked pending meanwhile: use it
 * from no other thread until the save returns); one whose write returns 0 or more than it was
 * given fails with G_IO_ERROR_FAILED saying so.
 */
bool vmstate_registry_save_to_stream(VMStateRegistry *reg, const char *machine_type,
                                     GOutputStream *out, GError **error);

/**
 * Loads a whole stream, as vmstate_registry_load, read from the GIO stream `in` through one
 * bounded buffer (RAM pages go from it into guest memory). The stream's device state ends at
 * its EOF marker; reading stops after the vmdesc that follows it, which is read and dropped as QEMU's destination does (a source
 * still sending it would otherwise see the connection closed and fail); a source that sends no
 * vmdesc must end the stream after EOF. `in` is never closed, and it is read ahead (up to
 * 256 KiB): bytes that follow the stream in `in` may be consumed, so give the stream an input of
 * its own. With VMSTATE_LOAD_SKIP_UNKNOWN / _KEEP_UNKNOWN an unknown section is
 * skipped with the size the stream's vmdesc gives it, and that vmdesc comes last: the rest of
 * the stream after the first unknown section (device sections after the RAM, the EOF marker and
 * the vmdesc) is then held in memory, at most 64 MiB, else the load fails with
 * VMSTATE_ERROR_UNKNOWN_SECTION (as does a stream that ends at EOF without a vmdesc; one cut
 * before EOF is VMSTATE_ERROR_SHORT_INPUT); reading on stops once the bytes read end with the EOF
 * marker and a whole vmdesc. An unknown section between the RAM's START and its pages (QEMU 10.0's
 * early-setup sections, e.g. virtio-mem-device-early) is skipped up to its section footer instead,
 * its length checked against the vmdesc when it arrives (docs/C-API.md). RAM is never held (but with _KEEP_UNKNOWN and no RAM registered, which keeps
 * at most 64 MiB of it: see vmstate_registry_load). An early end is VMSTATE_ERROR_SHORT_INPUT;
 * a failed read returns the stream's own GError (e.g. G_IO_ERROR_CONNECTION_CLOSED); both
 * messages name the section and the byte offset (a read returning -1 without a GError is
 * G_IO_ERROR_FAILED). A read blocks as long as `in` blocks (for a live migration on a listening
 * socket, vmstate_registry_load_from_listener); one that fails with G_IO_ERROR_WOULD_BLOCK
 * fails the load (not retried; GLib's own streams on a non-blocking descriptor wait themselves). With
 * vmstate_registry_set_direct_io a stream on a local regular file is read with O_DIRECT (also
 * without, when the caller opened its descriptor with O_DIRECT: then the stream must start on a
 * 4 KiB boundary of the file, docs/C-API.md). A stream already closed or with
 * an operation pending is refused before anything is read (G_IO_ERROR_CLOSED, _PENDING).
 */
bool vmstate_registry_load_from_stream(VMStateRegistry *reg, GInputStream *in, unsigned flags,
                                       GError **error);

/**
 * The destination of a live migration on a listening socket (QEMU's `-incoming tcp:HOST:PORT`):
 * accepts one connection on `listener` (the caller's, listening already; referenced, never
 * closed) and loads it as vmstate_registry_load_from_stream does, with `flags` (unknown flags,
 * a live migration of `reg` in progress and a device marked unmigratable are refused before a
 * connection is accepted: close `listener` then, or a source's connection waits queued on it,
 * and a small stream may be sent whole, the source reporting completed). While it loads,
 * every further connection to `listener` is accepted on a thread of the library, its first 4
 * bytes read, and closed. QEMU opens one such connection per multifd channel (capability
 * multifd, QEMU 7.2 and 10.0: each starts with be32 0x11223344), where it sends the guest's RAM
 * pages; closing them makes QEMU fail its migration, and the first one seen also shuts down the
 * reading of the stream's connection (which a failed QEMU may keep open), so the load fails at
 * once with VMSTATE_ERROR_BAD_STREAM ("the source opened a second connection beside the migration
 * stream, QEMU multifd channels (magic 0x11223344): capability multifd is on, ...", the stream's
 * own error in parentheses), whatever the stream gave. When the load ends, the stream's connection
 * is closed first, then the connections still queued on `listener` are accepted and read the same
 * way, without waiting for new ones (accepted for up to 2 s after the load ends; each
 * connection's first bytes waited for up to 1 s a read: a few seconds in all): QEMU has its multifd channels connected, their magic written, before its stream passes
 * the RAM setup (7.2 waits there for each channel's sync packet; 10.0 connects them before the
 * stream), so a load that fails first (e.g. at QEMU 10.0's multifd flush, RAM flag 0x200) or
 * ends first, before the library's thread has run, still names multifd. (A caller that accepts one connection
 * itself and leaves the listener open lets those channels queue unread: a QEMU 7.2 source then
 * completes, its main stream holding only the zero pages, and the load succeeds with the rest of
 * the RAM missing, or both sides stall once the socket buffers fill.) A multifd
 * channel accepted first fails the load at its magic (VMSTATE_ERROR_BAD_STREAM, "a QEMU multifd
 * channel, not the migration stream: ...", the stream's error in the message above when the
 * source's other connections are seen). Other extra connections are closed and ignored. A
 * failed accept returns its GError (e.g. G_IO_ERROR_CLOSED). Blocks until the load ends, and
 * then while the queued connections are read (above); there is no timeout: a source that stays
 * connected but stops sending holds the call up, as it holds QEMU's destination up (to bound the
 * wait, accept yourself, g_socket_set_timeout, then vmstate_registry_load_from_stream). The wait
 * for the first connection has no bound either (no GCancellable; closing the listener from
 * another thread does not wake it): accept yourself to bound it. Pass a plain GSocketListener, or
 * a stopped GSocketService: a started one with a main loop running accepts connections itself.
 */
bool vmstate_registry_load_from_listener(VMStateRegistry *reg, GSocketListener *listener, unsigned flags,
                                         GError **error);

/**
 * Whether vmstate_registry_save_to_stream and vmstate_registry_load_from_stream use O_DIRECT on
 * a stream over a local regular file, as QEMU's `direct-io` migration parameter (QEMU 9.0+) does
 * for file migration. Off by default.
 *
 * Such a stream is one of GLib's own descriptor streams (GUnixOutputStream/GUnixInputStream, a
 * local GFileOutputStream/GFileInputStream; not a subclass, whose own write_fn/read_fn this would
 * skip: a subclass is written and read through GIO as any stream) over a regular file, not
 * O_APPEND, seekable. A save to one
 * is written, whether direct I/O is on or off, from a thread of the library: the save fills four
 * 2 MiB buffers (three of 8 MiB with direct I/O) in turn and the thread writes each full one
 * with pwrite(2) at its own offset, on a duplicate of the stream's descriptor (F_DUPFD_CLOEXEC,
 * closed before the save returns), while the next is filled (through the page cache in pieces of
 * at most 1 MiB, the file's blocks allocated ahead with fallocate(2) when the stream writes at
 * the end of the file, never past the process's file size limit); the save returns once every
 * byte is written, with the stream's offset at the end of the stream and the file ending there
 * (unless it was longer before the save: bytes past the stream are left). Any other stream (socket, pipe, memory, a filter
 * stream) is written on the caller's thread.
 *
 * When on, the whole 4 KiB blocks of each buffer are written (and a load reads whole blocks
 * into an 8 MiB window) through a second descriptor of the same file opened with O_DIRECT by
 * /proc/self/fd, past the page cache; the few bytes around them (up to the first block
 * boundary, the block two buffers share) go through the page cache. The file holds the same
 * bytes either way; neither fsyncs. Not on tmpfs (its files live in the page cache); a file
 * system that refuses O_DIRECT gets plain I/O. Worth it where filling the page cache is slow
 * (docs/PERFORMANCE.md); a file written this way is not in the page cache, so reading it back
 * soon after reads the disk.
 */
void vmstate_registry_set_direct_io(VMStateRegistry *reg, bool enable);

/** The machine type of the last loaded stream, or NULL: the stream's own bytes, which may not be
 *  UTF-8 (QEMU's are ASCII; a load compares them as bytes, as QEMU does, and a save with a NULL
 *  machine type writes them back, while a machine type passed to a save must be UTF-8), up to a
 *  NUL byte if the name holds one. Owned by the registry; valid until the next call of this
 *  function or vmstate_registry_free. */
const char *vmstate_registry_machine_type(VMStateRegistry *reg);

/* ---- The QEMU version streams are written for ----------------------------------------------
 *
 * What differs between the two (checked against QEMU 7.2.22 and 10.0.13, docs/FORMAT.md §9):
 * - QEMU 10.0 sends MIG_CMD_SWITCHOVER_START (bytes 08 00 0b 00 00: QEMU_VM_COMMAND, be16
 *   command 11, be16 length 0) after the last RAM part, before the RAM END section and the
 *   devices, for machine types pc-i440fx-10.0 / pc-q35-10.0 / virt-10.0 and newer (and any
 *   unversioned one: a name not ending in -X.Y); not for 9.2 and older of any target
 *   (hw_compat_9_2: pc-q35-9.2, virt-9.2, pseries-9.2...). QEMU 7.2 refuses
 *   the command ("MIG_CMD 0xb unknown"), so 7.2 streams never hold it.
 * - QEMU 10.0's vmdesc starts with "configuration", the description of the configuration
 *   section, before "page_size".
 * - QEMU 7.2: machine types pc-i440fx-2.3, pseries-2.3 and older send neither the configuration
 *   section nor section footers (hw_compat_2_3); QEMU 10.0 no longer has such machine types, and
 *   a stream written for it sends both for any name.
 * Loading accepts streams of both versions whatever the setting: SWITCHOVER_START (with length
 * 0; any other command or length fails with VMSTATE_ERROR_BAD_STREAM naming the command and the
 * byte offset), the configuration's capabilities x-ignore-shared (each RAM block's guest
 * address after its length, kept for the re-save, which sends no page of a block the stream
 * sent none of: QEMU's source skips RAM on a shared file, and its destination refuses a page
 * of it; a virtio-mem block with nothing plugged sends none either and is taken for one) and
 * mapped-ram (QEMU 9.0+ file migrations:
 * after each block's length a 28-byte header, the page bitmap right after it, the pages at the
 * next 1 MiB boundary; set pages load, the others are zeroed; a save of such a stream for its
 * own machine type writes the same layout at the same offsets; a live migration of it is
 * refused), and streams without configuration and footers. As QEMU, loading takes a
 * configuration section only right after the header (one elsewhere is "Unknown savevm section
 * type 7" to QEMU: VMSTATE_ERROR_BAD_STREAM), and refuses SWITCHOVER_START in a stream without
 * one (QEMU 7.2 does not know the command; QEMU 10.0 sends both).
 */

/** Streams QEMU 7.2 loads (the default). */
#define VMSTATE_STREAM_QEMU_7_2 702
/** Streams QEMU 10.0 loads. */
#define VMSTATE_STREAM_QEMU_10_0 1000

/**
 * Sets the QEMU version that vmstate_registry_save, _save_to_stream and live migrations write
 * streams for: VMSTATE_STREAM_QEMU_7_2 or VMSTATE_STREAM_QEMU_10_0 (another value fails with
 * VMSTATE_ERROR_FAILED). Every successful load sets it too, to the loaded stream's version (a
 * stream with SWITCHOVER_START or a vmdesc starting with "configuration" is QEMU 10.0's), so a
 * loaded stream is saved back as it came; the later of the two calls wins. A loaded stream
 * saved back for its own machine type and version keeps its own configuration, footers and
 * command; otherwise they follow the machine type's rules above, and the configuration's
 * subsections (capabilities such as x-ignore-shared, the UUID) are kept only for its own
 * machine type (for another, every RAM block's pages are sent).
 */
bool vmstate_registry_set_stream_version(VMStateRegistry *reg, uint32_t version, GError **error);

/** The QEMU version streams are written for (VMSTATE_STREAM_QEMU_7_2 or _10_0); 0 for NULL. */
uint32_t vmstate_registry_stream_version(VMStateRegistry *reg);

/**
 * Sets the smallest target page size of the emulated target, in bits: QEMU's
 * qemu_target_page_bits_min(), TARGET_PAGE_BITS_MIN of a target with TARGET_PAGE_BITS_VARY (10
 * for ARM, arm and aarch64 alike); 12, the default, where the page size is fixed at 4 KiB (x86,
 * riscv, s390x, ...). Pages here are 4 KiB (12 bits): when `bits` is smaller, saves and live
 * migrations send the configuration subsection "configuration/target-page-bits" (be32 12) after
 * the machine type, as QEMU's source does when its page bits exceed the minimum. A destination
 * of such a target takes the minimum when the subsection is missing and refuses the stream
 * ("Received TARGET_PAGE_BITS is 10 but local is 12"): an ARM emulator sets 10 before its first
 * save. Loads then refuse a stream without the subsection as QEMU's destination does
 * (VMSTATE_ERROR_BAD_STREAM, the same words). A loaded stream saved back for its own machine
 * type keeps its configuration as it came (the subsection put first when it lacked it).
 * `bits` 1 to 12; another value (or a NULL `reg`) fails with VMSTATE_ERROR_FAILED and changes
 * nothing.
 */
bool vmstate_registry_set_target_page_bits_min(VMStateRegistry *reg, uint32_t bits, GError **error);

/* ---- Live migration (pre-copy), as QEMU migrates --------------------------------------------
 *
 * The stream is the one QEMU writes during a live migration: header, configuration, the RAM
 * section START (QEMU_VM_SECTION_START: RAM_SAVE_FLAG_MEM_SIZE with the block list, EOS,
 * footer), then one QEMU_VM_SECTION_PART per pass (the dirty pages as PAGE / ZERO records, EOS,
 * footer), then with the guest stopped the RAM section END (the last dirty pages), one FULL
 * section per device, QEMU_VM_EOF and the vmdesc. It is written for the registry's stream
 * version (vmstate_registry_set_stream_version), as a save is: for QEMU 10.0 with a 10.0
 * machine type, MIG_CMD_SWITCHOVER_START comes right before the RAM END (QEMU 7.2 never gets
 * it). The destination is vmstate_registry_load_from_stream on the receiving end (or QEMU's
 * `-incoming`).
 */

/**
 * The emulator's dirty log: fills `bitmap` (`npages` bits, bit i = page i of the RAM block
 * `block_idstr`, 4096-byte pages; bit i of the array is bit i % (8 * sizeof(long)) of word
 * i / (8 * sizeof(long))) with the pages written since the previous call for that block, and
 * clears the emulator's log for it. The bitmap is cleared before the call. Returns false on
 * failure (the migration then fails with VMSTATE_ERROR_FAILED and counts every page as dirty).
 */
typedef bool (*VMStateDirtyLogFn)(const char *block_idstr, unsigned long *bitmap,
                                  size_t npages, void *opaque);

/**
 * Sets the dirty log used by live migrations of `reg` (NULL `fn`: none, and then every page
 * counts as dirty again after every pass, so nothing is lost but nothing converges).
 */
void vmstate_registry_set_dirty_log(VMStateRegistry *reg, VMStateDirtyLogFn fn, void *opaque);

/** A live migration of one registry to one GOutputStream. */
typedef struct VMStateMigration VMStateMigration;

/** Statistics of a live migration (QEMU's `query-migrate` "ram" numbers, in the same sense). */
typedef struct VMStateMigrationStats {
    uint64_t passes;          /* RAM PART sections sent by vmstate_migration_iterate */
    uint64_t pages_sent;      /* page records sent (PAGE and ZERO), all passes and the END */
    uint64_t zero_pages;      /* ... of which ZERO records (QEMU's "duplicate") */
    uint64_t bytes_sent;      /* bytes written to the stream so far (after a failed
                                 vmstate_migration_complete, also those its buffer held, not
                                 written) */
    uint64_t pending_bytes;   /* dirty RAM not yet sent, bytes (pages * 4096) */
    uint64_t last_pass_pages; /* page records of the last pass */
    uint64_t last_pass_bytes; /* bytes of the last pass */
    uint64_t last_pass_us;    /* duration of the last pass, microseconds */
    uint64_t bandwidth;       /* bytes per second measured over the last pass (0: none yet) */
    uint64_t downtime_us;     /* duration of vmstate_migration_complete, microseconds */
    uint64_t total_us;        /* from vmstate_migration_start to now or to completion */
} VMStateMigrationStats;

/**
 * Starts a live migration of `reg` to `out`: writes the header, the configuration and the RAM
 * START section, and counts every page of every RAM block as dirty (the dirty log is read once
 * and cleared). `machine_type` NULL: as for vmstate_registry_save (the loaded stream's, else the last save's). `out` is
 * referenced (never closed) until vmstate_migration_free. Returns NULL with `error` set on
 * failure (no RAM registered, no machine type, a live migration of `reg` in progress already,
 * as QEMU runs one at a time; the dirty log returned false, before anything was written; `out`
 * closed or with an operation pending: G_IO_ERROR_CLOSED or _PENDING; `out` on a descriptor
 * opened with O_DIRECT: G_IO_ERROR_INVALID_ARGUMENT; a write error: the stream's GError).
 * The migration is in progress from the start's first call of the emulator's code (the dirty
 * log): devices and RAM blocks cannot be added from there on. A device hook or the dirty log
 * that a migration call runs cannot call vmstate_migration_iterate, _iterate_until or
 * _complete of that migration (VMSTATE_ERROR_FAILED; the running call goes on).
 */
VMStateMigration *vmstate_migration_start(VMStateRegistry *reg, const char *machine_type,
                                          GOutputStream *out, GError **error);

/**
 * One pass while the guest runs: syncs the dirty log, sends every dirty page as one RAM PART
 * section (within the bandwidth limit), flushes, then syncs the dirty log again;
 * `*pending_bytes` (may be NULL) is the dirty RAM after the pass, bytes. A dirty-log failure
 * returns false with every page dirty again and the migration usable (call again); a write
 * failure returns false with the stream's GError and the migration failed (only
 * vmstate_migration_free is left).
 */
bool vmstate_migration_iterate(VMStateMigration *mig, uint64_t *pending_bytes, GError **error);

/**
 * Iterates until the expected downtime (pending bytes at the bandwidth measured over the last
 * pass) is at most `max_downtime_us` microseconds, or `max_passes` passes were made by this
 * call. `*converged` (may be NULL) says which. Errors as vmstate_migration_iterate.
 */
bool vmstate_migration_iterate_until(VMStateMigration *mig, uint64_t max_downtime_us,
                                     unsigned max_passes, bool *converged, GError **error);

/**
 * The guest is stopped: syncs the dirty log, sends the last dirty pages (RAM END), every device
 * (FULL sections, in the order vmstate_registry_save_to_stream uses), EOF and the vmdesc, and
 * flushes, without the bandwidth limit (QEMU lifts it for its completion). On failure the
 * guest's state is untouched; a write failure, or a device that fails to save (its pre_save:
 * VMSTATE_ERROR_HOOK_FAILED), fails the migration (only vmstate_migration_free is left: the
 * stream is half written), while a dirty log that returned false fails this call only, before
 * anything was sent, and the call may be made again. True means the stream was written, not
 * that the destination loaded it: there is no return path (see docs/C-API.md).
 */
bool vmstate_migration_complete(VMStateMigration *mig, GError **error);

/**
 * Limits the passes to `bytes_per_second` (QEMU's max-bandwidth: a tenth of it per 100 ms
 * window; 0, or below 10, which makes that tenth 0: no limit). vmstate_migration_complete is
 * never limited.
 */
void vmstate_migration_set_max_bandwidth(VMStateMigration *mig, uint64_t bytes_per_second);

/** Fills `stats` with the migration's statistics so far. */
void vmstate_migration_get_stats(VMStateMigration *mig, VMStateMigrationStats *stats);

/** Frees the migration and drops its reference to the stream (NULL: nothing). */
void vmstate_migration_free(VMStateMigration *mig);

#ifdef __cplusplus
}
#endif

#endif
