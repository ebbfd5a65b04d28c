/*
 * swift-vmstate: intrusive lists and queues with QEMU's memory layout and macro names (every
 * macro of QEMU 7.2's and 10.0's include/qemu/queue.h; the two versions define the same set),
 * so that device state structs holding them compile unchanged and VMSTATE_QTAILQ_V and
 * VMSTATE_QLIST_V can walk and build them.
 *
 *   QLIST    head  = { first element pointer }                                        (8 bytes)
 *   QLIST    entry = { next element pointer, address of the previous next pointer }  (16 bytes)
 *   QSLIST   head  = { first element pointer }                                        (8 bytes)
 *   QSLIST   entry = { next element pointer }                                         (8 bytes)
 *   QSIMPLEQ head  = { first element pointer, address of the last next pointer }     (16 bytes)
 *   QSIMPLEQ entry = { next element pointer }                                         (8 bytes)
 *   QTAILQ   head  = union { first element pointer; QTailQLink { next, prev-link } }  (16 bytes)
 *   QTAILQ   entry = union { next element pointer;  QTailQLink { next, prev-link } }  (16 bytes)
 *
 * (sizes on a 64-bit host; every field is a pointer). A QTAILQ head's prev-link points at the
 * last element's QTailQLink (or at the head's own when the queue is empty); an element's
 * prev-link points at the previous element's QTailQLink (or at the head's for the first one).
 *
 * Families and what they offer (QEMU's argument orders):
 *   QLIST    doubly linked, O(1) removal without the head; no tail access.
 *   QSLIST   singly linked; removal of an arbitrary element walks from the head.
 *   QSIMPLEQ singly linked with a tail pointer: O(1) INSERT_TAIL, CONCAT, PREPEND, SPLIT_AFTER.
 *   QTAILQ   doubly linked with a tail: LAST, PREV, FOREACH_REVERSE, REMOVE_SEVERAL.
 *   *_RAW_*  the QTAILQ/QLIST links addressed by byte offset (for code that knows only the
 *            offset of the entry field, as a VMState engine does).
 * The *_ATOMIC macros (QSLIST_INSERT_HEAD_ATOMIC, QSLIST_MOVE_ATOMIC, QSIMPLEQ_EMPTY_ATOMIC)
 * use the compiler's __atomic builtins (sequentially consistent compare-and-swap and exchange,
 * relaxed load, like QEMU's qatomic_* helpers); they need no runtime. The RCU list macros
 * (QLIST_*_RCU, QSIMPLEQ_*_RCU, QTAILQ_*_RCU, QSLIST_*_RCU) are not part of QEMU's queue.h
 * (they live in qemu/rcu_queue.h, next to QEMU's RCU runtime) and are not provided.
 *
 * Removal clears the removed element's links, as QEMU does (QLIST_IS_INSERTED and
 * QTAILQ_IN_USE are then false), except QTAILQ_REMOVE_SEVERAL, which leaves the removed
 * elements linked among themselves. One deliberate difference: QSIMPLEQ_PREPEND onto an empty
 * queue also moves the tail pointer (QEMU's leaves it at the head, so a later INSERT_TAIL
 * would drop the prepended elements).
 *
 * VMSTATE_QTAILQ_V and VMSTATE_QLIST_V load elements by allocating them with g_malloc0 and
 * linking them in (QTAILQ: appended in stream order; QLIST: in stream order, as QEMU 7.2
 * does): the device owns them afterwards and frees them with g_free. QSLIST and QSIMPLEQ have
 * no VMSTATE_* macro in QEMU; the engine never touches them.
 */
#ifndef SWIFT_VMSTATE_QUEUE_H
#define SWIFT_VMSTATE_QUEUE_H

#include <stddef.h>

/* ---------------------------------------------------------------------------------------- */
/* QLIST: doubly linked list.                                                               */

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
/* True while elm is linked into a list (its back pointer is set). */
#define QLIST_IS_INSERTED(elm, field) ((elm)->field.le_prev != NULL)

