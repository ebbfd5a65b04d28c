/*
 * swift-vmstate: intrusive lists with QEMU 7.2's memory layout, so that VMSTATE_QTAILQ_V and
 * VMSTATE_QLIST_V can walk and build them.
 *
 *   QTAILQ head  = union { first element pointer; QTailQLink { next, prev-link } }  (16 bytes)
 *   QTAILQ entry = union { next element pointer;  QTailQLink { next, prev-link } }  (16 bytes)
 *   QLIST head   = { first element pointer }                                        (8 bytes)
 *   QLIST entry  = { next element pointer, address of the previous next pointer }  (16 bytes)
 *
 * Only the operations a device author commonly needs are provided. Elements a load creates are
 * allocated with g_malloc0: free them with g_free.
 */
#ifndef SWIFT_VMSTATE_QUEUE_H
#define SWIFT_VMSTATE_QUEUE_H

#include <stddef.h>

typedef struct QTailQLink {
    void *tql_next;
    struct QTailQLink *tql_prev;
} QTailQLink;

#define QTAILQ_HEAD(name, type)                                                                  \
    union name {                                                                                 \
        struct type *tqh_first;                                                                  \
        QTailQLink tqh_circ;                                                                     \
    }
#define QTAILQ_HEAD_INITIALIZER(head) { .tqh_circ = { NULL, &(head).tqh_circ } }
#define QTAILQ_ENTRY(type)                                                                       \
    union {                                                                                      \
        struct type *tqe_next;                                                                   \
        QTailQLink tqe_circ;                                                                     \
    }

#define QTAILQ_INIT(head)                                                                        \
    do {                                                                                         \
        (head)->tqh_first = NULL;                                                                \
        (head)->tqh_circ.tql_prev = &(head)->tqh_circ;                                           \
    } while (0)
#define QTAILQ_EMPTY(head) ((head)->tqh_first == NULL)
#define QTAILQ_FIRST(head) ((head)->tqh_first)
#define QTAILQ_NEXT(elm, field) ((elm)->field.tqe_next)
#define QTAILQ_INSERT_TAIL(head, elm, field)                                                     \
    do {                                                                                         \
        (elm)->field.tqe_next = NULL;                                                            \
        (elm)->field.tqe_circ.tql_prev = (head)->tqh_circ.tql_prev;                              \
        (head)->tqh_circ.tql_prev->tql_next = (elm);                                             \
        (head)->tqh_circ.tql_prev = &(elm)->field.tqe_circ;                                      \
    } while (0)
#define QTAILQ_REMOVE(head, elm, field)                                                          \
    do {                                                                                         \
        if ((elm)->field.tqe_next != NULL)                                                       \
            (elm)->field.tqe_next->field.tqe_circ.tql_prev = (elm)->field.tqe_circ.tql_prev;     \
        else                                                                                     \
            (head)->tqh_circ.tql_prev = (elm)->field.tqe_circ.tql_prev;                          \
        (elm)->field.tqe_circ.tql_prev->tql_next = (elm)->field.tqe_next;                        \
        (elm)->field.tqe_circ.tql_prev = NULL;                                                   \
    } while (0)
#define QTAILQ_FOREACH(var, head, field)                                                         \
    for ((var) = ((head)->tqh_first); (var); (var) = ((var)->field.tqe_next))
#define QTAILQ_FOREACH_SAFE(var, head, field, next_var)                                          \
    for ((var) = ((head)->tqh_first); (var) && ((next_var) = ((var)->field.tqe_next), 1);        \
         (var) = (next_var))

#define QLIST_HEAD(name, type)                                                                   \
    struct name {                                                                                \
        struct type *lh_first;                                                                   \
    }
#define QLIST_HEAD_INITIALIZER(head) { NULL }
#define QLIST_ENTRY(type)                                                                        \
    struct {                                                                                     \
        struct type *le_next;                                                                    \
        struct type **le_prev;                                                                   \
    }

#define QLIST_INIT(head) ((head)->lh_first = NULL)
#define QLIST_EMPTY(head) ((head)->lh_first == NULL)
#define QLIST_FIRST(head) ((head)->lh_first)
#define QLIST_NEXT(elm, field) ((elm)->field.le_next)
#define QLIST_INSERT_HEAD(head, elm, field)                                                      \
    do {                                                                                         \
        if (((elm)->field.le_next = (head)->lh_first) != NULL)                                   \
            (head)->lh_first->field.le_prev = &(elm)->field.le_next;                             \
        (head)->lh_first = (elm);                                                                \
        (elm)->field.le_prev = &(head)->lh_first;                                                \
    } while (0)
#define QLIST_REMOVE(elm, field)                                                                 \
    do {                                                                                         \
        if ((elm)->field.le_next != NULL)                                                        \
            (elm)->field.le_next->field.le_prev = (elm)->field.le_prev;                          \
        *(elm)->field.le_prev = (elm)->field.le_next;                                            \
        (elm)->field.le_next = NULL;                                                             \
        (elm)->field.le_prev = NULL;                                                             \
    } while (0)
#define QLIST_FOREACH(var, head, field)                                                          \
    for ((var) = ((head)->lh_first); (var); (var) = ((var)->field.le_next))
#define QLIST_FOREACH_SAFE(var, head, field, next_var)                                           \
    for ((var) = ((head)->lh_first); (var) && ((next_var) = ((var)->field.le_next), 1);          \
         (var) = (next_var))

#endif
