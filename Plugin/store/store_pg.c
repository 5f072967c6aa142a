/*
 * store_pg.c - the PostgreSQL backend's open and close: the connection
 * string, the pool (with reconnection of dropped connections), the
 * per-connection cache of prepared statements, the migrations runner and
 * the helpers every concern file shares (store_pg_internal.h).
 *
 * Migrations are the embedded files Resources/postgresql/NNN_<name>.sql;
 * NNN is the schema version each one brings. Each is applied in its own
 * transaction that first takes one advisory transaction lock, then checks
 * rr_schema_version: several nodes starting at once apply each migration
 * exactly once and wait for one another.
 */
#include "store_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_internal.h"
#include "util/embedded.h"
#include "util/errors.h"
#include "util/str.h"

#define MIGRATIONS_PREFIX "postgresql/"
#define MAX_MIGRATIONS 64
/* pg_advisory_xact_lock key of the migrations: "RRMIGRAT" as an int64 */
#define MIGRATION_LOCK_KEY "5931040491331174740"
#define TX_ATTEMPTS 5

typedef struct migration {
  int version;
  const rr_embedded_file *file;
} migration;

/* ------------------------------------------------------------ migrations */

/* The embedded migrations sorted by version; returns their count. */
static int list_migrations(migration *out, int max)
{
  int n = 0, i, j, v;
  size_t plen = strlen(MIGRATIONS_PREFIX);
  const char *name;
  migration tmp;

  for (i = 0; i < (int)rr_resources_count && n < max; i++) {
    name = rr_resources_files[i].path;
    if (strncmp(name, MIGRATIONS_PREFIX, plen) != 0 || sscanf(name + plen, "%3d_", &v) != 1 || v <= 0)
      continue;
    out[n].version = v;
    out[n].file = &rr_resources_files[i];
    for (j = n++; j > 0 && out[j - 1].version > out[j].version; j--) {
      tmp = out[j - 1];
      out[j - 1] = out[j];
      out[j] = tmp;
    }
  }
  return n;
}

int rr_store_pg_latest_schema(void)
{
  migration m[MAX_MIGRATIONS];
  int n = list_migrations(m, MAX_MIGRATIONS);
  return n > 0 ? m[n - 1].version : 0;
}

/* ------------------------------------------------------------ connection string */

/* Append " key='value'" (quotes and backslashes escaped) to b. */
static int put_param(rr_buf *b, const char *key, const char *value)
{
  int error;

  if ((error = rr_buf_printf(b, "%s%s='", b->len > 0 ? " " : "", key)) < 0)
    return error;
  for (; *value; value++)
    if ((*value == '\'' || *value == '\\' ? (error = rr_buf_putc(b, '\\')) : 0) < 0 ||
        (error = rr_buf_putc(b, *value)) < 0)
      return error;
  return rr_buf_putc(b, '\'');
}

static bool is_set(const char *s)
{
  return s != NULL && s[0] != '\0';
}

/* The options as one key=value connection string: the user's string (a
 * key=value list or a URI, parsed by libpq) with the password, sslmode,
 * sslrootcert and connect_timeout of the options over it. */
