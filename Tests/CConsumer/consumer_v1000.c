/*
 * A C program with no Swift in it, written against QEMU 10.0's API (VMSTATE_QEMU_API 1000):
 * saves a device with vmstate_save_state_with_err, loads it back with vmstate_load_state, and
 * checks QEMU 10.0's Error for a VMSTATE_FD field. Built and run by scripts/checks/c-consumer.sh.
 */
#define VMSTATE_QEMU_API 1000
#include "migration/vmstate.h"
#include "qapi/error.h"
#include "qobject/json-writer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    uint32_t status;
    uint16_t regs[2];
    int32_t fd;
    bool send_fd;
} Toy10;

static bool toy10_send_fd(void *opaque, int version_id) {
    (void)version_id;
    return ((Toy10 *)opaque)->send_fd;
}

static const VMStateDescription toy10 = {
    .name = "toy10",
    .version_id = 1,
    .minimum_version_id = 1,
    .early_setup = true,
    .fields = (const VMStateField[]){
        VMSTATE_UINT32(status, Toy10),
        VMSTATE_UINT16_ARRAY(regs, Toy10, 2),
        VMSTATE_FD_TEST(fd, Toy10, toy10_send_fd),
        VMSTATE_END_OF_LIST(),
    },
};

int main(void) {
    Toy10 dev = {.status = 0x01020304, .regs = {5, 6}, .fd = 3};
    GByteArray *bytes = g_byte_array_new();
    QEMUFile *f = vmstate_file_new_output(bytes);
    JSONWriter *w = json_writer_new(false);
    Error *err = NULL;
    json_writer_start_object(w, NULL);
    int ret = vmstate_save_state_with_err(f, &toy10, &dev, w, &err);
    json_writer_end_object(w);
    if (migration_rate_exceeded(f) || qemu_file_is_seekable(f)) {
        fprintf(stderr, "a new output file is rate limited or seekable\n");
        return 1;
    }
    if (ret != 0 || err != NULL || qemu_fclose(f) != 0 || bytes->len != 8) {
        fprintf(stderr, "save failed: %d\n", ret);
        return 1;
    }
    const char *want = "{\"vmsd_name\": \"toy10\", \"version\": 1, \"fields\": [{\"name\": \"status\", \"type\": "
                       "\"uint32\", \"size\": 4}, {\"name\": \"regs\", \"array_len\": 2, \"type\": \"uint16\", "
                       "\"size\": 2}]}";
    if (strcmp(json_writer_get(w), want) != 0) {
        fprintf(stderr, "vmdesc: %s\n", json_writer_get(w));
        return 1;
    }
    json_writer_free(w);

    g_byte_array_append(bytes, (const guint8 *)"\x00", 1); /* what follows the state in a stream */
    Toy10 copy = {0};
    GBytes *in = g_byte_array_free_to_bytes(bytes);
    f = vmstate_file_new_input(in);
    ret = vmstate_load_state(f, &toy10, &copy, 1);
    if (ret != 0 || qemu_fclose(f) != 0 || copy.status != dev.status || copy.regs[1] != 6) {
        fprintf(stderr, "load failed: %d\n", ret);
        return 1;
    }
    g_bytes_unref(in);

    dev.send_fd = true;
    bytes = g_byte_array_new();
    f = vmstate_file_new_output(bytes);
    ret = vmstate_save_state_v(f, &toy10, &dev, NULL, 1, &err);
    int file_error = qemu_file_get_error(f);
    qemu_fclose(f);
    g_byte_array_unref(bytes);
    if (ret != -1 || file_error != -EIO || !err ||
        strcmp(error_get_pretty(err), "Save of field toy10/fd failed: put failed") != 0 ||
        !vmstate_section_needed(&toy10, &dev)) {
        fprintf(stderr, "fd save: %d %d %s\n", ret, file_error, err ? error_get_pretty(err) : "(no error)");
        return 1;
    }
    error_free(err);
    printf("QEMU 10.0 API: saved, loaded, fd refused (%s)\n", "Save of field toy10/fd failed: put failed");
    return 0;
}
