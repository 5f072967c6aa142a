/*
 * store_mongo_internal.h - what the files of the MongoDB backend share; not
 * for use outside Plugin/store/store_mongo*.c.
 *
 * store_mongo.c opens the store (pool, collections, indexes, schema
 * document) and holds the helpers below; each concern has its file and
 * operations table: store_mongo_index.c with store_mongo_worklist.c,
 * store_mongo_identity.c, store_mongo_audit.c, store_mongo_ai.c,
 * store_mongo_annotations.c, store_mongo_report_templates.c,
 * store_mongo_reports.c, store_mongo_report_outputs.c. Each concern file
 * also exports its collections' index set-up, called at open.
 *
 * Documents: int64 for times and counters (BSON_APPEND_INT64), UTF-8
 * strings as given (never interpreted as operators: values always go in as
 * values, never as keys), _id an ObjectId or the natural key as the
 * concern says. Sequences (ids that the contract returns as int64) come from
 * a `counters` collection with findAndModify $inc.
 * Errors: a write that violates a unique index is RR_EEXISTS; other driver
 * errors are RR_ESTORE with "mongodb: <what>: <driver message>".
 */
#ifndef RR_STORE_MONGO_INTERNAL_H
#define RR_STORE_MONGO_INTERNAL_H

#include <mongoc/mongoc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_list.h"
#include "store_mongo.h"

typedef struct rr_mongo_store {
  mongoc_client_pool_t *pool;
  mongoc_uri_t *uri;
  char database[128];
} rr_mongo_store;

extern const rr_store_index_ops rr_mongo_index_ops;
extern const rr_store_identity_ops rr_mongo_identity_ops;
extern const rr_store_audit_ops rr_mongo_audit_ops;
extern const rr_store_ai_ops rr_mongo_ai_ops;
extern const rr_store_annotations_ops rr_mongo_annotations_ops;
extern const rr_store_report_templates_ops rr_mongo_report_templates_ops;
extern const rr_store_report_outputs_ops rr_mongo_report_outputs_ops;
extern const rr_store_reports_ops rr_mongo_reports_ops;

/* Each concern's collections and indexes (and fixed documents), called at
 * open by store_mongo.c; idempotent, several nodes may open at once. */
int rr_mongo_identity_indexes(rr_mongo_store *s, char *err, size_t errsize); /* store_mongo_identity.c */
int rr_mongo_audit_indexes(rr_mongo_store *s, char *err, size_t errsize);    /* store_mongo_audit.c */
int rr_mongo_ai_indexes(rr_mongo_store *s, char *err, size_t errsize);       /* store_mongo_ai.c */
int rr_mongo_annotations_indexes(rr_mongo_store *s, char *err, size_t errsize); /* store_mongo_annotations.c */
int rr_mongo_report_templates_indexes(rr_mongo_store *s, char *err, size_t errsize); /* store_mongo_report_templates.c */
int rr_mongo_report_outputs_indexes(rr_mongo_store *s, char *err, size_t errsize); /* store_mongo_report_outputs.c */
int rr_mongo_backup_indexes(rr_mongo_store *s, char *err, size_t errsize);   /* store_mongo_backup.c */
int rr_mongo_reports_indexes(rr_mongo_store *s, char *err, size_t errsize);  /* store_mongo_reports.c */
int rr_mongo_report_reads_indexes(rr_mongo_store *s, char *err, size_t errsize); /* store_mongo_report_reads.c */
extern const rr_store_backup_ops rr_mongo_backup_ops;

/* A client from the pool (blocks until one is free) and back. */
mongoc_client_t *rr_mongo_pop(rr_mongo_store *s);
void rr_mongo_push(rr_mongo_store *s, mongoc_client_t *c);
/* The collection `name` of the store's database on client c (free it with
 * mongoc_collection_destroy before pushing c back). */
mongoc_collection_t *rr_mongo_collection(rr_mongo_store *s, mongoc_client_t *c, const char *name);

/* The code for a driver error: RR_EEXISTS for duplicate keys (11000), else
 * RR_ESTORE; writes "mongodb: <what>: <message>" into err. */
int rr_mongo_fail(char *err, size_t errsize, const bson_error_t *e, const char *what);

/* One write to collection `coll`: an update (upd; `upsert` inserts when
 * nothing matches) or a delete (upd and upsert unused). *out (may be NULL)
 * receives the documents the write matched, upserted and deleted; all 0 on
 * failure, which returns rr_mongo_fail's code. */