static int build_conninfo(char **out, const rr_pg_options *o, char *err, size_t errsize)
{
  PQconninfoOption *opts, *p;
  char *perr = NULL, timeout[16];
  rr_buf b;
  int error = 0;
  bool has_app = false;

  *out = NULL;
  if ((opts = PQconninfoParse(o->conninfo, &perr)) == NULL) {
    error = rr_fail(err, errsize, RR_EINVAL, "postgresql: the connection string is not valid: %s",
                    perr ? perr : "out of memory");
    PQfreemem(perr);
    return error;
  }
  rr_buf_init(&b, 16384);
  snprintf(timeout, sizeof(timeout), "%d", o->connect_timeout_s);
  for (p = opts; p->keyword != NULL && error == 0; p++) {
    const char *v = p->val;
    if (strcmp(p->keyword, "password") == 0 && is_set(o->password))
      v = o->password;
    else if (strcmp(p->keyword, "sslmode") == 0 && is_set(o->sslmode))
      v = o->sslmode;
    else if (strcmp(p->keyword, "sslrootcert") == 0 && is_set(o->sslrootcert))
      v = o->sslrootcert;
    else if (strcmp(p->keyword, "connect_timeout") == 0)
      v = timeout;
    else if (strcmp(p->keyword, "client_encoding") == 0)
      v = "UTF8";
    if (strcmp(p->keyword, "application_name") == 0 && is_set(v))
      has_app = true;
    if (is_set(v))
      error = put_param(&b, p->keyword, v);
  }
  if (error == 0 && !has_app)
    error = put_param(&b, "application_name", "orthanc-reading-room");
  PQconninfoFree(opts);
  if (error == 0 && (error = rr_buf_detach(out, &b)) == 0)
    return 0;
  rr_buf_dispose(&b);
  return rr_fail(err, errsize, RR_ENOMEM, "postgresql: the connection string is too long");
}

/* ------------------------------------------------------------ connections */

/* libpq's message on one line, without its trailing newline. */
static void copy_message(char *dst, size_t size, const char *msg)
{
  size_t n, i;

  n = rr_str_copy(dst, size, msg ? msg : "");
  for (i = 0; i < n; i++)
    if (dst[i] == '\n' || dst[i] == '\r')
      dst[i] = ' ';
  while (n > 0 && dst[n - 1] == ' ')
    dst[--n] = '\0';
}

/* Notices ("relation exists, skipping") are not for Orthanc's log. */
static void ignore_notice(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

static void conn_forget(rr_pg_conn *c)
{
  c->prepared_count = 0;
  memset(c->prepared, 0, sizeof(c->prepared));
}

/* Connect (or reconnect) c. */
static int conn_open(rr_pg_store *s, rr_pg_conn *c, char *err, size_t errsize)
{
  char msg[512];
  int error;

  if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK)
    return 0;
  PQfinish(c->pg);
  conn_forget(c);
  c->pg = PQconnectdb(s->conninfo);
  if (c->pg != NULL && PQstatus(c->pg) == CONNECTION_OK) {
    PQsetNoticeProcessor(c->pg, ignore_notice, NULL);
    /* This session's planner only: the index is small and read from
     * memory or SSD, so index probes are cheap (PostgreSQL's default of 4
     * assumes spinning disks and made the worklist's word searches read
     * every study instead of probing the matching ones). */
    PQclear(PQexec(c->pg, "SET random_page_cost = 1.1"));
    return 0;
  }
  copy_message(msg, sizeof(msg), c->pg ? PQerrorMessage(c->pg) : "out of memory");
  rr_str_copy(c->last_state, sizeof(c->last_state), "08001");
  copy_message(c->last_message, sizeof(c->last_message), msg);
  error = rr_fail(err, errsize, RR_ESTORE, "postgresql: cannot connect to the server: %s", msg);
  PQfinish(c->pg);
  c->pg = NULL;
  return error;
}

bool rr_pg_conn_lost(const rr_pg_conn *c)
{
  return c->pg == NULL || PQstatus(c->pg) != CONNECTION_OK;
}

int rr_pg_acquire(rr_pg_store *s, rr_pg_conn **out, char *err, size_t errsize)
{
  rr_pg_conn *c = NULL;
  unsigned i;
  int error;

  *out = NULL;
  pthread_mutex_lock(&s->pool_lock);
  while (c == NULL) {
    /* prefer a connection that is open already */
    for (i = 0; i < s->conn_count; i++)
      if (!s->conns[i].in_use && (c == NULL || (c->pg == NULL && s->conns[i].pg != NULL)))
        c = &s->conns[i];
    if (c == NULL)
      pthread_cond_wait(&s->pool_cond, &s->pool_lock);
  }
  c->in_use = 1;
  pthread_mutex_unlock(&s->pool_lock);
  if ((error = conn_open(s, c, err, errsize)) < 0) {
    rr_pg_release(s, c);
    return error;
  }
  *out = c;
  return 0;
}

