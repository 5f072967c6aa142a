/*
 * store_sqlite.c - the SQLite backend's open and close: migrations, the
 * writer connection and the reader pool, and the helpers every concern file
 * shares (store_sqlite_internal.h).
 */
#include "store_sqlite.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "store_list.h"
#include "store_sqlite_internal.h"
#include "util/embedded.h"
#include "util/errors.h"
#include "util/str.h"

static const char *const migrations[] = {
  "sqlite/001_initial.sql",
  "sqlite/002_access_control.sql",
  "sqlite/003_ai_analyses.sql",
  "sqlite/004_study_ai_state.sql",
  "sqlite/005_ai_confidence_band.sql",
  "sqlite/006_annotations.sql",
  "sqlite/007_reports.sql",
  "sqlite/008_report_templates.sql",
  "sqlite/009_report_outputs.sql",
  "sqlite/010_backup.sql",
};
#define MIGRATION_COUNT ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define MMAP_BYTES (256 * 1024 * 1024)

int rr_sqlite_fail(char *err, size_t errsize, sqlite3 *db, const char *what)
{
  return rr_fail(err, errsize, RR_ESTORE, "sqlite: %s: %s", what, sqlite3_errmsg(db));
}

int rr_store_sqlite_latest_schema(void)
{
  return MIGRATION_COUNT;
}

/* ---------------------------------------------------------------- connections */

int rr_sqlite_exec(sqlite3 *db, const char *sql, char *err, size_t errsize)
{
  char *msg = NULL;
  int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK) {
    rr_fail(err, errsize, RR_ESTORE, "sqlite: %s", msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return RR_ESTORE;
  }
  return 0;
}

static int conn_open(rr_sqlite_conn *c, const char *path, int busy_ms, int readonly, char *err, size_t errsize)
{
  int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE));
  int rc, error;

  rc = sqlite3_open_v2(path, &c->db, flags, NULL);
  if (rc != SQLITE_OK) {
    error = rr_fail(err, errsize, RR_ESTORE, "sqlite: cannot open database '%s': %s", path,
                 c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
    sqlite3_close(c->db);
    c->db = NULL;
    return error;
  }
  sqlite3_busy_timeout(c->db, busy_ms);
  sqlite3_extended_result_codes(c->db, 1);
  if (rr_sqlite_register_functions(c->db) < 0)
    return rr_sqlite_fail(err, errsize, c->db, "registering the SQL functions");
  if (!readonly && (error = rr_sqlite_exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", err, errsize)) < 0)
    return error;
  if ((error = rr_sqlite_exec(c->db, "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16384;", err, errsize)) < 0)
    return error;
  /* memory-mapped reads share the OS page cache between connections */
  sqlite3_file_control(c->db, "main", SQLITE_FCNTL_MMAP_SIZE, &(sqlite3_int64){MMAP_BYTES});
  return 0;
}

rr_sqlite_conn *rr_sqlite_reader_acquire(rr_sqlite_store *s)
{
  unsigned i;
  rr_sqlite_conn *c = NULL;

  pthread_mutex_lock(&s->pool_lock);
  while (c == NULL) {
    for (i = 0; i < s->reader_count; i++) {
      if (!s->readers[i].in_use) {
        c = &s->readers[i];
        c->in_use = 1;
        break;
      }
    }
    if (c == NULL)
      pthread_cond_wait(&s->pool_cond, &s->pool_lock);
  }
  pthread_mutex_unlock(&s->pool_lock);
  return c;
}

void rr_sqlite_reader_release(rr_sqlite_store *s, rr_sqlite_conn *c)
{
  pthread_mutex_lock(&s->pool_lock);
  c->in_use = 0;
  pthread_cond_signal(&s->pool_cond);
  pthread_mutex_unlock(&s->pool_lock);
}

static int migrate(sqlite3 *db, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int version = 0, i, error = 0;
  char pragma[64];
  const rr_embedded_file *f;

  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "reading schema version");
  if (sqlite3_step(st) == SQLITE_ROW)
    version = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);

  if (version > MIGRATION_COUNT)
    return rr_fail(err, errsize, RR_ESTORE,
                "database schema version %d is newer than this plugin knows (%d): "
                "use a newer plugin or another database file", version, MIGRATION_COUNT);

  for (i = version; i < MIGRATION_COUNT; i++) {
    f = rr_embedded_find(rr_resources_files, rr_resources_count, migrations[i]);
    if (f == NULL)
      return rr_fail(err, errsize, RR_ERROR, "migration %s is not embedded", migrations[i]);
    if ((error = rr_sqlite_exec(db, "BEGIN IMMEDIATE", err, errsize)) < 0)
      return error;
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", i + 1);
    if ((error = rr_sqlite_exec(db, (const char *)f->data, err, errsize)) < 0 ||
        (error = rr_sqlite_exec(db, pragma, err, errsize)) < 0) {
      rr_sqlite_exec(db, "ROLLBACK", NULL, 0);
      return error;
    }
    if ((error = rr_sqlite_exec(db, "COMMIT", err, errsize)) < 0)
      return error;
  }
  return 0;
}

