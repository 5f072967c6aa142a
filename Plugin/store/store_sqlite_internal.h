/*
 * store_sqlite_internal.h - what the files of the SQLite backend share; not
 * for use outside Plugin/store/store_sqlite*.c.
 *
 * store_sqlite.c opens the database (migrations, connections, the reader
 * pool) and holds the helpers below; each concern of the store has its file
 * and its operations table: store_sqlite_index.c (ingestion writes, key-value,
 * reconciliation, counts) with store_sqlite_worklist.c (worklist and study
 * reads), store_sqlite_identity.c, store_sqlite_audit.c, store_sqlite_ai.c,
 * store_sqlite_annotations.c, store_sqlite_report_templates.c,
 * store_sqlite_reports.c with store_sqlite_report_reads.c (lists, timeline,
 * macros), store_sqlite_report_outputs.c, store_sqlite_backup.c.
 *
 * Locking: writes take `write_lock` and use the one writer connection, in a
 * transaction (BEGIN IMMEDIATE) where they change more than one row; reads
 * take a reader connection from the pool (rr_sqlite_reader_acquire, never
 * held across calls) and release it before returning. Every helper that
 * reports a failure writes a sentence into err (may be NULL) and returns a
 * negative RR_E* code.
 */
#ifndef RR_STORE_SQLITE_INTERNAL_H
#define RR_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "store_list.h"
#include "store_sqlite.h"
#include "util/buf.h"

#define RR_SQLITE_MAX_READERS 64

typedef struct rr_sqlite_conn {
  sqlite3 *db;
  int in_use;
} rr_sqlite_conn;

typedef struct rr_sqlite_store {
  pthread_mutex_t write_lock;
  rr_sqlite_conn writer;
  pthread_mutex_t pool_lock;
  pthread_cond_t pool_cond;
  rr_sqlite_conn readers[RR_SQLITE_MAX_READERS];
  unsigned reader_count;
  char path[4096];     /* the database file */
  int last_write_rc;   /* SQLite's extended code of the last failed write, 0 after a success (__atomic) */
} rr_sqlite_store;

/* The operations tables, one per concern (see store.h). */
extern const rr_store_index_ops rr_sqlite_index_ops;
extern const rr_store_identity_ops rr_sqlite_identity_ops;
extern const rr_store_audit_ops rr_sqlite_audit_ops;
extern const rr_store_ai_ops rr_sqlite_ai_ops;
extern const rr_store_annotations_ops rr_sqlite_annotations_ops;
extern const rr_store_report_templates_ops rr_sqlite_report_templates_ops;
extern const rr_store_report_outputs_ops rr_sqlite_report_outputs_ops;
extern const rr_store_reports_ops rr_sqlite_reports_ops;
extern const rr_store_backup_ops rr_sqlite_backup_ops;

/* RR_ESTORE with "sqlite: <what>: <SQLite's message>". */
int rr_sqlite_fail(char *err, size_t errsize, sqlite3 *db, const char *what);
/* Run SQL without results (several statements allowed). */
int rr_sqlite_exec(sqlite3 *db, const char *sql, char *err, size_t errsize);

/* A write transaction: rr_sqlite_begin takes the write lock and begins an
 * immediate transaction on the writer connection (on failure the lock is
 * released again); rr_sqlite_end commits when `error` is 0, else (or when
 * the commit fails) rolls back, releases the lock and returns the result.
 * Finalise the transaction's statements before rr_sqlite_end. */
int rr_sqlite_begin(rr_sqlite_store *s, char *err, size_t errsize);
int rr_sqlite_end(rr_sqlite_store *s, int error, char *err, size_t errsize);

/* Whether the store can be written (see rr_store_stats): the file system
 * (read-only mount, space left), the files' write permission, and the last
 * write's outcome. Sets kind "" and fault "" when nothing is wrong. */
void rr_sqlite_write_fault(rr_sqlite_store *s, char *kind, size_t kindsize, char *fault, size_t faultsize);

/* A reader connection from the pool (waits for a free one). */
rr_sqlite_conn *rr_sqlite_reader_acquire(rr_sqlite_store *s);
void rr_sqlite_reader_release(rr_sqlite_store *s, rr_sqlite_conn *c);

/* Bind text (NULL binds ""), copied by SQLite. */
void rr_sqlite_bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Copy a text column into a fixed-size field (truncated at a character). */
void rr_sqlite_column_copy(char *dst, size_t size, sqlite3_stmt *st, int col);

/* Reads the current row into a zeroed, counted element (`ctx` is the
 * caller's); < 0 (RR_ENOMEM) when it cannot. */
typedef int (*rr_sqlite_row_reader)(void *elem, sqlite3_stmt *st, void *ctx);

/* Step the prepared `st` to its end, appending one element per row to
 * `list` (of `kind`, see store_list.h), read by `read`. The array holds
 * `first` elements before the first row (an empty answer still has one) and
 * doubles from there. Returns RR_ENOMEM, or RR_ESTORE when a step fails
 * (sqlite3_errmsg says why); what was read stays in the list. */
int rr_sqlite_step_rows(sqlite3_stmt *st, const rr_store_list_kind *kind, void *list, size_t first,
                        rr_sqlite_row_reader read, void *ctx);
/* The sentence for a failure of rr_sqlite_step_rows: "out of memory", or
 * SQLite's message about `what`. Returns `error`. */
int rr_sqlite_rows_fail(int error, char *err, size_t errsize, sqlite3 *db, const char *what);