void rr_pg_release(rr_pg_store *s, rr_pg_conn *c)
{
  if (c == NULL)
    return;
  /* a connection left inside a transaction (a failure path) is reset */
  if (c->pg != NULL && PQtransactionStatus(c->pg) != PQTRANS_IDLE && PQstatus(c->pg) == CONNECTION_OK)
    PQclear(PQexec(c->pg, "ROLLBACK"));
  pthread_mutex_lock(&s->pool_lock);
  c->in_use = 0;
  pthread_cond_signal(&s->pool_cond);
  pthread_mutex_unlock(&s->pool_lock);
}

/* ------------------------------------------------------------ statements */

/* Map a finished result to a code, noting the failure on c. */
static int result_code(rr_pg_conn *c, const PGresult *r)
{
  ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  const char *state, *msg;

  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) {
    c->last_state[0] = '\0';
    c->last_message[0] = '\0';
    return 0;
  }
  state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  /* the primary message only: the detail may quote the row's values */
  msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
  if (msg == NULL)
    msg = PQerrorMessage(c->pg);
  if (state == NULL && rr_pg_conn_lost(c))
    state = "08006";
  rr_str_copy(c->last_state, sizeof(c->last_state), state ? state : "XX000");
  copy_message(c->last_message, sizeof(c->last_message), msg);
  if (strcmp(c->last_state, "23505") == 0)
    return RR_EEXISTS;
  if (strcmp(c->last_state, "40001") == 0 || strcmp(c->last_state, "40P01") == 0)
    return RR_ECONFLICT;
  return RR_ESTORE;
}

/* The highest $n of sql outside quoted text. */
static int highest_param(const char *sql)
{
  int max = 0, v;
  char quote = 0;

  for (; *sql; sql++) {
    if (quote != 0) {
      if (*sql == quote)
        quote = 0;
    } else if (*sql == '\'' || *sql == '"') {
      quote = *sql;
    } else if (*sql == '$' && sql[1] >= '1' && sql[1] <= '9') {
      v = (int)strtol(sql + 1, NULL, 10);
      if (v > max)
        max = v;
    }
  }
  return max;
}

/* The name of sql's prepared statement on c, preparing it the first time;
 * NULL (and *error set) when it cannot be prepared, or name "" when the
 * cache is full (the statement then runs unnamed). */
static const char *prepared_name(rr_pg_conn *c, const char *sql, int n, const Oid *types, char *name, size_t size,
                                 int *error)
{
  unsigned i;
  PGresult *r;

  *error = 0;
  for (i = 0; i < c->prepared_count; i++)
    if (c->prepared[i] == sql) {
      snprintf(name, size, "s%u", i);
      return name;
    }
  /* the parameter letters must match the statement's $n (a caller's bug
   * otherwise: refuse it before any value is read) */
  if (highest_param(sql) != n) {
    rr_str_copy(c->last_state, sizeof(c->last_state), "XX000");
    snprintf(c->last_message, sizeof(c->last_message), "the statement has %d parameters, %d were given (a bug)",
             highest_param(sql), n);
    *error = RR_ESTORE;
    return NULL;
  }
  if (c->prepared_count >= RR_PG_MAX_PREPARED) {
    name[0] = '\0';
    return name;
  }
  snprintf(name, size, "s%u", c->prepared_count);
  r = PQprepare(c->pg, name, sql, n, types);
  if ((*error = result_code(c, r)) < 0) {
    PQclear(r);
    return NULL;
  }
  PQclear(r);
  c->prepared[c->prepared_count++] = sql;
  return name;
}

typedef struct bound {
  const char *values[RR_PG_MAX_PARAMS];
  int lengths[RR_PG_MAX_PARAMS];
  int formats[RR_PG_MAX_PARAMS];
  Oid types[RR_PG_MAX_PARAMS];
  char numbers[RR_PG_MAX_PARAMS][32];
  int n;
} bound;