/* ------------------------------------------------------------------ helpers */

/* Write lock held: remember how the last write ended (for write_fault). */
static void note_write(rr_sqlite_store *s, int error)
{
  __atomic_store_n(&s->last_write_rc, error < 0 ? sqlite3_extended_errcode(s->writer.db) : 0, __ATOMIC_RELAXED);
}

int rr_sqlite_begin(rr_sqlite_store *s, char *err, size_t errsize)
{
  int error;

  pthread_mutex_lock(&s->write_lock);
  if ((error = rr_sqlite_exec(s->writer.db, "BEGIN IMMEDIATE", err, errsize)) < 0) {
    note_write(s, error);
    pthread_mutex_unlock(&s->write_lock);
  }
  return error;
}

int rr_sqlite_end(rr_sqlite_store *s, int error, char *err, size_t errsize)
{
  if (error == 0)
    error = rr_sqlite_exec(s->writer.db, "COMMIT", err, errsize);
  note_write(s, error);
  if (error < 0)
    rr_sqlite_exec(s->writer.db, "ROLLBACK", NULL, 0);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

void rr_sqlite_bind_text(sqlite3_stmt *st, int idx, const char *s)
{
  sqlite3_bind_text(st, idx, s ? s : "", -1, SQLITE_TRANSIENT);
}

void rr_sqlite_column_copy(char *dst, size_t size, sqlite3_stmt *st, int col)
{
  const unsigned char *t = sqlite3_column_text(st, col);
  rr_str_copyn(dst, size, (const char *)t, t ? (size_t)sqlite3_column_bytes(st, col) : 0);
}

void rr_sqlite_bind_text1(sqlite3_stmt *st, const void *arg)
{
  rr_sqlite_bind_text(st, 1, arg);
}

void rr_sqlite_bind_int1(sqlite3_stmt *st, const void *arg)
{
  sqlite3_bind_int64(st, 1, *(const int64_t *)arg);
}

int rr_sqlite_read_row(rr_sqlite_store *s, const rr_sqlite_sql *q, rr_sqlite_row_reader read, void *elem, void *ctx,
                       char *err, size_t errsize)
{
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  if (sqlite3_prepare_v2(c->db, q->sql, -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, q->prepare_what);
    goto out;
  }
  if (q->bind != NULL)
    q->bind(st, q->arg);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    if ((error = read(elem, st, ctx)) < 0)
      error = rr_fail(err, errsize, error, "out of memory");
  } else if (rc == SQLITE_DONE) {
    error = RR_ENOTFOUND;
  } else {
    error = rr_sqlite_fail(err, errsize, c->db, q->step_what);
  }
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  return error;
}

int rr_sqlite_write_row(rr_sqlite_store *s, const rr_sqlite_sql *q, const char *exists, int64_t *changes, char *err,
                        size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, error = 0;

  pthread_mutex_lock(&s->write_lock);
  if (sqlite3_prepare_v2(s->writer.db, q->sql, -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, s->writer.db, q->prepare_what);
    goto out;
  }
  if (q->bind != NULL)
    q->bind(st, q->arg);
  rc = sqlite3_step(st);
  if (exists != NULL && (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY))
    error = rr_fail(err, errsize, RR_EEXISTS, "%s", exists);
  else if (rc != SQLITE_DONE)
    error = rr_sqlite_fail(err, errsize, s->writer.db, q->step_what);
  else if (changes != NULL)
    *changes = sqlite3_changes(s->writer.db);
out:
  note_write(s, error == RR_EEXISTS ? 0 : error);
  sqlite3_finalize(st);
  pthread_mutex_unlock(&s->write_lock);
  return error;
}