/* Exchange the contents of two lists of the same element type. */
#define QLIST_SWAP(dstlist, srclist, field)                                                      \
    do {                                                                                         \
        __typeof__((dstlist)->lh_first) qlist_swap_tmp_ = (dstlist)->lh_first;                   \
        (dstlist)->lh_first = (srclist)->lh_first;                                               \
        (srclist)->lh_first = qlist_swap_tmp_;                                                   \
        if ((dstlist)->lh_first != NULL)                                                         \
            (dstlist)->lh_first->field.le_prev = &(dstlist)->lh_first;                           \
        if ((srclist)->lh_first != NULL)                                                         \
            (srclist)->lh_first->field.le_prev = &(srclist)->lh_first;                           \
    } while (0)
#define QLIST_INSERT_HEAD(head, elm, field)                                                      \
    do {                                                                                         \
        if (((elm)->field.le_next = (head)->lh_first) != NULL)                                   \
            (head)->lh_first->field.le_prev = &(elm)->field.le_next;                             \
        (head)->lh_first = (elm);                                                                \
        (elm)->field.le_prev = &(head)->lh_first;                                                \
    } while (0)
#define QLIST_INSERT_AFTER(listelm, elm, field)                                                  \
    do {                                                                                         \
        (elm)->field.le_prev = &(listelm)->field.le_next;                                        \
        (elm)->field.le_next = (listelm)->field.le_next;                                         \
        if ((elm)->field.le_next != NULL)                                                        \
            (elm)->field.le_next->field.le_prev = &(elm)->field.le_next;                         \
        (listelm)->field.le_next = (elm);                                                        \
    } while (0)
#define QLIST_INSERT_BEFORE(listelm, elm, field)                                                 \
    do {                                                                                         \
        (elm)->field.le_next = (listelm);                                                        \
        (elm)->field.le_prev = (listelm)->field.le_prev;                                         \
        *(listelm)->field.le_prev = (elm);                                                       \
        (listelm)->field.le_prev = &(elm)->field.le_next;                                        \
    } while (0)
#define QLIST_REMOVE(elm, field)                                                                 \
    do {                                                                                         \
        if ((elm)->field.le_next != NULL)                                                        \
            (elm)->field.le_next->field.le_prev = (elm)->field.le_prev;                          \
        *(elm)->field.le_prev = (elm)->field.le_next;                                            \
        (elm)->field.le_next = NULL;                                                             \
        (elm)->field.le_prev = NULL;                                                             \
    } while (0)
/* QLIST_REMOVE that does nothing when elm is not in a list. */
#define QLIST_SAFE_REMOVE(elm, field)                                                            \
    do {                                                                                         \
        if (QLIST_IS_INSERTED(elm, field))                                                       \
            QLIST_REMOVE(elm, field);                                                            \
    } while (0)
#define QLIST_FOREACH(var, head, field)                                                          \
    for ((var) = ((head)->lh_first); (var); (var) = ((var)->field.le_next))
#define QLIST_FOREACH_SAFE(var, head, field, next_var)                                           \
    for ((var) = ((head)->lh_first); (var) && ((next_var) = ((var)->field.le_next), 1);          \
         (var) = (next_var))

/* ---------------------------------------------------------------------------------------- */
/* QSLIST: singly linked list.                                                              */

#define QSLIST_HEAD(name, type)                                                                  \
    struct name {                                                                                \
        struct type *slh_first;                                                                  \
    }
#define QSLIST_HEAD_INITIALIZER(head) { NULL }
#define QSLIST_ENTRY(type)                                                                       \
    struct {                                                                                     \
        struct type *sle_next;                                                                   \
    }

#define QSLIST_INIT(head)                                                                        \
    do {                                                                                         \
        (head)->slh_first = NULL;                                                                \
    } while (0)