/* The types of the parameters `types` describes. RR_EINVAL for an
 * unknown letter or too many. */
static int type_oids(bound *b, const char *types)
{
  static const char letters[] = "tnidBb";
  static const Oid oids[] = {25, 25, 20, 701, 16, 17}; /* text, text, int8, float8, bool, bytea */
  const char *t, *at;

  for (b->n = 0, t = types ? types : ""; *t; t++, b->n++) {
    if (b->n >= RR_PG_MAX_PARAMS || (at = strchr(letters, *t)) == NULL)
      return RR_EINVAL;
    b->types[b->n] = oids[at - letters];
  }
  return 0;
}

/* Collect the parameters described by `types` (checked by type_oids)
 * from ap. */
static int bind_params(bound *b, const char *types, va_list ap)
{
  const char *t;
  int i;

  memset(b->lengths, 0, sizeof(b->lengths));
  memset(b->formats, 0, sizeof(b->formats));
  for (i = 0, t = types ? types : ""; *t; t++, i++) {
    switch (*t) {
    case 't':
      b->values[i] = va_arg(ap, const char *);
      if (b->values[i] == NULL)
        b->values[i] = "";
      b->types[i] = 25; /* text */
      break;
    case 'n':
      b->values[i] = va_arg(ap, const char *);
      b->types[i] = 25;
      break;
    case 'i':
      snprintf(b->numbers[i], sizeof(b->numbers[i]), "%lld", (long long)va_arg(ap, int64_t));
      b->values[i] = b->numbers[i];
      b->types[i] = 20; /* int8 */
      break;
    case 'd':
      snprintf(b->numbers[i], sizeof(b->numbers[i]), "%.17g", va_arg(ap, double));
      b->values[i] = b->numbers[i];
      b->types[i] = 701; /* float8 */
      break;
    case 'B':
      b->values[i] = va_arg(ap, int) ? "t" : "f";
      b->types[i] = 16; /* bool */
      break;
    case 'b':
      b->values[i] = va_arg(ap, const void *);
      b->lengths[i] = (int)va_arg(ap, size_t);
      b->formats[i] = 1;
      b->types[i] = 17; /* bytea */
      if (b->values[i] == NULL)
        b->values[i] = "";
      break;
    default:
      return RR_EINVAL;
    }
  }
  return 0;
}

int rr_pg_queryv(rr_pg_conn *c, PGresult **out, const char *sql, const char *types, va_list ap)
{
  bound b;
  char name[16];
  const char *stmt;
  PGresult *r;
  int error;

  if (out != NULL)
    *out = NULL;
  if (type_oids(&b, types) < 0) {
    rr_str_copy(c->last_state, sizeof(c->last_state), "XX000");
    rr_str_copy(c->last_message, sizeof(c->last_message), "invalid parameter types (a bug)");
    return RR_ESTORE;
  }
  if ((stmt = prepared_name(c, sql, b.n, b.types, name, sizeof(name), &error)) == NULL)
    return error;
  bind_params(&b, types, ap);
  if (stmt[0] != '\0')
    r = PQexecPrepared(c->pg, stmt, b.n, b.values, b.lengths, b.formats, 0);
  else
    r = PQexecParams(c->pg, sql, b.n, b.types, b.values, b.lengths, b.formats, 0);
  if ((error = result_code(c, r)) < 0 || out == NULL)
    PQclear(r);
  else
    *out = r;
  if (error < 0 && rr_pg_conn_lost(c))
    conn_forget(c);
  return error;
}

int rr_pg_query(rr_pg_conn *c, PGresult **out, const char *sql, const char *types, ...)
{
  va_list ap;
  int error;

  va_start(ap, types);
  error = rr_pg_queryv(c, out, sql, types, ap);
  va_end(ap);
  return error;
}

int rr_pg_fail(char *err, size_t errsize, int error, const rr_pg_conn *c, const char *what)
{
  int code = error == RR_EEXISTS ? RR_EEXISTS : RR_ESTORE;
  return rr_fail(err, errsize, code, "postgresql: %s: %s", what, c && c->last_message[0] ? c->last_message : "failed");
}

