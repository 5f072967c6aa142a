/*
 * store_pg_cluster.c - the cluster concern (store_cluster.h) on PostgreSQL.
 *
 * Leases are session advisory locks (pg_try_advisory_lock), each taken on a
 * connection of the lease's own, outside the pool: the server releases the
 * lock the moment that connection ends, so a killed node's lease is free at
 * once. Keeping a lease is checked with a round trip on its connection;
 * a lost connection means a lost lease.
 * Signals are NOTIFY on a pooled connection and LISTEN on one listener
 * connection read by a thread of this file, which hands each notification
 * to rr_store_deliver(). After every (re)connection of the listener it
 * delivers "*" on each channel: signals may have been missed meanwhile.
 * Lock keys and channel names are derived from the store's schema
 * (current_schema()) and the name given, so deployments in different
 * schemas of one database never share a lease or hear each other.
 *
 * Threads: every operation may be called from any thread (one mutex);
 * the listener thread runs from the first rr_store_subscribe until the
 * store is closed (rr_pg_cluster_free joins it).
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store_pg_internal.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"

#define MAX_LEASES 8
#define MAX_CHANNELS 8
#define LISTEN_WAIT_MS 5000 /* how long rr_store_subscribe waits for the LISTEN */

typedef struct pg_lease {
  char name[64];
  int64_t key;
  PGconn *pg;
  bool held;
} pg_lease;

typedef struct pg_channel {
  char name[64];   /* as subscribers know it */
  char wire[20];   /* as NOTIFY/LISTEN know it: "rr" + 16 hex digits */
} pg_channel;

struct rr_pg_cluster {
  pthread_mutex_t lock;
  pthread_cond_t cond;   /* the listener's progress (rr_clock_cond_init) */
  char schema[128];
  const char *conninfo;  /* borrowed from the store */
  pg_lease leases[MAX_LEASES];
  size_t lease_count;
  pg_channel channels[MAX_CHANNELS];
  size_t channel_count;
  unsigned requested, listened; /* channel_count asked for / LISTENed on the current connection */
  rr_store *store;
  char node_id[17];      /* 16 hex digits, random per handle */
  pthread_t thread;
  bool started, stopping;
};

/* FNV-1a, 64 bits, of schema "/" kind "/" name. */
static uint64_t derive(const char *schema, const char *kind, const char *name)
{
  const char *parts[5] = {schema, "/", kind, "/", name};
  uint64_t h = 1469598103934665603ULL;
  size_t i;
  const unsigned char *p;

  for (i = 0; i < 5; i++)
    for (p = (const unsigned char *)parts[i]; *p; p++)
      h = (h ^ *p) * 1099511628211ULL;
  return h;
}

static int read_schema(rr_pg_store *s, char *out, size_t size, char *err, size_t errsize)
{
  static const char sql[] = "SELECT current_schema()";
  PGresult *r = NULL;
  int error;

  if ((error = rr_pg_run(s, &r, "reading the schema's name", err, errsize, sql, "")) < 0)
    return error;
  rr_pg_copy(out, size, r, 0, 0);
  PQclear(r);
  return 0;
}

static int take_node_lease(rr_pg_cluster *c, char *err, size_t errsize);