#define QSLIST_EMPTY(head) ((head)->slh_first == NULL)
#define QSLIST_FIRST(head) ((head)->slh_first)
#define QSLIST_NEXT(elm, field) ((elm)->field.sle_next)

#define QSLIST_INSERT_HEAD(head, elm, field)                                                     \
    do {                                                                                         \
        (elm)->field.sle_next = (head)->slh_first;                                               \
        (head)->slh_first = (elm);                                                               \
    } while (0)
#define QSLIST_INSERT_AFTER(slistelm, elm, field)                                                \
    do {                                                                                         \
        (elm)->field.sle_next = (slistelm)->field.sle_next;                                      \
        (slistelm)->field.sle_next = (elm);                                                      \
    } while (0)
/* INSERT_HEAD by compare-and-swap: safe against concurrent INSERT_HEAD_ATOMIC/MOVE_ATOMIC. */
#define QSLIST_INSERT_HEAD_ATOMIC(head, elm, field)                                              \
    do {                                                                                         \
        __typeof__((head)->slh_first) qslist_old_ =                                              \
            __atomic_load_n(&(head)->slh_first, __ATOMIC_RELAXED);                               \
        do {                                                                                     \
            (elm)->field.sle_next = qslist_old_;                                                 \
        } while (!__atomic_compare_exchange_n(&(head)->slh_first, &qslist_old_, (elm), 0,        \
                                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));              \
    } while (0)
/* Take the whole of src (left empty, atomically) into dest (whose old contents are dropped). */
#define QSLIST_MOVE_ATOMIC(dest, src)                                                            \
    do {                                                                                         \
        (dest)->slh_first = __atomic_exchange_n(&(src)->slh_first,                               \
                                                (__typeof__((src)->slh_first))NULL,              \
                                                __ATOMIC_SEQ_CST);                               \
    } while (0)
/* The list must not be empty. */
#define QSLIST_REMOVE_HEAD(head, field)                                                          \
    do {                                                                                         \
        __typeof__((head)->slh_first) qslist_gone_ = (head)->slh_first;                          \
        (head)->slh_first = qslist_gone_->field.sle_next;                                        \
        qslist_gone_->field.sle_next = NULL;                                                     \
    } while (0)
/* Remove the element after slistelm, which must exist. */
#define QSLIST_REMOVE_AFTER(slistelm, field)                                                     \
    do {                                                                                         \
        __typeof__((slistelm)->field.sle_next) qslist_gone_ = (slistelm)->field.sle_next;        \
        (slistelm)->field.sle_next = qslist_gone_->field.sle_next;                               \
        qslist_gone_->field.sle_next = NULL;                                                     \
    } while (0)
/* Remove elm, which must be in the list: O(position of elm). */
#define QSLIST_REMOVE(head, elm, type, field)                                                    \
    do {                                                                                         \
        if ((head)->slh_first == (elm)) {                                                        \
            QSLIST_REMOVE_HEAD((head), field);                                                   \
        } else {                                                                                 \
            struct type *qslist_at_ = (head)->slh_first;                                         \
            while (qslist_at_->field.sle_next != (elm))                                          \
                qslist_at_ = qslist_at_->field.sle_next;                                         \
            QSLIST_REMOVE_AFTER(qslist_at_, field);                                              \
        }                                                                                        \
    } while (0)
#define QSLIST_FOREACH(var, head, field)                                                         \
    for ((var) = (head)->slh_first; (var); (var) = (var)->field.sle_next)
#define QSLIST_FOREACH_SAFE(var, head, field, tvar)                                              \
    for ((var) = (head)->slh_first; (var) && ((tvar) = (var)->field.sle_next, 1); (var) = (tvar))

/* ---------------------------------------------------------------------------------------- */
/* QSIMPLEQ: singly linked queue with a pointer to the last next pointer.                   */

#define QSIMPLEQ_HEAD(name, type)                                                                \
    struct name {                                                                                \
        struct type *sqh_first;                                                                  \
        struct type **sqh_last;                                                                  \
    }