/* Remember whether the last write failed for another reason than a
 * conflict or a duplicate, and why (rr_store_stats' write fault); `state`
 * is the SQLSTATE of the failure. */
static void note_write(rr_pg_store *s, int error, const char *state)
{
  int failed = error < 0 && error != RR_EEXISTS && error != RR_ECONFLICT && error != RR_ENOTFOUND &&
               error != RR_ESTALE && error != RR_EDENIED && error != RR_EINVAL;

  if (failed && strcmp(state, "25006") == 0)
    failed = RR_PG_WRITE_READ_ONLY;
  else if (failed && strncmp(state, "53", 2) == 0)
    failed = RR_PG_WRITE_FULL;
  else if (failed)
    failed = RR_PG_WRITE_FAILED;
  __atomic_store_n(&s->last_write_failed, failed, __ATOMIC_RELAXED);
}

static bool is_read(const char *sql)
{
  while (*sql == ' ' || *sql == '\n' || *sql == '\t')
    sql++;
  return strncmp(sql, "SELECT", 6) == 0 || strncmp(sql, "WITH", 4) == 0 || strncmp(sql, "select", 6) == 0;
}

int rr_pg_run(rr_pg_store *s, PGresult **out, const char *what, char *err, size_t errsize, const char *sql,
              const char *types, ...)
{
  rr_pg_conn *c = NULL;
  va_list ap;
  int error, attempt;
  char state[6] = "";

  if (out != NULL)
    *out = NULL;
  for (attempt = 0; attempt < 2; attempt++) {
    if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
      break;
    va_start(ap, types);
    error = rr_pg_queryv(c, out, sql, types, ap);
    va_end(ap);
    /* a pooled connection the server dropped (restart): once more on a new one */
    if (error < 0 && rr_pg_conn_lost(c) && attempt == 0) {
      rr_pg_release(s, c);
      continue;
    }
    if (error < 0)
      rr_pg_fail(err, errsize, error, c, what);
    rr_str_copy(state, sizeof(state), c->last_state);
    rr_pg_release(s, c);
    break;
  }
  if (!is_read(sql))
    note_write(s, error, state);
  return error;
}

/* ------------------------------------------------------------ transactions */