typedef enum rr_mongo_write_kind {
  RR_MONGO_UPDATE_ONE, RR_MONGO_UPDATE_MANY, RR_MONGO_DELETE_ONE, RR_MONGO_DELETE_MANY
} rr_mongo_write_kind;
typedef struct rr_mongo_write_counts {
  int64_t matched, upserted, deleted;
} rr_mongo_write_counts;
int rr_mongo_write(rr_mongo_store *s, rr_mongo_write_counts *out, const char *coll, rr_mongo_write_kind kind,
                   const bson_t *filter, const bson_t *upd, bool upsert, const char *what, char *err, size_t errsize);

/* The first document of find(filter, opts) on `coll` as a copy (*out NULL
 * when none matches; bson_destroy it); opts may be NULL and get "limit": 1
 * when they have no limit. */
int rr_mongo_find_one(rr_mongo_store *s, bson_t **out, const char *coll, const bson_t *filter, const bson_t *opts,
                      const char *what, char *err, size_t errsize);
/* count_documents(filter, opts) on `coll` into *out (0 on failure). */
int rr_mongo_count(rr_mongo_store *s, int64_t *out, const char *coll, const bson_t *filter, const bson_t *opts,
                   const char *what, char *err, size_t errsize);

/* Create an index (keys as BSON, e.g. BCON_NEW("study_uid", BCON_INT32(1)))
 * named `name` on collection `coll`; `unique` and an optional partial
 * filter. Idempotent. */
int rr_mongo_index(rr_mongo_store *s, const char *coll, const char *name, bson_t *keys, bool unique,
                   const bson_t *partial, char *err, size_t errsize);

/* The next value of the sequence `name` (1, 2, …). */
int rr_mongo_next_id(rr_mongo_store *s, int64_t *out, const char *name, char *err, size_t errsize);

/* Field readers of a document: "" / 0 / false when the field is absent or
 * of another type. */
void rr_mongo_copy(char *dst, size_t size, const bson_t *doc, const char *field); /* truncated at a UTF-8 character */
char *rr_mongo_strdup(const bson_t *doc, const char *field);                      /* malloc'd; NULL on ENOMEM */
int64_t rr_mongo_int(const bson_t *doc, const char *field);                       /* int32, int64 or double */
double rr_mongo_double(const bson_t *doc, const char *field);
bool rr_mongo_bool(const bson_t *doc, const char *field);

/* Reads one document into a zeroed, counted element; < 0 (RR_ENOMEM). */
typedef int (*rr_mongo_doc_reader)(void *elem, const bson_t *doc, void *ctx);
/* Run find(filter, opts) on `coll` and append one element per document to
 * `list` (store_list.h; `first` elements before the first document). */
int rr_mongo_find_list(rr_mongo_store *s, void *list, const rr_store_list_kind *kind, size_t first, const char *coll,
                       const bson_t *filter, const bson_t *opts, rr_mongo_doc_reader read, void *ctx,
                       const char *what, char *err, size_t errsize);

/* Added by the core (store_mongo.c): the version of the `schema` document
 * (0 when absent). */
int rr_mongo_schema_version(rr_mongo_store *s, int *out, char *err, size_t errsize);
/* The index concern's collections and indexes (store_mongo_index.c),
 * called at open; each other concern adds one such call in store_mongo.c's
 * create_indexes. */
int rr_mongo_index_setup(rr_mongo_store *s, char *err, size_t errsize);
/* The worklist reads of the index concern (store_mongo_worklist.c). */
int rr_mongo_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize);
int rr_mongo_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize);

/* The reports concern's study-level records (store_mongo_reports.c; the
 * collection study_reports, see there): does a study document of the UID
 * exist; set a timeline field (opened_at, preliminary_at, final_at) when
 * still 0; copy the latest report's worklist fields (report_state,
 * report_id, report_author, report_flagged, report_acks) onto the study
 * documents of the UID (also called by the index concern when it creates
 * a study document). */
/* A user name in ASCII lower case (how the other backends compare user
 * names: SQLite NOCASE, PostgreSQL rr_nocase). */
void rr_mongo_user_key(char *out, size_t size, const char *username);
int rr_mongo_report_study_exists(rr_mongo_store *s, bool *out, const char *uid, char *err, size_t errsize);
int rr_mongo_report_timeline_mark(rr_mongo_store *s, const char *uid, const char *field, int64_t at, char *err,
                                  size_t errsize);
int rr_mongo_report_sync_study(rr_mongo_store *s, const char *uid, char *err, size_t errsize);
/* The reads of the reports concern (store_mongo_report_reads.c). */
int rr_mongo_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize);
int rr_mongo_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                              char *err, size_t errsize);
int rr_mongo_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize);
int rr_mongo_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                             size_t errsize);
int rr_mongo_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize);
int rr_mongo_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                       size_t errsize);
int rr_mongo_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize);

#endif
