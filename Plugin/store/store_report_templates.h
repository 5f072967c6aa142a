/*
 * store_report_templates.h - the report templates concern of the store:
 * the templates an administrator added, and the administrator's versions
 * of built-in templates (a row whose id is a built-in's overrides it; see
 * report/template.h, which owns the meaning of the JSON).
 *
 * A row: id (1..64 of [A-Za-z0-9._-]), the template JSON as validated by
 * rr_template_validate (stored as given, at most RR_REPORT_TEMPLATE_JSON_MAX
 * bytes), revision (>= 1, + 1 per update: optimistic concurrency, a writer
 * names the revision it changed and loses with RR_ESTALE when another
 * change came first), retired, who changed it last and when (unix ms).
 * Rows are never deleted: a retired template stays readable by id.
 *
 * rr_store_report_templates_ops is the table a backend fills (see store.h
 * for the contract every operation shares). Rows read from the store own
 * their JSON text: release one with rr_report_template_rec_dispose, lists
 * with rr_report_template_list_free.
 */
#ifndef RR_STORE_REPORT_TEMPLATES_H
#define RR_STORE_REPORT_TEMPLATES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

typedef struct rr_store rr_store;

#define RR_TEMPLATE_ID_SIZE 65 /* 1..64 of [A-Za-z0-9._-] */
#define RR_REPORT_TEMPLATE_JSON_MAX (256 * 1024)

typedef struct rr_report_template_rec {
  char id[RR_TEMPLATE_ID_SIZE];
  char *json; /* owned, NUL-terminated */
  int64_t revision;
  bool retired;
  char updated_by[RR_USERNAME_SIZE];
  int64_t updated_at; /* ms since the epoch */
} rr_report_template_rec;

/* Release the JSON text of a row and zero it; accepts NULL. */
void rr_report_template_rec_dispose(rr_report_template_rec *r);

typedef struct rr_report_template_list {
  rr_report_template_rec *items;
  size_t count;
} rr_report_template_list;
void rr_report_template_list_free(rr_report_template_list *list);

/* The rules every backend applies (store.c): whether id is 1..64 of
 * [A-Za-z0-9._-]; and RR_EINVAL with a sentence in err when rec's id is
 * malformed or its JSON empty or longer than RR_REPORT_TEMPLATE_JSON_MAX,
 * else 0. */
bool rr_report_template_id_ok(const char *id);
int rr_report_template_rec_check(const rr_report_template_rec *rec, char *err, size_t errsize);

typedef struct rr_store_report_templates_ops {
  int (*get)(void *impl, rr_report_template_rec *out, const char *id, char *err, size_t errsize);
  int (*list)(void *impl, rr_report_template_list **out, char *err, size_t errsize);
  int (*create)(void *impl, const rr_report_template_rec *rec, char *err, size_t errsize);
  int (*update)(void *impl, rr_report_template_rec *out, const rr_report_template_rec *rec, int64_t expected_revision,
                char *err, size_t errsize);
} rr_store_report_templates_ops;

/*
 * get: the row of `id` into *out (dispose it); RR_ENOTFOUND when none.
 * list: every row, by id.
 * create: stores rec as given (id, json, revision, retired, updated_by,
 *   updated_at); RR_EEXISTS when the id has a row; RR_EINVAL when the id is
 *   malformed, the JSON empty or too long, or the revision < 1.
 * update: sets the row's json, retired, updated_by and updated_at from rec
 *   and its revision to expected_revision + 1, when its revision is
 *   expected_revision (else RR_ESTALE, nothing changed); *out (may be NULL;
 *   dispose it) receives the stored row. RR_ENOTFOUND when no row.
 */
int rr_store_report_template_get(rr_store *s, rr_report_template_rec *out, const char *id, char *err,
                                 size_t errsize);
int rr_store_report_template_list(rr_store *s, rr_report_template_list **out, char *err, size_t errsize);
int rr_store_report_template_create(rr_store *s, const rr_report_template_rec *rec, char *err, size_t errsize);
int rr_store_report_template_update(rr_store *s, rr_report_template_rec *out, const rr_report_template_rec *rec,
                                    int64_t expected_revision, char *err, size_t errsize);

#endif