static void backoff(int attempt)
{
  struct timespec ts;
  long ms = 10L << (attempt < 3 ? attempt : 3); /* 10, 20, 40, 80 */

  ms += rand() % 10;
  ts.tv_sec = 0;
  ts.tv_nsec = ms * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

static int exec_simple(rr_pg_conn *c, const char *sql)
{
  PGresult *r = PQexec(c->pg, sql);
  int error = result_code(c, r);

  PQclear(r);
  if (error < 0 && rr_pg_conn_lost(c))
    conn_forget(c);
  return error;
}

/* One attempt: BEGIN, fn, COMMIT (ROLLBACK when anything failed). */
static int tx_once(rr_pg_conn *c, rr_pg_tx_fn fn, void *ctx, char *err, size_t errsize)
{
  int error;

  if ((error = exec_simple(c, "BEGIN")) < 0)
    return rr_pg_fail(err, errsize, error, c, "beginning a transaction");
  if ((error = fn(c, ctx, err, errsize)) == 0 && (error = exec_simple(c, "COMMIT")) < 0 && error != RR_ECONFLICT)
    rr_pg_fail(err, errsize, error, c, "committing");
  if (error < 0 && !rr_pg_conn_lost(c))
    exec_simple(c, "ROLLBACK");
  return error;
}

int rr_pg_tx(rr_pg_store *s, rr_pg_tx_fn fn, void *ctx, char *err, size_t errsize)
{
  rr_pg_conn *c = NULL;
  int error = 0, attempt;
  bool reconnected = false;
  char state[6] = "";

  for (attempt = 0; attempt < TX_ATTEMPTS; attempt++) {
    if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
      break;
    error = tx_once(c, fn, ctx, err, errsize);
    /* a dropped connection before the commit: nothing was written */
    if (error < 0 && rr_pg_conn_lost(c) && !reconnected) {
      reconnected = true;
      rr_pg_release(s, c);
      attempt--;
      continue;
    }
    rr_str_copy(state, sizeof(state), c->last_state);
    rr_pg_release(s, c);
    if (error != RR_ECONFLICT)
      break;
    if (attempt + 1 < TX_ATTEMPTS)
      backoff(attempt);
  }
  if (error == RR_ECONFLICT)
    error = rr_fail(err, errsize, RR_ESTORE, "postgresql: the transaction kept conflicting with others (%d attempts)",
                    TX_ATTEMPTS);
  note_write(s, error, state);
  return error;
}

/* ------------------------------------------------------------ column readers */

void rr_pg_copy(char *dst, size_t size, const PGresult *r, int row, int col)
{
  size_t len;
  const char *v;

  if (size == 0)
    return;
  if (PQgetisnull(r, row, col)) {
    dst[0] = '\0';
    return;
  }
  v = PQgetvalue(r, row, col);
  len = (size_t)PQgetlength(r, row, col);
  if (len >= size) {
    len = size - 1;
    while (len > 0 && ((unsigned char)v[len] & 0xC0) == 0x80) /* do not cut a character */
      len--;
  }
  rr_str_copyn(dst, size, v, len);
}

char *rr_pg_strdup(const PGresult *r, int row, int col)
{
  size_t len = PQgetisnull(r, row, col) ? 0 : (size_t)PQgetlength(r, row, col);
  char *s = malloc(len + 1);

  if (s == NULL)
    return NULL;
  memcpy(s, len ? PQgetvalue(r, row, col) : "", len);
  s[len] = '\0';
  return s;
}

int64_t rr_pg_int(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? 0 : (int64_t)strtoll(PQgetvalue(r, row, col), NULL, 10);
}

double rr_pg_double(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) ? 0 : strtod(PQgetvalue(r, row, col), NULL);
}

bool rr_pg_bool(const PGresult *r, int row, int col)
{
  return !PQgetisnull(r, row, col) && PQgetvalue(r, row, col)[0] == 't';
}

bool rr_pg_null(const PGresult *r, int row, int col)
{
  return PQgetisnull(r, row, col) != 0;
}

int rr_pg_bytea(void **out, size_t *len, const PGresult *r, int row, int col)
{
  unsigned char *raw;
  size_t n = 0;

  *out = NULL;
  *len = 0;
  if (PQgetisnull(r, row, col))
    return 0;
  if ((raw = PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), &n)) == NULL)
    return RR_ENOMEM;
  if ((*out = malloc(n ? n : 1)) == NULL) {
    PQfreemem(raw);
    return RR_ENOMEM;
  }
  memcpy(*out, raw, n);
  *len = n;
  PQfreemem(raw);
  return 0;
}

int rr_pg_rows(const PGresult *r, const rr_store_list_kind *kind, void *list, size_t first, rr_pg_row_reader read,
               void *ctx)
{
  size_t cap = 0;
  int row, n = PQntuples(r), error;
  void *elem;

  if ((error = rr_store_list_reserve(kind, list, &cap, first)) < 0)
    return error;
  for (row = 0; row < n; row++) {
    if ((elem = rr_store_list_push(kind, list, &cap, first)) == NULL)
      return RR_ENOMEM;
    if ((error = read(elem, r, row, ctx)) < 0)
      return error;
  }
  return 0;
}

/* ------------------------------------------------------------ dynamic parameters */

int rr_pg_param_add(rr_pg_params *p, rr_buf *sql, const char *value, size_t len)
{
  char *copy;

  if (p->count >= RR_PG_MAX_PARAMS)
    return RR_EFULL;
  if ((copy = malloc(len + 1)) == NULL)
    return RR_ENOMEM;
  memcpy(copy, value, len);
  copy[len] = '\0';
  if (rr_buf_printf(sql, "$%zu", p->count + 1) < 0) {
    free(copy);
    return RR_ENOMEM;
  }
  p->values[p->count++] = copy;
  return 0;
}

