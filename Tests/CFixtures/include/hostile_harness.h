/*
 * The fuzz targets' per-input logic (see Tests/CFixtures/hostile/hostile_harness.c), shared by
 * the libFuzzer drivers in fuzz/ and the Swift tests that replay regression inputs.
 */
#ifndef HOSTILE_HARNESS_H
#define HOSTILE_HARNESS_H
#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One input of the "load" target (vmstate_load_checked over the hx_ fixtures). NULL when every
 * property held, else what went wrong (static storage, valid until the next call). */
const char *hx_run_load_input(const uint8_t *data, size_t size);
/* One input of the "stream" target (vmstate_registry_load of a whole stream). */
const char *hx_run_stream_input(const uint8_t *data, size_t size);

/* Seed inputs: a sample device state with the load target's two header bytes, and a whole
 * sample stream with the stream target's mode byte. Free with g_byte_array_unref. */
GByteArray *hx_seed_device(const char *name, unsigned mode);
GByteArray *hx_seed_stream(unsigned mode);

#ifdef __cplusplus
}
#endif
#endif