int rr_pg_cluster_new(rr_pg_cluster **out, rr_pg_store *s, char *err, size_t errsize)
{
  rr_pg_cluster *c;
  int error;

  *out = NULL;
  if ((c = calloc(1, sizeof(*c))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  if ((error = read_schema(s, c->schema, sizeof(c->schema), err, errsize)) < 0) {
    free(c);
    return error;
  }
  if (rr_clock_cond_init(&c->cond) < 0) {
    free(c);
    return rr_fail(err, errsize, RR_ERROR, "cannot create a condition variable");
  }
  pthread_mutex_init(&c->lock, NULL);
  c->conninfo = s->conninfo;
  if ((error = take_node_lease(c, err, errsize)) < 0) {
    rr_pg_cluster_free(c);
    return error;
  }
  *out = c;
  return 0;
}

void rr_pg_cluster_free(rr_pg_cluster *c)
{
  size_t i;

  if (c == NULL)
    return;
  pthread_mutex_lock(&c->lock);
  c->stopping = true;
  pthread_mutex_unlock(&c->lock);
  if (c->started)
    pthread_join(c->thread, NULL);
  for (i = 0; i < c->lease_count; i++)
    PQfinish(c->leases[i].pg); /* the server releases the locks */
  pthread_cond_destroy(&c->cond);
  pthread_mutex_destroy(&c->lock);
  free(c);
}

static void quiet(void *arg, const char *message)
{
  (void)arg;
  (void)message;
}

static PGconn *connect_quietly(const char *conninfo)
{
  PGconn *pg = PQconnectdb(conninfo);

  if (pg != NULL && PQstatus(pg) == CONNECTION_OK) {
    PQsetNoticeProcessor(pg, quiet, NULL);
    return pg;
  }
  PQfinish(pg);
  return NULL;
}

/* ------------------------------------------------------------- leases */

static pg_lease *find_lease(rr_pg_cluster *c, const char *name)
{
  size_t i;

  for (i = 0; i < c->lease_count; i++)
    if (strcmp(c->leases[i].name, name) == 0)
      return &c->leases[i];
  if (c->lease_count == MAX_LEASES)
    return NULL;
  rr_str_copy(c->leases[c->lease_count].name, sizeof(c->leases[0].name), name);
  c->leases[c->lease_count].key = (int64_t)derive(c->schema, "lease", name);
  return &c->leases[c->lease_count++];
}

/* One statement on a lease's connection with its key as $1; the first
 * column of the answer as a boolean. RR_ESTORE when the connection failed
 * (it is closed then: a lost connection is a lost lease). */
static int lease_call(pg_lease *l, bool *answer, const char *sql)
{
  char key[24];
  const char *values[1] = {key};
  PGresult *r;
  int ok;

  snprintf(key, sizeof(key), "%lld", (long long)l->key);
  r = PQexecParams(l->pg, sql, 1, NULL, values, NULL, NULL, 0);
  ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
  if (ok && answer != NULL)
    *answer = PQgetvalue(r, 0, 0)[0] == 't';
  PQclear(r);
  if (!ok) {
    PQfinish(l->pg);
    l->pg = NULL;
    l->held = false;
    return RR_ESTORE;
  }
  return 0;
}

static int lease_try_on(rr_pg_cluster *c, bool *held, const char *name, char *err, size_t errsize)
{
  pg_lease *l;
  bool alive = false;
  int error = 0;

  *held = false;
  if (strlen(name) == 0 || strlen(name) >= sizeof(l->name))
    return rr_fail(err, errsize, RR_EINVAL, "a lease's name has 1 to 63 bytes");
  pthread_mutex_lock(&c->lock);
  if ((l = find_lease(c, name)) == NULL) {
    error = rr_fail(err, errsize, RR_EFULL, "too many leases (at most %d)", MAX_LEASES);
    goto out;
  }
  if (l->held && lease_call(l, &alive, "SELECT $1::bigint IS NOT NULL") == 0) {
    *held = true; /* kept: its connection is up, so is the lock */
    goto out;
  }
  if (l->pg == NULL && (l->pg = connect_quietly(c->conninfo)) == NULL) {
    error = rr_fail(err, errsize, RR_ESTORE, "postgresql: cannot connect to take the %s lease", name);
    goto out;
  }
  if (lease_call(l, &l->held, "SELECT pg_try_advisory_lock($1::bigint)") < 0) {
    error = rr_fail(err, errsize, RR_ESTORE, "postgresql: the connection of the %s lease failed", name);
    goto out;
  }
  *held = l->held;
out:
  pthread_mutex_unlock(&c->lock);
  return error;
}

static int pg_lease_try(void *impl, bool *held, const char *name, char *err, size_t errsize)
{
  return lease_try_on(((rr_pg_store *)impl)->cluster, held, name, err, errsize);
}

/* ---------------------------------------------------------- this node */

const char *rr_pg_node_id(const rr_pg_store *s)
{
  return s->cluster->node_id;
}

int rr_pg_node_alive(rr_pg_store *s, bool *alive, const char *node_id, char *err, size_t errsize)
{
  /* one statement, so that the probe's lock is released in its own session */
  static const char sql[] =
    "SELECT CASE WHEN pg_try_advisory_lock($1::bigint) THEN NOT pg_advisory_unlock($1::bigint) ELSE true END";
  char name[64];
  PGresult *r = NULL;
  int error;

  *alive = true;
  if (node_id[0] == '\0' || strcmp(node_id, s->cluster->node_id) == 0)
    return 0;
  snprintf(name, sizeof(name), "node-%s", node_id);
  if ((error = rr_pg_run(s, &r, "asking whether a node is alive", err, errsize, sql, "i",
                         (int64_t)derive(s->cluster->schema, "lease", name))) < 0)
    return error;
  *alive = rr_pg_bool(r, 0, 0);
  PQclear(r);
  return 0;
}

int rr_pg_node_keep(rr_pg_store *s, char *err, size_t errsize)
{
  char name[64];
  bool held = false;
  int error;

  snprintf(name, sizeof(name), "node-%s", s->cluster->node_id);
  if ((error = lease_try_on(s->cluster, &held, name, err, errsize)) < 0)
    return error;
  return held ? 0 : rr_fail(err, errsize, RR_ESTORE, "postgresql: this node's own lease is held by another session");
}

/* This handle's node id (random) and its lease, held for the handle's life:
 * other nodes learn it is gone when the server releases it. */
static int take_node_lease(rr_pg_cluster *c, char *err, size_t errsize)
{
  unsigned char bytes[8];
  char name[64];
  bool held = false;
  size_t i;
  int error;
  FILE *f = fopen("/dev/urandom", "rb");

  if (f == NULL || fread(bytes, 1, sizeof(bytes), f) != sizeof(bytes)) {
    if (f != NULL)
      fclose(f);
    return rr_fail(err, errsize, RR_ERROR, "cannot read /dev/urandom for the node's id");
  }
  fclose(f);
  for (i = 0; i < sizeof(bytes); i++)
    snprintf(c->node_id + 2 * i, sizeof(c->node_id) - 2 * i, "%02x", bytes[i]);
  snprintf(name, sizeof(name), "node-%s", c->node_id);
  if ((error = lease_try_on(c, &held, name, err, errsize)) < 0)
    return error;
  return held ? 0 : rr_fail(err, errsize, RR_ESTORE, "postgresql: the node's own lease is taken (id collision)");
}

static void pg_lease_release(void *impl, const char *name)
{
  rr_pg_cluster *c = ((rr_pg_store *)impl)->cluster;
  size_t i;

  pthread_mutex_lock(&c->lock);
  for (i = 0; i < c->lease_count; i++)
    if (strcmp(c->leases[i].name, name) == 0 && c->leases[i].held) {
      lease_call(&c->leases[i], NULL, "SELECT pg_advisory_unlock($1::bigint)");
      c->leases[i].held = false;
    }
  pthread_mutex_unlock(&c->lock);
}

/* ------------------------------------------------------------- signals */

static void wire_name(char out[20], const rr_pg_cluster *c, const char *channel)
{
  snprintf(out, 20, "rr%016llx", (unsigned long long)derive(c->schema, "channel", channel));
}

static int pg_signal(void *impl, const char *channel, const char *payload, char *err, size_t errsize)
{
  static const char sql[] = "SELECT pg_notify($1, $2)";
  rr_pg_store *s = impl;
  char wire[20];

  wire_name(wire, s->cluster, channel);
  return rr_pg_run(s, NULL, "sending a signal", err, errsize, sql, "tt", wire, payload);
}

/* LISTEN on channels [from, to) of c (lock held: the names do not move). */
static int listen_on(PGconn *pg, const rr_pg_cluster *c, size_t from, size_t to)
{
  char sql[64];
  PGresult *r;
  size_t i;
  int ok = 1;

  for (i = from; i < to && ok; i++) {
    snprintf(sql, sizeof(sql), "LISTEN %s", c->channels[i].wire); /* "rr" + hex: a plain identifier */
    r = PQexec(pg, sql);
    ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
  }
  return ok ? 0 : RR_ESTORE;
}

static void deliver_all(rr_pg_cluster *c, PGconn *pg)
{
  PGnotify *n;
  size_t i;
  char name[64];

  while ((n = PQnotifies(pg)) != NULL) {
    name[0] = '\0';
    pthread_mutex_lock(&c->lock);
    for (i = 0; i < c->channel_count; i++)
      if (strcmp(c->channels[i].wire, n->relname) == 0)
        rr_str_copy(name, sizeof(name), c->channels[i].name);
    pthread_mutex_unlock(&c->lock);
    if (name[0] != '\0')
      rr_store_deliver(c->store, name, n->extra);
    PQfreemem(n);
  }
}

/* Tell every channel's subscribers to forget: signals may have been missed. */
static void deliver_forget(rr_pg_cluster *c)
{
  char names[MAX_CHANNELS][64];
  size_t i, n;

  pthread_mutex_lock(&c->lock);
  n = c->channel_count;
  for (i = 0; i < n; i++)
    rr_str_copy(names[i], sizeof(names[i]), c->channels[i].name);
  pthread_mutex_unlock(&c->lock);
  for (i = 0; i < n; i++)
    rr_store_deliver(c->store, names[i], "*");
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  nanosleep(&ts, NULL);
}

/* (Re)connect and LISTEN on every channel; NULL when the server cannot be
 * reached (the caller waits and tries again). */
static PGconn *listener_connect(rr_pg_cluster *c, bool *warned)
{
  PGconn *pg = connect_quietly(c->conninfo);
  size_t count;

  if (pg == NULL) {
    if (!*warned)
      rr_log_warning("store: the PostgreSQL signal listener cannot connect; retrying every second");
    *warned = true;
    return NULL;
  }
  pthread_mutex_lock(&c->lock);
  count = c->channel_count;
  if (listen_on(pg, c, 0, count) < 0) {
    pthread_mutex_unlock(&c->lock);
    PQfinish(pg);
    return NULL;
  }
  c->listened = (unsigned)count;
  pthread_cond_broadcast(&c->cond);
  pthread_mutex_unlock(&c->lock);
  if (*warned)
    rr_log_warning("store: the PostgreSQL signal listener is connected again");
  *warned = false;
  deliver_forget(c);
  return pg;
}

static void *listener(void *arg)
{
  rr_pg_cluster *c = arg;
  PGconn *pg = NULL;
  bool warned = false, stop = false;
  struct pollfd pfd;
  size_t from, to;

  while (!stop) {
    if (pg == NULL && (pg = listener_connect(c, &warned)) == NULL) {
      sleep_ms(1000);
    } else if (pg != NULL) {
      pthread_mutex_lock(&c->lock);
      from = c->listened;
      to = c->channel_count;
      if (from < to && listen_on(pg, c, from, to) == 0)
        c->listened = (unsigned)to;
      pthread_cond_broadcast(&c->cond);
      pthread_mutex_unlock(&c->lock);
      pfd.fd = PQsocket(pg);
      pfd.events = POLLIN;
      pfd.revents = 0;
      if (pfd.fd < 0 || (poll(&pfd, 1, 200) > 0 && PQconsumeInput(pg) == 0) || PQstatus(pg) != CONNECTION_OK) {
        PQfinish(pg); /* lost: reconnect, then tell the subscribers to forget */
        pg = NULL;
        continue;
      }
      deliver_all(c, pg);
    }
    pthread_mutex_lock(&c->lock);
    stop = c->stopping;
    pthread_mutex_unlock(&c->lock);
  }
  PQfinish(pg);
  return NULL;
}

static int pg_listen(void *impl, rr_store *store, const char *channel, char *err, size_t errsize)
{
  rr_pg_cluster *c = ((rr_pg_store *)impl)->cluster;
  struct timespec deadline;
  size_t i;
  int error = 0;

  pthread_mutex_lock(&c->lock);
  c->store = store;
  for (i = 0; i < c->channel_count; i++)
    if (strcmp(c->channels[i].name, channel) == 0)
      goto out; /* listening already */
  if (c->channel_count == MAX_CHANNELS) {
    error = rr_fail(err, errsize, RR_EFULL, "too many signal channels (at most %d)", MAX_CHANNELS);
    goto out;
  }
  rr_str_copy(c->channels[c->channel_count].name, sizeof(c->channels[0].name), channel);
  wire_name(c->channels[c->channel_count].wire, c, channel);
  c->channel_count++;
  if (!c->started) {
    if (pthread_create(&c->thread, NULL, listener, c) != 0) {
      c->channel_count--;
      error = rr_fail(err, errsize, RR_ERROR, "cannot start the PostgreSQL signal listener");
      goto out;
    }
    c->started = true;
  }
  /* wait for the LISTEN, so that a signal sent after this returns is heard;
   * when the server is unreachable the listener says so and carries on */
  rr_clock_deadline(&deadline, LISTEN_WAIT_MS);
  while (c->listened < c->channel_count && !rr_clock_cond_wait_until(&c->cond, &c->lock, &deadline))
    ;
out:
  pthread_mutex_unlock(&c->lock);
  return error;
}

const rr_store_cluster_ops rr_pg_cluster_ops = {
  pg_lease_try,
  pg_lease_release,
  pg_signal,
  pg_listen,
};