/* A new list of `kind` (*out; NULL on failure) from a read-only `sql` with
 * at most one text parameter (?1, may be NULL), run on a reader connection.
 * `what` names the query in errors. */
int rr_sqlite_read_list(rr_sqlite_store *s, void **out, const rr_store_list_kind *kind, size_t first, const char *sql,
                        const char *param, rr_sqlite_row_reader read, const char *what, char *err, size_t errsize);

/* Run a statement with up to two bound int64 parameters that returns nothing. */
int rr_sqlite_run_ids(sqlite3 *db, const char *sql, int64_t a, int64_t b, char *err, size_t errsize);

/* One statement for rr_sqlite_read_row and rr_sqlite_write_row: its SQL,
 * how to bind it (bind(st, arg); NULL: no parameters), and the words that
 * name its failures ("prepare user", "read user"). */
typedef struct rr_sqlite_sql {
  const char *sql;
  void (*bind)(sqlite3_stmt *st, const void *arg);
  const void *arg;
  const char *prepare_what, *step_what;
} rr_sqlite_sql;

/* Binders: arg as text ?1 (a const char *, NULL binds ""), as int64 ?1
 * (a const int64_t *). */
void rr_sqlite_bind_text1(sqlite3_stmt *st, const void *arg);
void rr_sqlite_bind_int1(sqlite3_stmt *st, const void *arg);

/* Run a read-only statement on a reader connection and read its first row
 * with read(elem, st, ctx). RR_ENOTFOUND, without a sentence, when there is
 * no row (the caller says what was not found). */
int rr_sqlite_read_row(rr_sqlite_store *s, const rr_sqlite_sql *q, rr_sqlite_row_reader read, void *elem, void *ctx,
                       char *err, size_t errsize);

/* Run one write statement on the writer connection under the write lock;
 * *changes (may be NULL) receives the rows it changed. With `exists` given,
 * a unique-key conflict is RR_EEXISTS with that sentence. */
int rr_sqlite_write_row(rr_sqlite_store *s, const rr_sqlite_sql *q, const char *exists, int64_t *changes, char *err,
                        size_t errsize);


/* Run one statement on db with parameters ?1.. given by `types`, one letter
 * each: 't' text (NULL binds ""), 'n' text or SQL NULL, 'i' int64_t, 'b'
 * blob (const void *, size_t). RR_ESTORE when it fails (sqlite3_errmsg(db)
 * says why; the caller writes the sentence). */
int rr_sqlite_run(sqlite3 *db, const char *sql, const char *types, ...);

/* The first column of the first row of `sql` (one text parameter ?1, may be
 * NULL) as an integer; 0 when there is no row. */
int rr_sqlite_lookup_int(sqlite3 *db, int64_t *out, const char *sql, const char *param, char *err, size_t errsize);

/* The SQL functions of the reports concern (rr_pn_match, see
 * store_sqlite_report_reads.c), registered on every connection. */
int rr_sqlite_register_functions(sqlite3 *db);

/* Text parameters collected while a WHERE clause is built (the worklist's
 * and the reports list's), bound by position when the statement is
 * prepared. */
#define RR_SQLITE_MAX_PARAMS 64
typedef struct rr_sqlite_params {
  char *values[RR_SQLITE_MAX_PARAMS];
  size_t count;
} rr_sqlite_params;

/* Append "?N" to sql for a copy of value[0..len). RR_EFULL, RR_ENOMEM. */
int rr_sqlite_param_add(rr_sqlite_params *p, rr_buf *sql, const char *value, size_t len);
void rr_sqlite_params_free(rr_sqlite_params *p);
/* Prepare sql and bind the parameters (RR_ESTORE: sqlite3_errmsg says why). */
int rr_sqlite_prepare_params(sqlite3 *db, sqlite3_stmt **st, const rr_buf *sql, const rr_sqlite_params *p);
/* " AND <id_column> IN (...)" per folded word of `words` (at most
 * RR_QUERY_MAX_WORDS): each must be the prefix of a search term of `kind`
 * (study_terms: N name, D description, T free text) of the study. */
int rr_sqlite_where_words(rr_buf *sql, rr_sqlite_params *p, const char *id_column, const char *kind,
                          const char *words);

/* The reports concern's reads (store_sqlite_report_reads.c). */
int rr_sqlite_report_list(void *impl, rr_report_row_list **out, const rr_report_query *q, char *err, size_t errsize);
int rr_sqlite_report_has_final(void *impl, bool *out, const char *study_uid_or_orthanc_id, const char *referring,
                               char *err, size_t errsize);
int rr_sqlite_report_opened(void *impl, const char *study_uid, int64_t now, char *err, size_t errsize);
int rr_sqlite_report_timeline(void *impl, rr_report_timeline_list **out, int64_t since, int64_t until, char *err,
                              size_t errsize);
int rr_sqlite_macro_list(void *impl, rr_macro_list **out, const char *username, char *err, size_t errsize);
int rr_sqlite_macro_put(void *impl, const char *username, const char *name, const char *text, int64_t now, char *err,
                        size_t errsize);
int rr_sqlite_macro_remove(void *impl, const char *username, const char *name, char *err, size_t errsize);

/* The worklist reads (store_sqlite_worklist.c) of the index table. */
int rr_sqlite_query_worklist(void *impl, rr_study_list **out, const rr_worklist_query *q, char *err, size_t errsize);
int rr_sqlite_get_study(void *impl, rr_study_detail **out, const char *study_uid, char *err, size_t errsize);

#endif
