/*
 * store_list.h - the one list behind every list the store returns
 * (rr_study_list, rr_user_list, rr_ai_list, ... and the arrays inside
 * rr_study_detail): a calloc'd struct holding a malloc'd array of elements
 * and their count. For backends and the store's *_free functions; callers
 * use the types and *_free functions of the concern headers.
 *
 * A kind describes one list type (where its array and count are, how big
 * an element is, what an element owns); the functions below then create,
 * grow and free any list of that kind, so that each backend collects rows
 * one way. The caller keeps the array's capacity (`*cap`, 0 for an empty
 * list). Pure memory handling: no locks, thread-safe on distinct lists.
 */
#ifndef RR_STORE_LIST_H
#define RR_STORE_LIST_H

#include <stddef.h>

typedef struct rr_store_list_kind {
  size_t size;                 /* sizeof the list struct */
  size_t items_at;             /* offsetof its array pointer */
  size_t count_at;             /* offsetof its size_t count */
  size_t elem_size;            /* sizeof an element */
  void (*dispose)(void *elem); /* releases what an element owns; NULL: nothing */
} rr_store_list_kind;

extern const rr_store_list_kind rr_study_list_kind;         /* rr_study_list */
extern const rr_store_list_kind rr_study_detail_kind;       /* rr_study_detail: its series */
extern const rr_store_list_kind rr_series_detail_kind;      /* rr_series_detail: its instances */
extern const rr_store_list_kind rr_series_count_list_kind;  /* rr_series_count_list */
extern const rr_store_list_kind rr_id_list_kind;            /* rr_id_list */
extern const rr_store_list_kind rr_user_list_kind;          /* rr_user_list */
extern const rr_store_list_kind rr_audit_list_kind;         /* rr_audit_list */
extern const rr_store_list_kind rr_ai_list_kind;            /* rr_ai_list */
extern const rr_store_list_kind rr_ai_review_list_kind;     /* rr_ai_review_list */
extern const rr_store_list_kind rr_annotation_list_kind;    /* rr_annotation_list */
extern const rr_store_list_kind rr_key_image_list_kind;     /* rr_key_image_list */
extern const rr_store_list_kind rr_report_template_list_kind; /* rr_report_template_list */
extern const rr_store_list_kind rr_report_list_kind;        /* rr_report_list */
extern const rr_store_list_kind rr_report_versions_kind;    /* rr_report: its versions */
extern const rr_store_list_kind rr_report_acks_kind;        /* rr_report: its acknowledgements */
extern const rr_store_list_kind rr_report_row_list_kind;    /* rr_report_row_list */
extern const rr_store_list_kind rr_report_timeline_list_kind; /* rr_report_timeline_list */
extern const rr_store_list_kind rr_macro_list_kind;         /* rr_macro_list */
extern const rr_store_list_kind rr_backup_item_list_kind;   /* rr_backup_item_list (store_backup.c) */

/* Make room for one more element in an array of `*cap` elements holding
 * `count` (doubling, starting at `first`, at least 1). RR_ENOMEM leaves the
 * array as it was. */
int rr_store_grow(void **items, size_t *cap, size_t count, size_t elem_size, size_t first);

/* A new empty list of `kind` (zeroed); NULL when out of memory. */
void *rr_store_list_new(const rr_store_list_kind *kind);

/* Make the array hold at least `n` elements without changing the count. */
int rr_store_list_reserve(const rr_store_list_kind *kind, void *list, size_t *cap, size_t n);

/* Append a zeroed element and count it at once, so that rr_store_list_free
 * releases it even when it is filled only partly; the array grows by
 * doubling from `first`. NULL when out of memory (the list is unchanged). */
void *rr_store_list_push(const rr_store_list_kind *kind, void *list, size_t *cap, size_t first);

/* Dispose the elements, free the array and the list; accepts NULL. */
void rr_store_list_free(const rr_store_list_kind *kind, void *list);

/* The same for a list struct that is not itself allocated (an element of
 * another list): the list is left zeroed. */
void rr_store_list_dispose(const rr_store_list_kind *kind, void *list);

#endif
