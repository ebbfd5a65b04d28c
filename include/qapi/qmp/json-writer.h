/*
 * swift-vmstate: QEMU 7.2's JSONWriter, which writes the vmdesc JSON during a save.
 *
 * Custom VMStateInfo.put functions receive the save's JSONWriter (or NULL) and may describe
 * themselves with these calls. Output matches QEMU's writer byte for byte: ", " between
 * members and ": " after names when not pretty; newlines and 4-space indentation when pretty.
 * Inside an object every call takes the member name; inside an array `name` is ignored.
 */
#ifndef SWIFT_VMSTATE_JSON_WRITER_H
#define SWIFT_VMSTATE_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An opaque JSON text builder. */
typedef struct JSONWriter JSONWriter;

/** Creates an empty writer; free it with json_writer_free. */
JSONWriter *json_writer_new(bool pretty);
/** The text so far, NUL-terminated, owned by the writer and valid until the next call on it. */
const char *json_writer_get(JSONWriter *writer);
/** Frees the writer and its text; NULL is allowed. */
void json_writer_free(JSONWriter *writer);

/* Open and close containers. Closing a container that is not the innermost open one (none is
 * open, or it is of the other kind) writes nothing and logs a GLib critical of the log domain
 * "swift-vmstate" (QEMU asserts). */
void json_writer_start_object(JSONWriter *writer, const char *name);
void json_writer_end_object(JSONWriter *writer);
void json_writer_start_array(JSONWriter *writer, const char *name);
void json_writer_end_array(JSONWriter *writer);
/* One value each; json_writer_double prints with "%.17g". */
void json_writer_bool(JSONWriter *writer, const char *name, bool val);
void json_writer_null(JSONWriter *writer, const char *name);
void json_writer_int64(JSONWriter *writer, const char *name, int64_t val);
void json_writer_uint64(JSONWriter *writer, const char *name, uint64_t val);
void json_writer_double(JSONWriter *writer, const char *name, double val);
/** Writes `str` as a JSON string, escaped as QEMU's `quoted_str` does (names too): `\"`, `\\`,
 * `\b`, `\f`, `\n`, `\r`, `\t`, printable ASCII as itself, every other character as `\u` and
 * four uppercase hex digits (a surrogate pair above U+FFFF). Characters are decoded from the
 * bytes as QEMU's `mod_utf8_codepoint` does: `C0 80` is U+0000; an invalid sequence (it ends
 * before the first byte that does not continue it), an overlong form, a surrogate, a
 * noncharacter (U+FDD0 to U+FDEF, U+FFFE, U+FFFF...) or a value above U+10FFFF is one U+FFFD. */
void json_writer_str(JSONWriter *writer, const char *name, const char *str);

#ifdef __cplusplus
}
#endif

#endif
