#define _GNU_SOURCE
#include "test_streams.h"

#include <string.h>

/* ---- input ------------------------------------------------------------------------------ */

typedef struct {
    GInputStream parent;
    GBytes *bytes;
    gsize pos;
    gsize chunk;
    gint64 cut;
    int fail_code;
    guint64 reads;
    gsize overclaim;
    gboolean default_skip;
} TestChunkedInputStream;

typedef struct {
    GInputStreamClass parent_class;
} TestChunkedInputStreamClass;

G_DEFINE_TYPE(TestChunkedInputStream, test_chunked_input_stream, G_TYPE_INPUT_STREAM)

static gssize chunked_read(GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable,
                           GError **error)
{
    TestChunkedInputStream *self = (TestChunkedInputStream *)stream;
    (void)cancellable;
    self->reads++;
    gsize size = 0;
    const guint8 *data = g_bytes_get_data(self->bytes, &size);
    gsize end = size;
    if (self->cut >= 0 && (gsize)self->cut < end) {
        end = (gsize)self->cut;
    }
    if (self->pos >= end) {
        if (self->cut >= 0 && self->fail_code == TEST_READ_FAILS_WITHOUT_ERROR) {
            return -1;
        }
        if (self->cut >= 0 && self->fail_code != 0) {
            g_set_error_literal(error, G_IO_ERROR, self->fail_code, "connection reset by test");
            return -1;
        }
        return 0;
    }
    gsize n = MIN(MIN(count, self->chunk), end - self->pos);
    if (buffer != NULL) {
        memcpy(buffer, data + self->pos, n);
    }
    self->pos += n;
    return (gssize)(n + self->overclaim);
}

static gssize chunked_skip(GInputStream *stream, gsize count, GCancellable *cancellable, GError **error)
{
    if (((TestChunkedInputStream *)stream)->default_skip) {
        return G_INPUT_STREAM_CLASS(test_chunked_input_stream_parent_class)->skip(stream, count, cancellable, error);
    }
    return chunked_read(stream, NULL, count, cancellable, error);
}

static gboolean chunked_close(GInputStream *stream, GCancellable *cancellable, GError **error)
{
    (void)stream;
    (void)cancellable;
    (void)error;
    return TRUE;
}

static void test_chunked_input_stream_finalize(GObject *object)
{
    TestChunkedInputStream *self = (TestChunkedInputStream *)object;
    g_bytes_unref(self->bytes);
    G_OBJECT_CLASS(test_chunked_input_stream_parent_class)->finalize(object);
}

static void test_chunked_input_stream_class_init(TestChunkedInputStreamClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = test_chunked_input_stream_finalize;
    klass->parent_class.read_fn = chunked_read;
    klass->parent_class.skip = chunked_skip;
    klass->parent_class.close_fn = chunked_close;
}

static void test_chunked_input_stream_init(TestChunkedInputStream *self)
{
    (void)self;
}

GInputStream *test_chunked_input_stream_new(GBytes *bytes, gsize chunk, gint64 cut, int fail_code)
{
    TestChunkedInputStream *self = g_object_new(test_chunked_input_stream_get_type(), NULL);
    self->bytes = g_bytes_ref(bytes);
    self->chunk = chunk == 0 ? 1 : chunk;
    self->cut = cut;
    self->fail_code = fail_code;
    return (GInputStream *)self;
}

void test_chunked_input_stream_set_overclaim(GInputStream *stream, gsize extra)
{
    ((TestChunkedInputStream *)stream)->overclaim = extra;
}

void test_chunked_input_stream_set_default_skip(GInputStream *stream, gboolean default_skip)
{
    ((TestChunkedInputStream *)stream)->default_skip = default_skip;
}

guint64 test_chunked_input_stream_reads(GInputStream *stream)
{
    return ((TestChunkedInputStream *)stream)->reads;
}

/* ---- output ----------------------------------------------------------------------------- */

typedef struct {
    GOutputStream parent;
    GByteArray *kept;
    gboolean keep;
    gsize chunk;
    gint64 fail_at;
    int fail_code;
    guint64 count;
    guint64 checksum;
    guint64 writes;
} TestChunkedOutputStream;

typedef struct {
    GOutputStreamClass parent_class;
} TestChunkedOutputStreamClass;

G_DEFINE_TYPE(TestChunkedOutputStream, test_chunked_output_stream, G_TYPE_OUTPUT_STREAM)

