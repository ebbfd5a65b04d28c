/*
 * swift-vmstate: the QEMUFile byte-stream API, with QEMU 7.2's names and meanings.
 *
 * A QEMUFile is either an output file that appends to a caller's GByteArray or writes a GIO
 * GOutputStream through a bounded buffer, or an input file that reads a GBytes with a cursor or
 * a GInputStream through a bounded buffer (see vmstate_file_new_output, _input,
 * _output_stream and _input_stream in migration/vmstate.h). All multi-byte values are big-endian on the wire.
 *
 * Short input: reading past the end of an input file records -EIO as the file's error and
 * yields zeros, as QEMU does (a multi-byte value cut short is its bytes followed by zeros);
 * check qemu_file_get_error() after a run of reads. Output: once the file has an error, nothing
 * more is written (as QEMU's qemu_put_*). A NULL file is ignored on output and reads as zeros on
 * input.
 */
#ifndef SWIFT_VMSTATE_QEMU_FILE_TYPES_H
#define SWIFT_VMSTATE_QEMU_FILE_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque byte stream: output to a GByteArray or a GOutputStream, input from a GBytes or a
 *  GInputStream. */
typedef struct QEMUFile QEMUFile;

/* ---- output ---------------------------------------------------------------------------- */

/** Appends the low 8 bits of `v`. */
void qemu_put_byte(QEMUFile *f, int v);
/** Appends the low 8 bits of `v` (QEMU's signed alias of qemu_put_byte). */
void qemu_put_sbyte(QEMUFile *f, int v);
/** Appends the low 16 bits of `v`, big-endian. */
void qemu_put_be16(QEMUFile *f, unsigned int v);
/** Appends `v` as 32 bits, big-endian. */
void qemu_put_be32(QEMUFile *f, unsigned int v);
/** Appends `v` as 64 bits, big-endian. */
void qemu_put_be64(QEMUFile *f, uint64_t v);
/** Appends `size` raw bytes from `buf`. */
void qemu_put_buffer(QEMUFile *f, const uint8_t *buf, size_t size);
/** Appends a length byte and then the bytes of `name` (no NUL). NULL writes the empty string (a
 *  0 length byte); a name of more than 255 bytes writes nothing and sets the file's error to
 *  -EINVAL (QEMU asserts). */
void qemu_put_counted_string(QEMUFile *f, const char *name);

/* The value at `pv` (the *s forms), and signed values of 16, 32 and 64 bits. */
void qemu_put_8s(QEMUFile *f, const uint8_t *pv);
void qemu_put_be16s(QEMUFile *f, const uint16_t *pv);
void qemu_put_be32s(QEMUFile *f, const uint32_t *pv);
void qemu_put_be64s(QEMUFile *f, const uint64_t *pv);
void qemu_put_s8s(QEMUFile *f, const int8_t *pv);
void qemu_put_sbe16(QEMUFile *f, int v);
void qemu_put_sbe32(QEMUFile *f, int v);
void qemu_put_sbe64(QEMUFile *f, int64_t v);
void qemu_put_sbe16s(QEMUFile *f, const int16_t *pv);
void qemu_put_sbe32s(QEMUFile *f, const int32_t *pv);
void qemu_put_sbe64s(QEMUFile *f, const int64_t *pv);

/* ---- input ----------------------------------------------------------------------------- */

/** Reads one byte (0..255); 0 and the -EIO file error past the end. */
int qemu_get_byte(QEMUFile *f);
/** Reads one byte, 0..255, as qemu_get_byte does (QEMU defines it as an alias of that: no sign
 * extension; cast the result to int8_t for a signed value). */
int qemu_get_sbyte(QEMUFile *f);
/** Reads one byte as an unsigned value. */
unsigned int qemu_get_ubyte(QEMUFile *f);
/* 16, 32 and 64 bits, big-endian. */
unsigned int qemu_get_be16(QEMUFile *f);
unsigned int qemu_get_be32(QEMUFile *f);
uint64_t qemu_get_be64(QEMUFile *f);
/** Copies up to `size` bytes into `buf`; returns how many were there. Fewer than `size` is
 *  short input (-EIO recorded). */