void rr_pg_params_free(rr_pg_params *p)
{
  size_t i;

  if (p == NULL)
    return;
  for (i = 0; i < p->count; i++)
    free(p->values[i]);
  p->count = 0;
}

int rr_pg_query_params(rr_pg_conn *c, PGresult **out, const rr_buf *sql, const rr_pg_params *p)
{
  PGresult *r;
  int error;

  if (out != NULL)
    *out = NULL;
  r = PQexecParams(c->pg, sql->ptr ? sql->ptr : "", (int)p->count, NULL, (const char *const *)p->values, NULL, NULL,
                   0);
  if ((error = result_code(c, r)) < 0 || out == NULL)
    PQclear(r);
  else
    *out = r;
  if (error < 0 && rr_pg_conn_lost(c))
    conn_forget(c);
  return error;
}

/* ------------------------------------------------------------ migrate */

/* Apply migration m unless it is there already (its own transaction, under
 * the advisory lock); *newest receives the highest version recorded. */
static int migrate_one(rr_pg_conn *c, const migration *m, int *newest, char *err, size_t errsize)
{
  static const char lock_sql[] = "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")";
  static const char table_sql[] = "CREATE TABLE IF NOT EXISTS rr_schema_version ("
                                  "version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)";
  static const char state_sql[] = "SELECT COALESCE(MAX(version), 0), "
                                  "EXISTS (SELECT 1 FROM rr_schema_version WHERE version = $1) FROM rr_schema_version";
  static const char mark_sql[] = "INSERT INTO rr_schema_version (version, applied_at) VALUES ($1, $2)";
  char what[160];
  PGresult *r = NULL;
  int error;
  bool present;

  snprintf(what, sizeof(what), "applying migration %s", m->file->path);
  if ((error = exec_simple(c, "BEGIN")) < 0 || (error = exec_simple(c, lock_sql)) < 0 ||
      (error = exec_simple(c, table_sql)) < 0 || (error = rr_pg_query(c, &r, state_sql, "i", (int64_t)m->version)) < 0)
    goto fail;
  *newest = (int)rr_pg_int(r, 0, 0);
  present = rr_pg_bool(r, 0, 1);
  PQclear(r);
  if (present || *newest > rr_store_pg_latest_schema()) {
    exec_simple(c, "ROLLBACK");
    return 0;
  }
  if ((error = exec_simple(c, (const char *)m->file->data)) < 0 ||
      (error = rr_pg_query(c, NULL, mark_sql, "ii", (int64_t)m->version, (int64_t)time(NULL))) < 0 ||
      (error = exec_simple(c, "COMMIT")) < 0)
    goto fail;
  if (*newest < m->version)
    *newest = m->version;
  return 0;
fail:
  rr_pg_fail(err, errsize, RR_ESTORE, c, what);
  if (!rr_pg_conn_lost(c))
    exec_simple(c, "ROLLBACK");
  return RR_ESTORE;
}

static int migrate(rr_pg_store *s, char *err, size_t errsize)
{
  migration m[MAX_MIGRATIONS];
  int n = list_migrations(m, MAX_MIGRATIONS), i, newest = 0, latest = rr_store_pg_latest_schema(), error = 0;
  rr_pg_conn *c = NULL;

  if ((error = rr_pg_acquire(s, &c, err, errsize)) < 0)
    return error;
  for (i = 0; i < n && error == 0; i++) {
    error = migrate_one(c, &m[i], &newest, err, errsize);
    if (error == 0 && newest > latest)
      error = rr_fail(err, errsize, RR_ESTORE,
                      "postgresql: database schema version %d is newer than this plugin knows (%d): "
                      "use a newer plugin or another database",
                      newest, latest);
  }
  rr_pg_release(s, c);
  return error;
}

/* ------------------------------------------------------------ open / close */