static gssize chunked_write(GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable,
                            GError **error)
{
    TestChunkedOutputStream *self = (TestChunkedOutputStream *)stream;
    (void)cancellable;
    self->writes++;
    gsize n = MIN(count, self->chunk);
    if (self->fail_at >= 0) {
        if (self->count >= (guint64)self->fail_at) {
            if (self->fail_code == TEST_WRITE_RETURNS_ZERO) {
                return 0;
            }
            if (self->fail_code == TEST_WRITE_OVERCLAIMS) {
                return (gssize)count + 1;
            }
            g_set_error_literal(error, G_IO_ERROR, self->fail_code, "no space left on test device");
            return -1;
        }
        n = MIN(n, (gsize)((guint64)self->fail_at - self->count));
    }
    if (self->keep) {
        g_byte_array_append(self->kept, buffer, (guint)n);
    }
    const guint8 *p = buffer;
    guint64 h = self->checksum;
    for (gsize i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ULL;
    }
    self->checksum = h;
    self->count += n;
    return (gssize)n;
}

static gboolean chunked_out_close(GOutputStream *stream, GCancellable *cancellable, GError **error)
{
    (void)stream;
    (void)cancellable;
    (void)error;
    return TRUE;
}

static void test_chunked_output_stream_finalize(GObject *object)
{
    TestChunkedOutputStream *self = (TestChunkedOutputStream *)object;
    g_byte_array_unref(self->kept);
    G_OBJECT_CLASS(test_chunked_output_stream_parent_class)->finalize(object);
}

static void test_chunked_output_stream_class_init(TestChunkedOutputStreamClass *klass)
{
    G_OBJECT_CLASS(klass)->finalize = test_chunked_output_stream_finalize;
    klass->parent_class.write_fn = chunked_write;
    klass->parent_class.close_fn = chunked_out_close;
}

static void test_chunked_output_stream_init(TestChunkedOutputStream *self)
{
    self->kept = g_byte_array_new();
    self->checksum = 0xcbf29ce484222325ULL;
}

GOutputStream *test_chunked_output_stream_new(gsize chunk, gboolean keep, gint64 fail_at, int fail_code)
{
    TestChunkedOutputStream *self = g_object_new(test_chunked_output_stream_get_type(), NULL);
    self->chunk = chunk == 0 ? 1 : chunk;
    self->keep = keep;
    self->fail_at = fail_at;
    self->fail_code = fail_code;
    return (GOutputStream *)self;
}

GByteArray *test_chunked_output_stream_bytes(GOutputStream *stream)
{
    return ((TestChunkedOutputStream *)stream)->kept;
}

guint64 test_chunked_output_stream_count(GOutputStream *stream)
{
    return ((TestChunkedOutputStream *)stream)->count;
}

guint64 test_chunked_output_stream_checksum(GOutputStream *stream)
{
    return ((TestChunkedOutputStream *)stream)->checksum;
}

guint64 test_chunked_output_stream_writes(GOutputStream *stream)
{
    return ((TestChunkedOutputStream *)stream)->writes;
}

GQuark test_io_error_quark(void)
{
    return G_IO_ERROR;
}

/* ---- subclasses of GLib's descriptor streams ---------------------------------------------- */

/* libgio-2.0 exports these; their headers are gio-unix-2.0's, which the package does not use. */
GType g_unix_output_stream_get_type(void);
GType g_unix_input_stream_get_type(void);

typedef struct {
    guint8 mask;
    guint64 bytes;
} XorState;

static GQuark xor_state_quark(void)
{
    return g_quark_from_static_string("test-xor-state");
}

static XorState *xor_state(gpointer stream)
{
    return g_object_get_qdata(G_OBJECT(stream), xor_state_quark());
}

static GOutputStreamClass *xor_output_parent;
static GInputStreamClass *xor_input_parent;

static gssize xor_write(GOutputStream *stream, const void *buffer, gsize count, GCancellable *cancellable,
                        GError **error)
{
    XorState *state = xor_state(stream);
    guint8 *masked = g_malloc(count);
    for (gsize i = 0; i < count; i++) {
        masked[i] = ((const guint8 *)buffer)[i] ^ state->mask;
    }
    gssize n = xor_output_parent->write_fn(stream, masked, count, cancellable, error);
    g_free(masked);
    if (n > 0) {
        state->bytes += (guint64)n;
    }
    return n;
}

static gssize xor_read(GInputStream *stream, void *buffer, gsize count, GCancellable *cancellable, GError **error)
{
    XorState *state = xor_state(stream);
    gssize n = xor_input_parent->read_fn(stream, buffer, count, cancellable, error);
    for (gssize i = 0; i < n; i++) {
        ((guint8 *)buffer)[i] ^= state->mask;
    }
    if (n > 0) {
        state->bytes += (guint64)n;
    }
    return n;
}

static gssize xor_skip(GInputStream *stream, gsize count, GCancellable *cancellable, GError **error)
{
    guint8 scratch[8192];
    return xor_read(stream, scratch, MIN(count, sizeof scratch), cancellable, error);
}