size_t qemu_get_buffer(QEMUFile *f, uint8_t *buf, size_t size);
/** Reads a length byte and that many bytes into `buf`, NUL-terminated; returns the length,
 *  or 0 when the input ended early. */
size_t qemu_get_counted_string(QEMUFile *f, char buf[256]);

/* Into `pv` (the *s forms), and signed values of 16, 32 and 64 bits. */
void qemu_get_8s(QEMUFile *f, uint8_t *pv);
void qemu_get_be16s(QEMUFile *f, uint16_t *pv);
void qemu_get_be32s(QEMUFile *f, uint32_t *pv);
void qemu_get_be64s(QEMUFile *f, uint64_t *pv);
void qemu_get_s8s(QEMUFile *f, int8_t *pv);
int qemu_get_sbe16(QEMUFile *f);
int qemu_get_sbe32(QEMUFile *f);
int64_t qemu_get_sbe64(QEMUFile *f);
void qemu_get_sbe16s(QEMUFile *f, int16_t *pv);
void qemu_get_sbe32s(QEMUFile *f, int32_t *pv);
void qemu_get_sbe64s(QEMUFile *f, int64_t *pv);

/** Returns the byte `offset` bytes past the cursor without consuming it; 0 past the end,
 *  which records -EIO as QEMU's does (on a file from vmstate_file_new_input). Over a stream
 *  whose end has not been read, an `offset` of 256 KiB or more gives 0 without reading
 *  (QEMU's limit is its buffer size, which it asserts). */
int qemu_peek_byte(QEMUFile *f, int offset);
/** Points `*buf` at up to `size` bytes starting `offset` bytes past the cursor, without
 *  consuming them; returns how many are available (fewer than `size` once the input has
 *  ended records -EIO, as qemu_peek_byte). Over a GBytes the bytes stay valid until the file is
 *  closed; over a stream, until the next read, and at most 256 KiB are peeked (QEMU's own limit
 *  is its buffer size). */
size_t qemu_peek_buffer(QEMUFile *f, uint8_t **buf, size_t size, size_t offset);
/** Moves the cursor forward by `size` bytes when they are there (a stream file reads up to
 *  `size` bytes first); past the end it does nothing (as QEMU's). */
void qemu_file_skip(QEMUFile *f, int size);

/* ---- both ------------------------------------------------------------------------------ */

/** Returns the file's first error (a negative errno), or 0. */
int qemu_file_get_error(QEMUFile *f);
/** Records `ret` as the file's error unless one is recorded already. */
void qemu_file_set_error(QEMUFile *f, int ret);
/** Bytes written (output) or consumed (input) so far. */
int64_t qemu_file_total_transferred(QEMUFile *f);
/** Writes the buffered bytes of an output stream file to its stream and flushes the stream;
 *  a failure sets the file's error. Nothing for GByteArray and input files. */
void qemu_fflush(QEMUFile *f);
/** Flushes an output file (qemu_fflush), then frees the file and returns its error, or 0. The
 *  caller's buffer or stream stays the caller's (a stream is not closed). NULL is allowed. */
int qemu_fclose(QEMUFile *f);

/*
 * QEMU's checks for code that writes a stream in passes (its SaveVMHandlers) and for files that
 * allow positioned I/O. QEMU stops writing for now when its file is over the migration's bandwidth
 * limit, has an error or was shut down; the files here have no bandwidth limit of their own (a
 * live migration's limit is the migration's: vmstate_migration_set_max_bandwidth) and no shutdown,
 * so only the error counts. None of them offers QEMU's positioned I/O (qemu_put_buffer_at), so
 * none is seekable. A NULL file has no error.
 */
#if defined(VMSTATE_QEMU_API) && VMSTATE_QEMU_API == 1000
/** QEMU 10.0: true when `f` has an error (qemu_file_get_error(f) != 0), else false. */
bool migration_rate_exceeded(QEMUFile *f);
/** QEMU 10.0: whether `f` allows positioned reads and writes; always false here. */
bool qemu_file_is_seekable(QEMUFile *f);
#else
/** QEMU 7.2: 1 when `f` has an error (qemu_file_get_error(f) != 0), else 0. */
int qemu_file_rate_limit(QEMUFile *f);
#endif

#ifdef __cplusplus
}
#endif

#endif