#define QSIMPLEQ_HEAD_INITIALIZER(head) { NULL, &(head).sqh_first }
#define QSIMPLEQ_ENTRY(type)                                                                     \
    struct {                                                                                     \
        struct type *sqe_next;                                                                   \
    }

#define QSIMPLEQ_INIT(head)                                                                      \
    do {                                                                                         \
        (head)->sqh_first = NULL;                                                                \
        (head)->sqh_last = &(head)->sqh_first;                                                   \
    } while (0)
#define QSIMPLEQ_EMPTY(head) ((head)->sqh_first == NULL)
#define QSIMPLEQ_EMPTY_ATOMIC(head) (__atomic_load_n(&(head)->sqh_first, __ATOMIC_RELAXED) == NULL)
#define QSIMPLEQ_FIRST(head) ((head)->sqh_first)
#define QSIMPLEQ_NEXT(elm, field) ((elm)->field.sqe_next)
/* The last element (NULL when empty), found from the tail pointer: O(1). */
#define QSIMPLEQ_LAST(head, type, field)                                                         \
    (QSIMPLEQ_EMPTY(head) ? NULL                                                                 \
                          : ((struct type *)(void *)((char *)(head)->sqh_last -                  \
                                                     offsetof(struct type, field))))

#define QSIMPLEQ_INSERT_HEAD(head, elm, field)                                                   \
    do {                                                                                         \
        (elm)->field.sqe_next = (head)->sqh_first;                                               \
        if ((elm)->field.sqe_next == NULL)                                                       \
            (head)->sqh_last = &(elm)->field.sqe_next;                                           \
        (head)->sqh_first = (elm);                                                               \
    } while (0)
#define QSIMPLEQ_INSERT_TAIL(head, elm, field)                                                   \
    do {                                                                                         \
        (elm)->field.sqe_next = NULL;                                                            \
        *(head)->sqh_last = (elm);                                                               \
        (head)->sqh_last = &(elm)->field.sqe_next;                                               \
    } while (0)
#define QSIMPLEQ_INSERT_AFTER(head, listelm, elm, field)                                         \
    do {                                                                                         \
        (elm)->field.sqe_next = (listelm)->field.sqe_next;                                       \
        if ((elm)->field.sqe_next == NULL)                                                       \
            (head)->sqh_last = &(elm)->field.sqe_next;                                           \
        (listelm)->field.sqe_next = (elm);                                                       \
    } while (0)
/* The queue must not be empty. */
#define QSIMPLEQ_REMOVE_HEAD(head, field)                                                        \
    do {                                                                                         \
        __typeof__((head)->sqh_first) qsimpleq_gone_ = (head)->sqh_first;                        \
        (head)->sqh_first = qsimpleq_gone_->field.sqe_next;                                      \
        if ((head)->sqh_first == NULL)                                                           \
            (head)->sqh_last = &(head)->sqh_first;                                               \
        qsimpleq_gone_->field.sqe_next = NULL;                                                   \
    } while (0)
/* Remove elm, which must be in the queue: O(position of elm). */
#define QSIMPLEQ_REMOVE(head, elm, type, field)                                                  \
    do {                                                                                         \
        if ((head)->sqh_first == (elm)) {                                                        \
            QSIMPLEQ_REMOVE_HEAD((head), field);                                                 \
        } else {                                                                                 \
            struct type *qsimpleq_at_ = (head)->sqh_first;                                       \
            while (qsimpleq_at_->field.sqe_next != (elm))                                        \
                qsimpleq_at_ = qsimpleq_at_->field.sqe_next;                                     \
            qsimpleq_at_->field.sqe_next = (elm)->field.sqe_next;                                \
            if (qsimpleq_at_->field.sqe_next == NULL)                                            \
                (head)->sqh_last = &qsimpleq_at_->field.sqe_next;                                \
            (elm)->field.sqe_next = NULL;                                                        \
        }                                                                                        \
    } while (0)