int rr_sqlite_run_ids(sqlite3 *db, const char *sql, int64_t a, int64_t b, char *err, size_t errsize)
{
  sqlite3_stmt *st = NULL;
  int rc, nparams;

  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
    return rr_sqlite_fail(err, errsize, db, "prepare");
  nparams = sqlite3_bind_parameter_count(st);
  if (nparams >= 1)
    sqlite3_bind_int64(st, 1, a);
  if (nparams >= 2)
    sqlite3_bind_int64(st, 2, b);
  rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return rr_sqlite_fail(err, errsize, db, "update");
  return 0;
}

int rr_sqlite_step_rows(sqlite3_stmt *st, const rr_store_list_kind *kind, void *list, size_t first,
                        rr_sqlite_row_reader read, void *ctx)
{
  size_t cap = 0;
  void *elem;
  int rc, error;

  if ((error = rr_store_list_reserve(kind, list, &cap, first)) < 0)
    return error;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if ((elem = rr_store_list_push(kind, list, &cap, first)) == NULL)
      return RR_ENOMEM;
    if ((error = read(elem, st, ctx)) < 0)
      return error;
  }
  return rc == SQLITE_DONE ? 0 : RR_ESTORE;
}

int rr_sqlite_rows_fail(int error, char *err, size_t errsize, sqlite3 *db, const char *what)
{
  return error == RR_ENOMEM ? rr_fail(err, errsize, RR_ENOMEM, "out of memory") : rr_sqlite_fail(err, errsize, db, what);
}

int rr_sqlite_read_list(rr_sqlite_store *s, void **out, const rr_store_list_kind *kind, size_t first, const char *sql,
                        const char *param, rr_sqlite_row_reader read, const char *what, char *err, size_t errsize)
{
  rr_sqlite_conn *c = rr_sqlite_reader_acquire(s);
  sqlite3_stmt *st = NULL;
  void *list = NULL;
  int error = 0;

  *out = NULL;
  if ((list = rr_store_list_new(kind)) == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto out;
  }
  if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
    error = rr_sqlite_fail(err, errsize, c->db, what);
    goto out;
  }
  if (param != NULL)
    rr_sqlite_bind_text(st, 1, param);
  if ((error = rr_sqlite_step_rows(st, kind, list, first, read, NULL)) < 0) {
    error = rr_sqlite_rows_fail(error, err, errsize, c->db, what);
    goto out;
  }
  *out = list;
  list = NULL;
out:
  sqlite3_finalize(st);
  rr_sqlite_reader_release(s, c);
  rr_store_list_free(kind, list);
  return error;
}

/* ------------------------------------------------------------ write faults */

#define FULL_BELOW_BYTES (1024u * 1024u) /* less free space than this is "full" */

/* A file that exists and cannot be written (ENOENT is fine: not made yet). */
static bool not_writable(const char *path, int *errnum)
{
  if (access(path, W_OK) == 0 || errno == ENOENT)
    return false;
  *errnum = errno;
  return true;
}

void rr_sqlite_write_fault(rr_sqlite_store *s, char *kind, size_t kindsize, char *fault, size_t faultsize)
{
  char dir[4096], wal[4120];
  struct statvfs vfs;
  unsigned long long avail;
  size_t len = rr_str_copy(dir, sizeof(dir), s->path);
  int rc = __atomic_load_n(&s->last_write_rc, __ATOMIC_RELAXED), e = 0;

  rr_str_copy(kind, kindsize, "");
  rr_str_copy(fault, faultsize, "");
  while (len > 0 && dir[len - 1] != '/')
    len--;
  rr_str_copy(dir + len, sizeof(dir) - len, len > 0 ? "" : ".");
  snprintf(wal, sizeof(wal), "%s-wal", s->path);
  if (statvfs(dir, &vfs) == 0 && (vfs.f_flag & ST_RDONLY)) {
    rr_str_copy(kind, kindsize, "read-only");
    snprintf(fault, faultsize, "the store's file system (%s) is mounted read-only", dir);
  } else if (not_writable(s->path, &e) || not_writable(wal, &e) || not_writable(dir, &e)) {
    rr_str_copy(kind, kindsize, "read-only");
    snprintf(fault, faultsize, "the database file %s or its folder is not writable: %s", s->path, strerror(e));
  } else if (statvfs(dir, &vfs) == 0 && (avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize) < FULL_BELOW_BYTES) {
    rr_str_copy(kind, kindsize, "full");
    snprintf(fault, faultsize, "no space left for the store in %s (%llu KiB free)", dir, avail / 1024);
  } else if ((rc & 0xff) == SQLITE_FULL) {
    rr_str_copy(kind, kindsize, "full");
    snprintf(fault, faultsize, "the last write failed: %s", sqlite3_errstr(rc));
  } else if ((rc & 0xff) == SQLITE_READONLY) {
    rr_str_copy(kind, kindsize, "read-only");
    snprintf(fault, faultsize, "the last write failed: %s", sqlite3_errstr(rc));
  } else if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_CANTOPEN) {
    rr_str_copy(kind, kindsize, "io-error");
    snprintf(fault, faultsize, "the last write failed: %s (SQLite code %d)", sqlite3_errstr(rc), rc);
  }
}

