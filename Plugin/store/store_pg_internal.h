/*
 * store_pg_internal.h - what the files of the PostgreSQL backend share; not
 * for use outside Plugin/store/store_pg*.c.
 *
 * store_pg.c opens the store (pool, migrations) and holds the helpers
 * below; each concern has its file and operations table:
 * store_pg_index.c with store_pg_worklist.c, store_pg_identity.c,
 * store_pg_audit.c, store_pg_ai.c, store_pg_annotations.c,
 * store_pg_report_templates.c, store_pg_reports.c with
 * store_pg_report_reads.c, store_pg_report_outputs.c, store_pg_cluster.c
 * (leases and signals between nodes: advisory locks, LISTEN/NOTIFY).
 * Migrations (Resources/postgresql/, one file per concern):
 *   001_index.sql 002_identity_audit.sql 003_ai.sql 004_annotations.sql
 *   005_report_templates.sql 006_reports.sql 007_report_outputs.sql
 *   (008 and later: backup queue, node lease; added by their owners).
 *
 * Locking: PostgreSQL does it. A call takes a connection from the pool
 * (rr_pg_acquire, never held across calls) and gives it back before it
 * returns. A write that changes more than one row runs in rr_pg_tx, which
 * retries serialization failures and deadlocks. Row claims use
 * FOR UPDATE SKIP LOCKED; uniqueness is the database's (SQLSTATE 23505 is
 * RR_EEXISTS). Times are int64 seconds (or ms where the concern says so),
 * stored as BIGINT, as in the SQLite backend.
 */
#ifndef RR_STORE_PG_INTERNAL_H
#define RR_STORE_PG_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_list.h"
#include "store_pg.h"
#include "util/buf.h"

#define RR_PG_MAX_CONNS 64
#define RR_PG_MAX_PREPARED 512

typedef struct rr_pg_conn {
  PGconn *pg;
  int in_use;
  const char *prepared[RR_PG_MAX_PREPARED]; /* SQL text pointers prepared on this connection, as "s<index>" */
  unsigned prepared_count;
  char last_state[6];     /* SQLSTATE of the last failure ("" after a success) */
  char last_message[256]; /* PostgreSQL's message of the last failure (no parameters in it) */
} rr_pg_conn;

typedef struct rr_pg_store {
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_cond;
  rr_pg_conn conns[RR_PG_MAX_CONNS];
  unsigned conn_count;
  char *conninfo;  /* what PQconnectdb gets (password, sslmode added) */
  int last_write_failed; /* __atomic: the last write failed for a reason other than a conflict */
  /* (added) tables of other concerns that the worklist reads when this
   * build's migrations created them (RR_PG_HAS_*, set at open) */
  unsigned optional_tables;
  struct rr_pg_cluster *cluster; /* leases and signals (store_pg_cluster.c) */
} rr_pg_store;

/* The cluster concern's state (store_pg_cluster.c): made at open, after the
 * migrations; freed at close (joins the listener thread, ends the leases'
 * connections). */
typedef struct rr_pg_cluster rr_pg_cluster;
int rr_pg_cluster_new(rr_pg_cluster **out, rr_pg_store *s, char *err, size_t errsize);
void rr_pg_cluster_free(rr_pg_cluster *c);
extern const rr_store_cluster_ops rr_pg_cluster_ops;
/* This handle's node id (16 hex digits, random at open; its "node-<id>"
 * lease is held while the handle lives), for rows a node claims. */
const char *rr_pg_node_id(const rr_pg_store *s);
/* Whether the node `node_id` still holds its lease (true for this one and
 * for ""). */
int rr_pg_node_alive(rr_pg_store *s, bool *alive, const char *node_id, char *err, size_t errsize);
/* Keep this handle's node lease: check it with a round trip, and take it
 * again when its connection was lost (RR_ESTORE when that fails). */
int rr_pg_node_keep(rr_pg_store *s, char *err, size_t errsize);

/* last_write_failed: 0 after a success, else why (SQLSTATE 25006 / class 53 / other) */
#define RR_PG_WRITE_FAILED 1
#define RR_PG_WRITE_READ_ONLY 2
#define RR_PG_WRITE_FULL 3

/* optional_tables: study_ai (AI concern); study_report, reports and
 * report_acks (reports concern). Without them the worklist reads "no
 * analysis" and "no report", as the SQLite backend does with empty ones. */
#define RR_PG_HAS_STUDY_AI 1u
#define RR_PG_HAS_REPORTS 2u

/* The operations tables, one per concern (see store.h). */
extern const rr_store_index_ops rr_pg_index_ops;
extern const rr_store_identity_ops rr_pg_identity_ops;
extern const rr_store_audit_ops rr_pg_audit_ops;
extern const rr_store_ai_ops rr_pg_ai_ops;
extern const rr_store_annotations_ops rr_pg_annotations_ops;
extern const rr_store_report_templates_ops rr_pg_report_templates_ops;
extern const rr_store_report_outputs_ops rr_pg_report_outputs_ops;
extern const rr_store_reports_ops rr_pg_reports_ops;
extern const rr_store_backup_ops rr_pg_backup_ops; /* store_pg_backup.c, 008_backup.sql */

/* The reports concern's reads and small writes (store_pg_report_reads.c),
 * in rr_pg_reports_ops (store_pg_reports.c). */
int rr_pg_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize);
int rr_pg_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                           char *err, size_t errsize);
int rr_pg_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize);
int rr_pg_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                          size_t errsize);
int rr_pg_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize);
int rr_pg_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                    size_t errsize);
int rr_pg_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize);
/* Run fn inside a read-only REPEATABLE READ transaction (one snapshot for
 * its statements), without noting a write (rr_pg_tx does); once more on a
 * new connection when the server dropped the pooled one. */
