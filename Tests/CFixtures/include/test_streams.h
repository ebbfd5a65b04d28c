/*
 * GIO streams written for the stream tests: an input stream over bytes that returns at most a
 * given number of bytes per read and can end early or fail at a given offset; an output stream
 * that accepts at most a given number of bytes per write, keeps (or only counts) what it was
 * given and can fail at a given offset.
 */
#ifndef TEST_STREAMS_H
#define TEST_STREAMS_H

#include <gio/gio.h>
#include <stdint.h>

/**
 * A GInputStream over `bytes` (referenced) that returns at most `chunk` bytes per read. After
 * `cut` bytes (-1: never) it ends: with end-of-stream when `fail_code` is 0, else with a
 * G_IO_ERROR of code `fail_code` ("connection reset by test"), or, for the code below, breaks
 * GIO's contract for read: returns -1 without setting the error. Skips are reads too.
 */
enum { TEST_READ_FAILS_WITHOUT_ERROR = -1 };
GInputStream *test_chunked_input_stream_new(GBytes *bytes, gsize chunk, gint64 cut, int fail_code);
/** Makes every read that returns data claim `extra` bytes more than it gave (and than it was
 * asked for): a broken GInputStream implementation. */
void test_chunked_input_stream_set_overclaim(GInputStream *stream, gsize extra);
/** Makes its skips GIO's default one (reads of up to 8 KiB into a buffer of GIO's, which returns
 *  -1 for a read that fails after part of the skip) instead of its own. */
void test_chunked_input_stream_set_default_skip(GInputStream *stream, gboolean default_skip);
/** Reads the stream has answered so far (calls to its read). */
guint64 test_chunked_input_stream_reads(GInputStream *stream);

/**
 * A GOutputStream that accepts at most `chunk` bytes per write and appends them to its own
 * array when `keep` is true (else it only counts them and sums them into a checksum). After
 * `fail_at` bytes (-1: never) a write fails with G_IO_ERROR of code `fail_code`; or, for the
 * two codes below, breaks GIO's contract for write: returns 0, or one byte more than asked for.
 */
enum { TEST_WRITE_RETURNS_ZERO = -1, TEST_WRITE_OVERCLAIMS = -2 };
GOutputStream *test_chunked_output_stream_new(gsize chunk, gboolean keep, gint64 fail_at, int fail_code);
/** The bytes it kept (owned by the stream). */
GByteArray *test_chunked_output_stream_bytes(GOutputStream *stream);
/** How many bytes it accepted. */
guint64 test_chunked_output_stream_count(GOutputStream *stream);
/** A checksum of every byte accepted (FNV-1a over 64-bit words and the tail, in order). */
guint64 test_chunked_output_stream_checksum(GOutputStream *stream);
/** Writes it has answered so far. */
guint64 test_chunked_output_stream_writes(GOutputStream *stream);

/**
 * Subclasses of GLib's own descriptor streams, GUnixOutputStream and GUnixInputStream, over
 * `fd` (not closed by them), whose write_fn / read_fn XOR every byte with `mask` around their
 * parent's: a filter that writing or reading the descriptor directly would skip.
 * test_xor_stream_bytes says how many bytes passed through the subclass's own function.
 */
GOutputStream *test_xor_unix_output_stream_new(int fd, guint8 mask);
GInputStream *test_xor_unix_input_stream_new(int fd, guint8 mask);
guint64 test_xor_stream_bytes(gpointer stream);

/** GIO's error quark and codes for Swift. */
GQuark test_io_error_quark(void);

#endif

#include "migration/vmstate-registry.h"

/**
 * A client of a loopback socket in its own thread: connects to 127.0.0.1:`port`, then saves
 * `reg` with vmstate_registry_save_to_stream (when `raw` is NULL) or writes `raw`, and closes
 * the connection. test_socket_client_join waits for it and returns whether it succeeded; its
 * error message (if any) goes to `*message` (g_free it).
 */
typedef struct TestSocketClient TestSocketClient;
TestSocketClient *test_socket_client_start(guint16 port, VMStateRegistry *reg, const char *machine, GBytes *raw);
gboolean test_socket_client_join(TestSocketClient *client, char **message);

/**
 * `length` bytes of address space in which every `period` bytes map the same memfd pages
 * (so a guest RAM of many GiB needs only `period` bytes of memory); NULL on failure. The
 * memfd's own mapping is in `*period_view`. Free with test_aliased_ram_free.
 */
void *test_aliased_ram_new(gsize length, gsize period, void **period_view);
void test_aliased_ram_free(void *ram, gsize length, void *period_view, gsize period);