/* ---------------------------------------------------------- open / close */

/* Create the directories leading to `path` (Orthanc creates its storage
 * directory only after plugins are initialised). */
static int ensure_parent_dirs(const char *path, char *err, size_t errsize)
{
  char dir[4096];
  size_t i, len = rr_str_copy(dir, sizeof(dir), path);

  while (len > 0 && dir[len - 1] != '/')
    len--;
  if (len <= 1)
    return 0;
  dir[len - 1] = '\0';
  for (i = 1; i <= len - 1; i++) {
    if (dir[i] == '/' || dir[i] == '\0') {
      char saved = dir[i];
      dir[i] = '\0';
      if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return rr_fail(err, errsize, RR_ESTORE, "cannot create directory '%s': %s", dir, strerror(errno));
      dir[i] = saved;
    }
  }
  return 0;
}

static void sqlite_close(void *impl)
{
  rr_sqlite_store *s = impl;
  unsigned i;

  if (s == NULL)
    return;
  for (i = 0; i < s->reader_count; i++)
    sqlite3_close(s->readers[i].db);
  if (s->writer.db != NULL) {
    sqlite3_exec(s->writer.db, "PRAGMA optimize", NULL, NULL, NULL);
    sqlite3_close(s->writer.db);
  }
  pthread_mutex_destroy(&s->write_lock);
  pthread_mutex_destroy(&s->pool_lock);
  pthread_cond_destroy(&s->pool_cond);
  free(s);
}



int rr_store_sqlite_open(rr_store **out, const rr_sqlite_options *opts, char *err, size_t errsize)
{
  rr_sqlite_store *s = NULL;
  rr_store *store = NULL;
  unsigned i;
  int error = 0;

  *out = NULL;
  if (opts == NULL || opts->path == NULL || opts->path[0] == '\0')
    return rr_fail(err, errsize, RR_EINVAL, "no database path");
  if (opts->reader_count < 1 || opts->reader_count > RR_SQLITE_MAX_READERS)
    return rr_fail(err, errsize, RR_EINVAL, "reader connections must be between 1 and %d", RR_SQLITE_MAX_READERS);
  if (!sqlite3_threadsafe())
    return rr_fail(err, errsize, RR_ESTORE, "the SQLite library was built without thread safety");
  if ((s = calloc(1, sizeof(*s))) == NULL || (store = calloc(1, sizeof(*store))) == NULL) {
    free(s);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&s->write_lock, NULL);
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->pool_cond, NULL);
  store->name = "sqlite";
  store->close = sqlite_close;
  store->impl = s;
  store->index = &rr_sqlite_index_ops;
  store->identity = &rr_sqlite_identity_ops;
  store->audit = &rr_sqlite_audit_ops;
  store->ai = &rr_sqlite_ai_ops;
  store->annotations = &rr_sqlite_annotations_ops;
  store->report_templates = &rr_sqlite_report_templates_ops;
  store->report_outputs = &rr_sqlite_report_outputs_ops;
  store->reports = &rr_sqlite_reports_ops;
  store->backup = &rr_sqlite_backup_ops;

  rr_str_copy(s->path, sizeof(s->path), opts->path);
  if ((error = ensure_parent_dirs(opts->path, err, errsize)) < 0)
    goto out;
  if ((error = conn_open(&s->writer, opts->path, opts->busy_timeout_ms, 0, err, errsize)) < 0 ||
      (error = migrate(s->writer.db, err, errsize)) < 0)
    goto out;
  for (i = 0; i < opts->reader_count; i++) {
    if ((error = conn_open(&s->readers[i], opts->path, opts->busy_timeout_ms, 1, err, errsize)) < 0)
      goto out;
    s->reader_count++;
  }
  *out = store;
  store = NULL;
out:
  rr_store_free(store);
  return error;
}

