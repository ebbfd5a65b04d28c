/*
 * Counts heap allocations and the peak of live heap bytes while enabled, by interposing the
 * allocator entry points in this executable (the Swift runtime, GLib and the library all
 * allocate through them). Forwarded to glibc's own implementations.
 */
#include "alloc_track.h"

#include <errno.h>
#include <malloc.h>
#include <stddef.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t alignment, size_t n);
extern void __libc_free(void *p);

static int enabled;
static long live, peak, count;

static inline void added(void *p) {
    if (!p || !__atomic_load_n(&enabled, __ATOMIC_RELAXED)) return;
    long now = __atomic_add_fetch(&live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
    if (now > peak) peak = now;
    __atomic_add_fetch(&count, 1, __ATOMIC_RELAXED);
}

static inline void removed(void *p) {
    if (!p || !__atomic_load_n(&enabled, __ATOMIC_RELAXED)) return;
    __atomic_sub_fetch(&live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    added(p);
    return p;
}

void *calloc(size_t n, size_t m) {
    void *p = __libc_calloc(n, m);
    added(p);
    return p;
}

void *realloc(void *p, size_t n) {
    removed(p);
    void *q = __libc_realloc(p, n);
    if (q) {
        added(q);
    } else if (p && n) {
        /* failed: the old block is still there */
        if (__atomic_load_n(&enabled, __ATOMIC_RELAXED))
            __atomic_add_fetch(&live, (long)malloc_usable_size(p), __ATOMIC_RELAXED);
    }
    return q;
}

void free(void *p) {
    removed(p);
    __libc_free(p);
}

void *memalign(size_t alignment, size_t n) {
    void *p = __libc_memalign(alignment, n);
    added(p);
    return p;
}

void *aligned_alloc(size_t alignment, size_t n) { return memalign(alignment, n); }

int posix_memalign(void **out, size_t alignment, size_t n) {
    void *p = __libc_memalign(alignment, n);
    if (!p) return ENOMEM;
    added(p);
    *out = p;
    return 0;
}

/* Blocks allocated before tracking started are freed while it runs: `live` may dip below its
 * start, which only lowers the reported peak delta towards the truth. */
void alloc_track_begin(void) {
    __atomic_store_n(&live, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&peak, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&enabled, 1, __ATOMIC_RELAXED);
}

void alloc_track_end(long *allocations, long *peak_bytes) {
    __atomic_store_n(&enabled, 0, __ATOMIC_RELAXED);
    *allocations = count;
    *peak_bytes = peak;
}