/*
 * Move the elements from the first one up to and including elm (which must be in head) into
 * removed (re-initialized first); head keeps the ones after elm. An empty head leaves both
 * empty.
 */
#define QSIMPLEQ_SPLIT_AFTER(head, elm, field, removed)                                          \
    do {                                                                                         \
        QSIMPLEQ_INIT(removed);                                                                  \
        if (!QSIMPLEQ_EMPTY(head)) {                                                             \
            (removed)->sqh_first = (head)->sqh_first;                                            \
            (removed)->sqh_last = &(elm)->field.sqe_next;                                        \
            (head)->sqh_first = (elm)->field.sqe_next;                                           \
            if ((head)->sqh_first == NULL)                                                       \
                (head)->sqh_last = &(head)->sqh_first;                                           \
            (elm)->field.sqe_next = NULL;                                                        \
        }                                                                                        \
    } while (0)
/* Append all of head2 to head1; head2 is left empty. */
#define QSIMPLEQ_CONCAT(head1, head2)                                                            \
    do {                                                                                         \
        if (!QSIMPLEQ_EMPTY(head2)) {                                                            \
            *(head1)->sqh_last = (head2)->sqh_first;                                             \
            (head1)->sqh_last = (head2)->sqh_last;                                               \
            QSIMPLEQ_INIT(head2);                                                                \
        }                                                                                        \
    } while (0)
/* Put all of head2 in front of head1; head2 is left empty. */
#define QSIMPLEQ_PREPEND(head1, head2)                                                           \
    do {                                                                                         \
        if (!QSIMPLEQ_EMPTY(head2)) {                                                            \
            *(head2)->sqh_last = (head1)->sqh_first;                                             \
            if (QSIMPLEQ_EMPTY(head1))                                                           \
                (head1)->sqh_last = (head2)->sqh_last;                                           \
            (head1)->sqh_first = (head2)->sqh_first;                                             \
            QSIMPLEQ_INIT(head2);                                                                \
        }                                                                                        \
    } while (0)
#define QSIMPLEQ_FOREACH(var, head, field)                                                       \
    for ((var) = ((head)->sqh_first); (var); (var) = ((var)->field.sqe_next))
#define QSIMPLEQ_FOREACH_SAFE(var, head, field, next)                                            \
    for ((var) = ((head)->sqh_first); (var) && ((next) = ((var)->field.sqe_next), 1);            \
         (var) = (next))

/* ---------------------------------------------------------------------------------------- */
/* QTAILQ: doubly linked tail queue.                                                        */

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
/* True while elm is linked into a queue (its prev-link is set). */
#define QTAILQ_IN_USE(elm, field) ((elm)->field.tqe_circ.tql_prev != NULL)
/*
 * The element before the one whose QTailQLink is `link` (a QTailQLink value, not a pointer),
 * as void *: the prev-link's own prev-link's next. NULL for the first element.
 */
#define QTAILQ_LINK_PREV(link) ((link).tql_prev->tql_prev->tql_next)
/* The last element, NULL when empty. */
#define QTAILQ_LAST(head) ((__typeof__((head)->tqh_first))QTAILQ_LINK_PREV((head)->tqh_circ))
/* The element before elm, NULL for the first. */
#define QTAILQ_PREV(elm, field)                                                                  \
    ((__typeof__((elm)->field.tqe_next))QTAILQ_LINK_PREV((elm)->field.tqe_circ))

#define QTAILQ_INSERT_HEAD(head, elm, field)                                                     \
    do {                                                                                         \
        (elm)->field.tqe_next = (head)->tqh_first;                                               \
        if ((elm)->field.tqe_next != NULL)                                                       \
            (head)->tqh_first->field.tqe_circ.tql_prev = &(elm)->field.tqe_circ;                 \
        else                                                                                     \
            (head)->tqh_circ.tql_prev = &(elm)->field.tqe_circ;                                  \
        (elm)->field.tqe_circ.tql_prev = &(head)->tqh_circ;                                      \
        (head)->tqh_first = (elm);                                                               \
    } while (0)
