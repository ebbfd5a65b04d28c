/* The benchmark's device descriptions (see cases.c). */
#ifndef BENCH_CASES_H
#define BENCH_CASES_H

#include "migration/vmstate.h"

typedef struct BenchCase {
    const char *name;
    const char *what;
    const VMStateDescription *vmsd;
    /* A device with every field set to a distinct value. */
    void *(*create)(void);
    /* A device to load into (same shape, zeroed). */
    void *(*create_empty)(void);
    /* Before each load (not timed): empty the lists and trees a load appends to. */
    void (*prepare_load)(void *dev);
    void (*destroy)(void *dev);
    /* Primitive field elements one save writes: each scalar (array entries counted one by
     * one), each buffer once, each custom-info element once; struct elements themselves and
     * list/tree markers are not counted. */
    long elements;
    /* sizeof the top-level struct (for vmstate_registry_add_sized). */
    size_t size;
} BenchCase;

extern const BenchCase bench_cases[];
extern const int bench_case_count;

#endif
