/*
 * A C program with no Swift in it: links libswiftvmstate through its exported symbols, saves a
 * device into a GByteArray with QEMU's API, loads it into a fresh struct and compares.
 * Built and run by scripts/checks/c-consumer.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "migration/vmstate.h"

typedef struct {
    uint8_t mode;
    uint16_t divisor;
    uint32_t status;
    int64_t ticks;
    bool enabled;
    uint8_t fifo[16];
    uint32_t regs[4];
    QEMUTimer timer;
    uint32_t extra;
} ToyUART;

static bool toy_extra_needed(void *opaque) { return ((ToyUART *)opaque)->extra != 0; }

static const VMStateDescription toy_extra = {
    .name = "toy-uart/extra",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = toy_extra_needed,
    .fields = (const VMStateField[]){VMSTATE_UINT32(extra, ToyUART), VMSTATE_END_OF_LIST()},
};

static const VMStateDescription toy_uart = {
    .name = "toy-uart",
    .version_id = 2,
    .minimum_version_id = 1,
    .fields =
        (const VMStateField[]){
            VMSTATE_UINT8(mode, ToyUART),
            VMSTATE_UINT16(divisor, ToyUART),
            VMSTATE_UINT32(status, ToyUART),
            VMSTATE_INT64(ticks, ToyUART),
            VMSTATE_BOOL(enabled, ToyUART),
            VMSTATE_UINT8_ARRAY(fifo, ToyUART, 16),
            VMSTATE_UINT32_ARRAY_V(regs, ToyUART, 4, 2),
            VMSTATE_TIMER(timer, ToyUART),
            VMSTATE_END_OF_LIST(),
        },
    .subsections = (const VMStateDescription *[]){&toy_extra, NULL},
};

static int failures;
#define CHECK(cond)                                                                              \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                      \
            failures++;                                                                          \
        }                                                                                        \
    } while (0)

int main(void) {
    ToyUART a = {.mode = 3, .divisor = 0x1234, .status = 0xdeadbeef, .ticks = -2,
                 .enabled = true, .regs = {1, 2, 3, 4}, .extra = 77};
    for (int i = 0; i < 16; i++) a.fifo[i] = (uint8_t)(i * 7);
    vmstate_timer_init(&a.timer, NULL, NULL);
    a.timer.expire_time = 123456789;

    /* QEMU's API: a QEMUFile over a GByteArray. */
    GByteArray *out = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(out);
    JSONWriter *vmdesc = json_writer_new(false);
    json_writer_start_object(vmdesc, NULL);
    CHECK(vmstate_save_state(f, &toy_uart, &a, vmdesc) == 0);
    CHECK(qemu_file_rate_limit(f) == 0);
    json_writer_end_object(vmdesc);
    CHECK(qemu_fclose(f) == 0);
    /* 1+2+4+8+1+16+16+8 bytes of fields, then the subsection: 0x05, len, name, be32 version, be32 */
    CHECK(out->len == 56 + 1 + 1 + strlen("toy-uart/extra") + 4 + 4);
    CHECK(out->data[0] == 3 && out->data[1] == 0x12 && out->data[2] == 0x34);
    CHECK(out->data[3] == 0xde && out->data[6] == 0xef);
    CHECK(out->data[56] == 0x05);
    CHECK(strstr(json_writer_get(vmdesc), "\"vmsd_name\": \"toy-uart\"") != NULL);
    json_writer_free(vmdesc);

    /* Load into a fresh struct. */
    GBytes *in = g_bytes_new(out->data, out->len);
    ToyUART b;
    memset(&b, 0, sizeof(b));
    f = vmstate_file_new_input(in);
    CHECK(vmstate_load_state(f, &toy_uart, &b, 2) == 0);
    /* As QEMU's, the load looked one byte past the state for a subsection and found the end of
     * the input: -EIO on the file although the load succeeded. All of the input was read. */
    CHECK(vmstate_file_remaining(f) == 0);
    CHECK(qemu_file_rate_limit(f) == 1); /* QEMU 7.2: a file with an error is rate limited */
    CHECK(qemu_fclose(f) == -EIO);
    CHECK(b.mode == 3 && b.divisor == 0x1234 && b.status == 0xdeadbeef && b.ticks == -2);
    CHECK(b.enabled && memcmp(b.fifo, a.fifo, 16) == 0 && memcmp(b.regs, a.regs, 16) == 0);
    CHECK(b.timer.expire_time == 123456789 && b.extra == 77);

    /* One-call forms and a GError naming the field and the offset on truncated input. */
    GError *err = NULL;
    GByteArray *again = vmstate_save_to_bytes(&toy_uart, &a, NULL, &err);
    CHECK(again && again->len == out->len && memcmp(again->data, out->data, out->len) == 0);
    GBytes *cut = g_bytes_new(out->data, 20);
    ToyUART c;
    memset(&c, 0, sizeof(c));
    CHECK(!vmstate_load_from_bytes(&toy_uart, &c, 2, cut, &err));
    CHECK(err && err->domain == VMSTATE_ERROR && err->code == VMSTATE_ERROR_SHORT_INPUT);
    CHECK(err && strstr(err->message, "toy-uart/fifo[4]") != NULL);
    CHECK(err && strstr(err->message, "byte 20") != NULL);
    if (err) printf("truncated load reports (domain %u code %d): %s\n", err->domain, err->code, err->message);
    g_clear_error(&err);

    /* The version rule: a stream of version 3 is too new. */
    f = vmstate_file_new_input(in);
    CHECK(vmstate_load_state(f, &toy_uart, &b, 3) == -EINVAL);
    qemu_fclose(f);

    /* migration/vmstate.h alone declares the -dump-vmstate functions (migration/vmstate-schema.h). */
    const VMStateDescription *const tables[] = { &toy_uart, NULL };
    char *schema = vmstate_dump_schema("toy-machine", tables, &err);
    static const char schema_start[] =
        "{\n  \"vmschkmachine\": {\n    \"Name\": \"toy-machine\"\n  },\n"
        "  \"toy-uart\": {\n    \"Name\": \"toy-uart\",\n    \"version_id\": 2,\n";
    CHECK(schema && strncmp(schema, schema_start, strlen(schema_start)) == 0);
    g_free(schema);
    const char *const class_names[] = { "toy-uart-class", NULL };
    schema = vmstate_dump_schema_named(NULL, class_names, tables, &err);
    static const char named_start[] =
        "{\n  \"vmschkmachine\": {\n    \"Name\": \"none\"\n  },\n"
        "  \"toy-uart-class\": {\n    \"Name\": \"toy-uart-class\",\n";
    CHECK(schema && strncmp(schema, named_start, strlen(named_start)) == 0);
    g_free(schema);
    CHECK(vmstate_dump_schema(NULL, NULL, &err) == NULL);
    CHECK(err && err->domain == VMSTATE_ERROR && err->code == VMSTATE_ERROR_INVALID_TABLE);
    CHECK(err && strcmp(err->message, "vmstate_dump_schema: the list of descriptions is NULL (at byte 0)") == 0);
    g_clear_error(&err);

    g_bytes_unref(cut);
    g_byte_array_unref(again);
    g_bytes_unref(in);
    g_byte_array_unref(out);
    printf("c-consumer: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