#define QTAILQ_INSERT_TAIL(head, elm, field)                                                     \
    do {                                                                                         \
        (elm)->field.tqe_next = NULL;                                                            \
        (elm)->field.tqe_circ.tql_prev = (head)->tqh_circ.tql_prev;                              \
        (head)->tqh_circ.tql_prev->tql_next = (elm);                                             \
        (head)->tqh_circ.tql_prev = &(elm)->field.tqe_circ;                                      \
    } while (0)
#define QTAILQ_INSERT_AFTER(head, listelm, elm, field)                                           \
    do {                                                                                         \
        (elm)->field.tqe_next = (listelm)->field.tqe_next;                                       \
        if ((elm)->field.tqe_next != NULL)                                                       \
            (elm)->field.tqe_next->field.tqe_circ.tql_prev = &(elm)->field.tqe_circ;             \
        else                                                                                     \
            (head)->tqh_circ.tql_prev = &(elm)->field.tqe_circ;                                  \
        (elm)->field.tqe_circ.tql_prev = &(listelm)->field.tqe_circ;                             \
        (listelm)->field.tqe_next = (elm);                                                       \
    } while (0)
#define QTAILQ_INSERT_BEFORE(listelm, elm, field)                                                \
    do {                                                                                         \
        (elm)->field.tqe_next = (listelm);                                                       \
        (elm)->field.tqe_circ.tql_prev = (listelm)->field.tqe_circ.tql_prev;                     \
        (listelm)->field.tqe_circ.tql_prev->tql_next = (elm);                                    \
        (listelm)->field.tqe_circ.tql_prev = &(elm)->field.tqe_circ;                             \
    } while (0)
#define QTAILQ_REMOVE(head, elm, field)                                                          \
    do {                                                                                         \
        if ((elm)->field.tqe_next != NULL)                                                       \
            (elm)->field.tqe_next->field.tqe_circ.tql_prev = (elm)->field.tqe_circ.tql_prev;     \
        else                                                                                     \
            (head)->tqh_circ.tql_prev = (elm)->field.tqe_circ.tql_prev;                          \
        (elm)->field.tqe_circ.tql_prev->tql_next = (elm)->field.tqe_next;                        \
        (elm)->field.tqe_circ.tql_prev = NULL;                                                   \
        (elm)->field.tqe_next = NULL;                                                            \
    } while (0)
/*
 * Unlink the run left..right (left first, both in head) in O(1). The removed elements keep
 * their links to each other (left's prev-link and right's next are stale).
 */
#define QTAILQ_REMOVE_SEVERAL(head, left, right, field)                                          \
    do {                                                                                         \
        if ((right)->field.tqe_next != NULL)                                                     \
            (right)->field.tqe_next->field.tqe_circ.tql_prev = (left)->field.tqe_circ.tql_prev;  \
        else                                                                                     \
            (head)->tqh_circ.tql_prev = (left)->field.tqe_circ.tql_prev;                         \
        (left)->field.tqe_circ.tql_prev->tql_next = (right)->field.tqe_next;                     \
    } while (0)
#define QTAILQ_FOREACH(var, head, field)                                                         \
    for ((var) = ((head)->tqh_first); (var); (var) = ((var)->field.tqe_next))
#define QTAILQ_FOREACH_SAFE(var, head, field, next_var)                                          \
    for ((var) = ((head)->tqh_first); (var) && ((next_var) = ((var)->field.tqe_next), 1);        \
         (var) = (next_var))
#define QTAILQ_FOREACH_REVERSE(var, head, field)                                                 \
    for ((var) = QTAILQ_LAST(head); (var); (var) = QTAILQ_PREV(var, field))