static void pg_close(void *impl)
{
  rr_pg_store *s = impl;
  unsigned i;

  if (s == NULL)
    return;
  rr_pg_cluster_free(s->cluster);
  for (i = 0; i < RR_PG_MAX_CONNS; i++)
    PQfinish(s->conns[i].pg);
  if (s->conninfo != NULL) {
    /* it holds the password */
    memset(s->conninfo, 0, strlen(s->conninfo));
    free(s->conninfo);
  }
  pthread_mutex_destroy(&s->pool_lock);
  pthread_cond_destroy(&s->pool_cond);
  free(s);
}

/* Which tables of other concerns exist (rr_pg_store.optional_tables). */
static int find_optional_tables(rr_pg_store *s, char *err, size_t errsize)
{
  static const char sql[] = "SELECT to_regclass('study_ai') IS NOT NULL, to_regclass('study_report') IS NOT NULL"
                            " AND to_regclass('reports') IS NOT NULL AND to_regclass('report_acks') IS NOT NULL";
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_run(s, &r, "reading the schema", err, errsize, sql, "")) < 0)
    return error;
  s->optional_tables = (rr_pg_bool(r, 0, 0) ? RR_PG_HAS_STUDY_AI : 0u) | (rr_pg_bool(r, 0, 1) ? RR_PG_HAS_REPORTS : 0u);
  PQclear(r);
  return 0;
}

static int check_options(const rr_pg_options *o, char *err, size_t errsize)
{
  static const char *const modes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
  size_t i;

  if (o == NULL || !is_set(o->conninfo))
    return rr_fail(err, errsize, RR_EINVAL, "postgresql: no connection string");
  if (o->pool_size < 1 || o->pool_size > RR_PG_MAX_CONNS)
    return rr_fail(err, errsize, RR_EINVAL, "postgresql: the pool size must be between 1 and %d", RR_PG_MAX_CONNS);
  if (o->connect_timeout_s < 1 || o->connect_timeout_s > 600)
    return rr_fail(err, errsize, RR_EINVAL, "postgresql: the connect timeout must be between 1 and 600 seconds");
  if (!is_set(o->sslmode))
    return 0;
  for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
    if (strcmp(o->sslmode, modes[i]) == 0)
      return 0;
  return rr_fail(err, errsize, RR_EINVAL,
                 "postgresql: sslmode must be disable, allow, prefer, require, verify-ca or verify-full");
}

int rr_store_pg_open(rr_store **out, const rr_pg_options *opts, char *err, size_t errsize)
{
  rr_pg_store *s = NULL;
  rr_store *store = NULL;
  int error = 0;

  *out = NULL;
  if ((error = check_options(opts, err, errsize)) < 0)
    return error;
  if ((s = calloc(1, sizeof(*s))) == NULL || (store = calloc(1, sizeof(*store))) == NULL) {
    free(s);
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  }
  pthread_mutex_init(&s->pool_lock, NULL);
  pthread_cond_init(&s->pool_cond, NULL);
  s->conn_count = opts->pool_size;
  store->name = "postgresql";
  store->close = pg_close;
  store->impl = s;
  store->index = &rr_pg_index_ops;
  store->identity = &rr_pg_identity_ops;
  store->audit = &rr_pg_audit_ops;
  store->ai = &rr_pg_ai_ops;
  store->annotations = &rr_pg_annotations_ops;
  store->report_templates = &rr_pg_report_templates_ops;
  store->report_outputs = &rr_pg_report_outputs_ops;
  store->reports = &rr_pg_reports_ops;
  store->cluster = &rr_pg_cluster_ops;
  store->backup = &rr_pg_backup_ops;

  if ((error = build_conninfo(&s->conninfo, opts, err, errsize)) < 0 || (error = migrate(s, err, errsize)) < 0 ||
      (error = find_optional_tables(s, err, errsize)) < 0 || (error = rr_pg_cluster_new(&s->cluster, s, err, errsize)) < 0)
    goto out;
  *out = store;
  store = NULL;
out:
  rr_store_free(store);
  return error;
}