static void xor_output_class_init(gpointer klass, gpointer data)
{
    (void)data;
    xor_output_parent = g_type_class_peek_parent(klass);
    G_OUTPUT_STREAM_CLASS(klass)->write_fn = xor_write;
}

static void xor_input_class_init(gpointer klass, gpointer data)
{
    (void)data;
    xor_input_parent = g_type_class_peek_parent(klass);
    G_INPUT_STREAM_CLASS(klass)->read_fn = xor_read;
    G_INPUT_STREAM_CLASS(klass)->skip = xor_skip;
}

/* A subclass of `parent` named `name` that adds nothing to its instance. */
static GType xor_subclass(GType parent, const char *name, GClassInitFunc class_init)
{
    static GMutex lock;
    g_mutex_lock(&lock);
    GType type = g_type_from_name(name);
    if (type == 0) {
        GTypeQuery query;
        g_type_query(parent, &query);
        type = g_type_register_static_simple(parent, name, query.class_size, class_init, query.instance_size, NULL, 0);
    }
    g_mutex_unlock(&lock);
    return type;
}

static gpointer xor_stream_new(GType type, int fd, guint8 mask)
{
    gpointer stream = g_object_new(type, "fd", fd, "close-fd", FALSE, NULL);
    XorState *state = g_new0(XorState, 1);
    state->mask = mask;
    g_object_set_qdata_full(G_OBJECT(stream), xor_state_quark(), state, g_free);
    return stream;
}

GOutputStream *test_xor_unix_output_stream_new(int fd, guint8 mask)
{
    GType type = xor_subclass(g_unix_output_stream_get_type(), "TestXorUnixOutputStream", xor_output_class_init);
    return xor_stream_new(type, fd, mask);
}

GInputStream *test_xor_unix_input_stream_new(int fd, guint8 mask)
{
    GType type = xor_subclass(g_unix_input_stream_get_type(), "TestXorUnixInputStream", xor_input_class_init);
    return xor_stream_new(type, fd, mask);
}

guint64 test_xor_stream_bytes(gpointer stream)
{
    return xor_state(stream)->bytes;
}

/* ---- a socket client in a thread ------------------------------------------------------- */

#include <sys/mman.h>
#include <unistd.h>

struct TestSocketClient {
    guint16 port;
    VMStateRegistry *reg;
    char *machine;
    GBytes *raw;
    GThread *thread;
    gboolean ok;
    char *message;
};

static gpointer socket_client_main(gpointer data)
{
    TestSocketClient *c = data;
    GError *error = NULL;
    GSocketClient *client = g_socket_client_new();
    GSocketConnection *conn = g_socket_client_connect_to_host(client, "127.0.0.1", c->port, NULL, &error);
    if (conn != NULL) {
        GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
        if (c->raw == NULL) {
            c->ok = vmstate_registry_save_to_stream(c->reg, c->machine, out, &error);
        } else {
            gsize size = 0;
            const void *data = g_bytes_get_data(c->raw, &size);
            c->ok = g_output_stream_write_all(out, data, size, NULL, NULL, &error);
        }
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        g_object_unref(conn);
    }
    if (error != NULL) {
        c->message = g_strdup(error->message);
        g_error_free(error);
    }
    g_object_unref(client);
    return NULL;
}

TestSocketClient *test_socket_client_start(guint16 port, VMStateRegistry *reg, const char *machine, GBytes *raw)
{
    TestSocketClient *c = g_new0(TestSocketClient, 1);
    c->port = port;
    c->reg = reg;
    c->machine = g_strdup(machine);
    c->raw = raw ? g_bytes_ref(raw) : NULL;
    c->thread = g_thread_new("test-socket-client", socket_client_main, c);
    return c;
}

gboolean test_socket_client_join(TestSocketClient *c, char **message)
{
    g_thread_join(c->thread);
    gboolean ok = c->ok;
    if (message) {
        *message = c->message;
    } else {
        g_free(c->message);
    }
    g_free(c->machine);
    if (c->raw) {
        g_bytes_unref(c->raw);
    }
    g_free(c);
    return ok;
}

/* ---- aliased RAM ------------------------------------------------------------------------ */

void *test_aliased_ram_new(gsize length, gsize period, void **period_view)
{
    int fd = memfd_create("test-ram", 0);
    if (fd < 0 || ftruncate(fd, (off_t)period) != 0) {
        return NULL;
    }
    void *view = mmap(NULL, period, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    void *ram = mmap(NULL, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (view == MAP_FAILED || ram == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    for (gsize at = 0; at < length; at += period) {
        gsize n = MIN(period, length - at);
        if (mmap((char *)ram + at, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
            close(fd);
            return NULL;
        }
    }
    close(fd);
    *period_view = view;
    return ram;
}

void test_aliased_ram_free(void *ram, gsize length, void *period_view, gsize period)
{
    munmap(ram, length);
    munmap(period_view, period);
}
