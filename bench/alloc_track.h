#ifndef BENCH_ALLOC_TRACK_H
#define BENCH_ALLOC_TRACK_H

/* Starts counting allocations and live heap bytes (from zero). */
void alloc_track_begin(void);
/* Stops; returns the number of allocations (malloc, calloc, realloc, memalign) and the peak of
 * heap bytes allocated and not yet freed since alloc_track_begin. */
void alloc_track_end(long *allocations, long *peak_bytes);

#endif