int rr_pg_report_read(rr_pg_store *s, int (*fn)(rr_pg_conn *c, void *ctx, char *err, size_t errsize), void *ctx,
                      char *err, size_t errsize);

/* The index concern's reads (store_pg_worklist.c). */
int rr_pg_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize);
int rr_pg_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize);
/* The LIKE pattern (escape '\\') of a GLOB pattern made by rr_text_glob
 * (util/textnorm.h). RR_EINVAL for a class other than "[x]". */
int rr_pg_glob_to_like(rr_buf *out, const char *glob);

/* Did the server drop c (its last statement failed with the connection)?
 * The next rr_pg_acquire of it reconnects. */
bool rr_pg_conn_lost(const rr_pg_conn *c);

/* A connection from the pool (waits for a free one; reconnects one the
 * server dropped). RR_ESTORE with a sentence when it cannot connect. */
int rr_pg_acquire(rr_pg_store *s, rr_pg_conn **out, char *err, size_t errsize);
void rr_pg_release(rr_pg_store *s, rr_pg_conn *c);

/* Text parameters ('t', 'n') are sent as type text, 'i' as bigint, 'd' as
 * double precision, 'B' as boolean, 'b' as bytea: cast where the context
 * needs another type ($1::bigint for an 'n' number). */
/* Run one statement, prepared once per connection (keyed by the address of
 * `sql`, which must therefore be a string literal or otherwise static),
 * with parameters $1.. given by `types`, one letter each:
 *   't' const char * text (NULL binds ""), 'n' text or SQL NULL,
 *   'i' int64_t, 'd' double, 'B' int as boolean, 'b' bytea (const void *, size_t).
 * *out (may be NULL: the result is cleared) receives the result, freed
 * with PQclear. Returns 0, RR_EEXISTS (23505 unique violation), RR_ECONFLICT
 * (40001/40P01, retry the transaction) or RR_ESTORE; on failure c->last_state
 * and c->last_message say why and the caller writes its sentence with
 * rr_pg_fail. Results are in text format (use the column readers below). */
int rr_pg_query(rr_pg_conn *c, PGresult **out, const char *sql, const char *types, ...);
/* The same with a va_list. */
int rr_pg_queryv(rr_pg_conn *c, PGresult **out, const char *sql, const char *types, va_list ap);

/* RR_ESTORE (or `error` when it is RR_EEXISTS) with "postgresql: <what>:
 * <c->last_message>" into err. Returns the code. */
int rr_pg_fail(char *err, size_t errsize, int error, const rr_pg_conn *c, const char *what);

/* Run fn(c, ctx, err, errsize) inside BEGIN ... COMMIT on one connection.
 * fn returns 0 to commit, negative to roll back (its code is returned).
 * RR_ECONFLICT from fn or from COMMIT (serialization failure, deadlock)
 * rolls back and runs fn again, up to 5 times with 10-80 ms back-off; fn
 * must therefore be repeatable (reset its outputs at its start). */
typedef int (*rr_pg_tx_fn)(rr_pg_conn *c, void *ctx, char *err, size_t errsize);
int rr_pg_tx(rr_pg_store *s, rr_pg_tx_fn fn, void *ctx, char *err, size_t errsize);

/* One statement outside a transaction on a pooled connection (acquire,
 * query, release): the common case of a single read or single write. */
int rr_pg_run(rr_pg_store *s, PGresult **out, const char *what, char *err, size_t errsize, const char *sql,
              const char *types, ...);

/* Column readers (row, col); NULL reads as "" / 0 / false. */
void rr_pg_copy(char *dst, size_t size, const PGresult *r, int row, int col); /* truncated at a UTF-8 character */
char *rr_pg_strdup(const PGresult *r, int row, int col);                     /* malloc'd, NULL on ENOMEM */
int64_t rr_pg_int(const PGresult *r, int row, int col);
double rr_pg_double(const PGresult *r, int row, int col);
bool rr_pg_bool(const PGresult *r, int row, int col);                         /* 't' */
bool rr_pg_null(const PGresult *r, int row, int col);
/* A bytea column as malloc'd bytes (*out NULL and *len 0 for NULL). RR_ENOMEM. */
int rr_pg_bytea(void **out, size_t *len, const PGresult *r, int row, int col);

/* Reads row `row` of r into a zeroed, counted element (`ctx` is the
 * caller's); < 0 (RR_ENOMEM) when it cannot. */
typedef int (*rr_pg_row_reader)(void *elem, const PGresult *r, int row, void *ctx);
/* Append one element per row of r to `list` (store_list.h), the array
 * holding `first` elements before the first row. RR_ENOMEM. */
int rr_pg_rows(const PGresult *r, const rr_store_list_kind *kind, void *list, size_t first, rr_pg_row_reader read,
               void *ctx);

/* Parameters collected while a dynamic WHERE clause is built (worklist,
 * reports list), sent with PQexecParams (unnamed statement, still bound). */
#define RR_PG_MAX_PARAMS 64
typedef struct rr_pg_params {
  char *values[RR_PG_MAX_PARAMS];
  size_t count;
} rr_pg_params;
/* Append "$N" to sql for a copy of value[0..len). RR_EFULL, RR_ENOMEM. */
int rr_pg_param_add(rr_pg_params *p, rr_buf *sql, const char *value, size_t len);
void rr_pg_params_free(rr_pg_params *p);
/* Run the dynamic sql with p. Codes as rr_pg_query. */
int rr_pg_query_params(rr_pg_conn *c, PGresult **out, const rr_buf *sql, const rr_pg_params *p);

#endif