#define QTAILQ_FOREACH_REVERSE_SAFE(var, head, field, prev_var)                                  \
    for ((var) = QTAILQ_LAST(head); (var) && ((prev_var) = QTAILQ_PREV(var, field), 1);         \
         (var) = (prev_var))

/* ---------------------------------------------------------------------------------------- */
/* Raw access by byte offset (entry = offsetof(element type, entry field)).                 */

/* A `type *` at byte offset `offset` from base. */
#define field_at_offset(base, offset, type) ((type *)(((char *)(base)) + (offset)))

/* A QTAILQ head's first-element pointer and its QTailQLink (both at offset 0: a union). */
#define QTAILQ_RAW_FIRST(head) field_at_offset(head, 0, void *)
#define QTAILQ_RAW_TQH_CIRC(head) field_at_offset(head, 0, QTailQLink)
/* An element's next pointer and QTailQLink, its QTAILQ_ENTRY being at byte offset entry. */
#define QTAILQ_RAW_NEXT(elm, entry) field_at_offset(elm, entry, void *)
#define QTAILQ_RAW_TQE_CIRC(elm, entry) field_at_offset(elm, entry, QTailQLink)
#define QTAILQ_RAW_FOREACH(elm, head, entry)                                                     \
    for ((elm) = *QTAILQ_RAW_FIRST(head); (elm); (elm) = *QTAILQ_RAW_NEXT(elm, entry))
#define QTAILQ_RAW_INSERT_TAIL(head, elm, entry)                                                 \
    do {                                                                                         \
        *QTAILQ_RAW_NEXT(elm, entry) = NULL;                                                     \
        QTAILQ_RAW_TQE_CIRC(elm, entry)->tql_prev = QTAILQ_RAW_TQH_CIRC(head)->tql_prev;         \
        QTAILQ_RAW_TQH_CIRC(head)->tql_prev->tql_next = (elm);                                   \
        QTAILQ_RAW_TQH_CIRC(head)->tql_prev = QTAILQ_RAW_TQE_CIRC(elm, entry);                   \
    } while (0)

/* A QLIST head's first pointer; an element's next pointer and back pointer (entry + 8). */
#define QLIST_RAW_FIRST(head) field_at_offset(head, 0, void *)
#define QLIST_RAW_NEXT(elm, entry) field_at_offset(elm, entry, void *)
#define QLIST_RAW_PREVIOUS(elm, entry) field_at_offset(elm, (entry) + sizeof(void *), void *)
#define QLIST_RAW_FOREACH(elm, head, entry)                                                      \
    for ((elm) = *QLIST_RAW_FIRST(head); (elm); (elm) = *QLIST_RAW_NEXT(elm, entry))
/* Link elem after prev and make it the end of the list (whatever followed prev is dropped). */
#define QLIST_RAW_INSERT_AFTER(head, prev, elem, entry)                                          \
    do {                                                                                         \
        *QLIST_RAW_NEXT(prev, entry) = (elem);                                                   \
        *QLIST_RAW_PREVIOUS(elem, entry) = QLIST_RAW_NEXT(prev, entry);                          \
        *QLIST_RAW_NEXT(elem, entry) = NULL;                                                     \
    } while (0)
#define QLIST_RAW_INSERT_HEAD(head, elm, entry)                                                  \
    do {                                                                                         \
        void *qlist_raw_old_ = *QLIST_RAW_FIRST(head);                                           \
        *QLIST_RAW_NEXT(elm, entry) = qlist_raw_old_;                                            \
        *QLIST_RAW_PREVIOUS(elm, entry) = QLIST_RAW_FIRST(head);                                 \
        if (qlist_raw_old_ != NULL)                                                              \
            *QLIST_RAW_PREVIOUS(qlist_raw_old_, entry) = QLIST_RAW_NEXT(elm, entry);             \
        *QLIST_RAW_FIRST(head) = (elm);                                                          \
    } while (0)

#endif
