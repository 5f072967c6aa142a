#include "auth.h"

#include <ctype.h>
#include <fcntl.h>
#include <unistd.h>
#include <stddef.h>
#include <strings.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/lifetime.h"
#include "auth/matrix.h"
#include "auth/password.h"
#include "auth/token.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/str.h"

#define TOKEN_CACHE_SIZE 4096      /* power of two */
#define USER_CACHE_SIZE 1024       /* power of two */
#define FAILURE_TABLE_SIZE 4096    /* power of two */
#define USER_CACHE_SECONDS 10
/* The channel on which nodes sharing a store tell each other that a user or
 * a token changed (store_cluster.h); payloads "user:<name>",
 * "token:<sha256>", or "*" (forget everything). */
#define IDENTITY_CHANNEL "rr_identity"
#define BASIC_CACHE_SECONDS 60
#define LEEWAY_SECONDS 30
#define SLOWDOWN_AFTER 3
#define SLOWDOWN_MAX_MS 4000
#define CSRF_KEY_NAME "auth.csrf_key"
#define MSG_INVALID "invalid user name or password"
#define MSG_LOCKED "too many failed attempts: try again later"

/* Every table entry starts with its key and a used flag. */
#define SLOT_HEAD \
  char key[72];   \
  int used

typedef struct token_slot {
  SLOT_HEAD;
  rr_identity id;
  int64_t issued_at;
  int64_t generation;
  int64_t valid_until;
} token_slot;

typedef struct user_slot {
  SLOT_HEAD;
  bool exists, enabled;
  char role[RR_ROLE_SIZE];
  char display_name[128];
  int64_t password_changed_at;
  int64_t token_generation;
  int64_t fetched_at;
} user_slot;

typedef struct failure_slot {
  SLOT_HEAD;
  int64_t failures;
  int64_t window_start;
  int64_t locked_until;
} failure_slot;

struct rr_auth {
  rr_auth_options opts; /* its strings are NULL after rr_auth_new: see issuer, audience */
  char issuer[128], audience[128];
  rr_store *store;
  rr_audit *audit;
  rr_token_keys *keys;
  rr_session_limits limits;
  int64_t (*now)(void);
  unsigned char csrf_key[32];
  pthread_mutex_t lock; /* guards the tables below */
  token_slot *tokens;
  size_t token_count;
  user_slot *users;
  size_t user_count;
  failure_slot *accounts; /* failures of user names that do not exist */
  size_t account_count;
  failure_slot *addresses;
  size_t address_count;
};

/* ------------------------------------------------------------- hash tables */

static uint64_t fnv(const char *s)
{
  uint64_t h = 1469598103934665603ULL;

  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

/* Find `key` in a table of `cap` entries of `stride` bytes; returns the slot
 * holding it or the free slot where it would go. */
static void *slot_find(void *base, size_t stride, size_t cap, const char *key)
{
  size_t i = fnv(key) & (cap - 1), n;

  for (n = 0; n < cap; n++, i = (i + 1) & (cap - 1)) {
    char *slot = (char *)base + i * stride;
    int used = *(int *)(slot + offsetof(token_slot, used));
    if (!used || strcmp(slot, key) == 0)
      return slot;
  }
  return NULL;
}

/* Claim a slot for `key` (a table at half capacity is emptied first: the
 * entries are caches or bounded counters, losing them is safe). */
static void *slot_claim(void *base, size_t stride, size_t cap, size_t *count, const char *key)
{
  char *slot = slot_find(base, stride, cap, key);

  if (slot != NULL && *(int *)(slot + offsetof(token_slot, used)))
    return slot;
  if (*count * 2 >= cap) {
    memset(base, 0, stride * cap);
    *count = 0;
    slot = slot_find(base, stride, cap, key);
  }
  memset(slot, 0, stride);
  rr_str_copy(slot, 72, key);
  *(int *)(slot + offsetof(token_slot, used)) = 1;
  (*count)++;
  return slot;
}

static void lower_key(char *out, size_t size, const char *prefix, const char *s)
{
  size_t i, n = strlen(prefix);

  snprintf(out, size, "%s%s", prefix, s ? s : "");
  for (i = n; out[i]; i++)
    out[i] = (char)tolower((unsigned char)out[i]);
}

/* ---------------------------------------------------------------- helpers */

static void audit(rr_auth *a, const char *user, const char *role, const char *source, const char *action,
                  const char *resource, const char *outcome, const char *detail)
{
  rr_audit_log(a->audit, user, role, source, action, resource, outcome, detail);
}

static void sleep_ms(int64_t ms)
{
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static bool username_ok(const char *u)
{
  size_t i, len = u ? strlen(u) : 0;

  if (len == 0 || len >= RR_USERNAME_SIZE)
    return false;
  for (i = 0; i < len; i++) {
    char c = u[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
          c == '-' || c == '@'))
      return false;
  }
  return true;
}

static int display_name_ok(const char *d)
{
  size_t i, len = strlen(d);

  if (len >= 128 || rr_utf8_valid_prefix(d, len) != len)
    return 0;
  for (i = 0; i < len; i++)
    if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
      return 0;
  return 1;
}

void rr_login_result_dispose(rr_login_result *r)
{
  if (r == NULL)
    return;
  if (r->token != NULL) {
    OPENSSL_cleanse(r->token, strlen(r->token));
    free(r->token);
  }
  memset(r, 0, sizeof(*r));
}

bool rr_auth_basic_allowed(const rr_auth *a)
{
  return a->opts.allow_basic;
}

void rr_auth_csrf_for(rr_auth *a, char out[65], const char *jti)
{
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;

  out[0] = '\0';
  if (HMAC(EVP_sha256(), a->csrf_key, sizeof(a->csrf_key), (const unsigned char *)jti, strlen(jti), mac, &n) == NULL ||
      n < 32)
    return;
  rr_hex_encode(out, mac, 32);
}

bool rr_auth_csrf_ok(rr_auth *a, const rr_identity *id, const char *header)
{
  char expected[65];

  if (header == NULL || id->jti[0] == '\0' || strlen(header) != 64)
    return false;
  rr_auth_csrf_for(a, expected, id->jti);
  return expected[0] != '\0' && CRYPTO_memcmp(expected, header, 64) == 0;
}

/* ----------------------------------------------------------- creation */

static int load_file(char **out, const char *path, char *err, size_t errsize)
{
  FILE *f = fopen(path, "rb");
  rr_buf b;
  char chunk[4096];
  size_t n;
  int error = 0;

  *out = NULL;
  if (f == NULL)
    return rr_fail(err, errsize, RR_EINVAL, "cannot read %s", path);
  rr_buf_init(&b, 65536);
  while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
    if ((error = rr_buf_append(&b, chunk, n)) < 0)
      break;
  fclose(f);
  if (error == 0)
    error = rr_buf_detach(out, &b);
  rr_buf_dispose(&b);
  return error < 0 ? rr_fail(err, errsize, error, "%s is too large for a key", path) : 0;
}

static int load_keys(rr_auth *a, const rr_auth_options *o, char *err, size_t errsize)
{
  unsigned char secret[RR_TOKEN_SECRET_MAX];
  size_t len = 0;
  char *priv = NULL, *pub = NULL;
  int error;

  if (strcmp(o->algorithm, "HS256") == 0) {
    if ((error = rr_token_secret_load_or_create(secret, sizeof(secret), &len, o->secret_file, err, errsize)) < 0)
      return error;
    error = rr_token_keys_hs256(&a->keys, secret, len, err, errsize);
    OPENSSL_cleanse(secret, sizeof(secret));
    return error;
  }
  if ((error = load_file(&priv, o->private_key_file, err, errsize)) == 0 &&
      (error = load_file(&pub, o->public_key_file, err, errsize)) == 0)
    error = rr_token_keys_pem(&a->keys, o->algorithm, priv, pub, err, errsize);
  if (priv != NULL) {
    OPENSSL_cleanse(priv, strlen(priv));
    free(priv);
  }
  free(pub);
  return error;
}

/* The CSRF key lives in the store so that CSRF tokens survive restarts. */
static int load_csrf_key(rr_auth *a, char *err, size_t errsize)
{
  char text[65];
  size_t i;
  int error = rr_store_kv_get(a->store, text, sizeof(text), CSRF_KEY_NAME, err, errsize);

  if (error == 0 && strlen(text) == 64) {
    for (i = 0; i < 32; i++) {
      int h = rr_hex_value(text[2 * i]), l = rr_hex_value(text[2 * i + 1]);
      if (h < 0 || l < 0)
        break;
      a->csrf_key[i] = (unsigned char)((h << 4) | l);
    }
    if (i == 32)
      return 0;
  } else if (error < 0 && error != RR_ENOTFOUND) {
    return error;
  }
  if (RAND_bytes(a->csrf_key, sizeof(a->csrf_key)) != 1)
    return rr_fail(err, errsize, RR_ERROR, "no random numbers for the CSRF key");
  rr_hex_encode(text, a->csrf_key, sizeof(a->csrf_key));
  return rr_store_kv_set(a->store, CSRF_KEY_NAME, text, err, errsize);
}

static void on_identity_signal(void *arg, const char *channel, const char *payload);

int rr_auth_new(rr_auth **out, const rr_auth_options *opts, rr_store *store, rr_audit *audit_writer, char *err,
                size_t errsize)
{
  rr_auth *a;
  int error;

  *out = NULL;
  if (strlen(opts->issuer) >= sizeof(a->issuer) || strlen(opts->audience) >= sizeof(a->audience))
    return rr_fail(err, errsize, RR_EINVAL, "the token issuer and audience have at most 127 bytes");
  if ((a = calloc(1, sizeof(*a))) == NULL)
    return rr_fail(err, errsize, RR_ENOMEM, "out of memory");
  a->opts = *opts;
  a->opts.algorithm = a->opts.secret_file = a->opts.private_key_file = a->opts.public_key_file = NULL;
  a->opts.issuer = a->opts.audience = NULL;
  rr_str_copy(a->issuer, sizeof(a->issuer), opts->issuer);
  rr_str_copy(a->audience, sizeof(a->audience), opts->audience);
  a->store = store;
  a->audit = audit_writer;
  a->now = rr_clock_unix_s;
  a->limits.token_lifetime = opts->token_lifetime;
  a->limits.idle_timeout = opts->idle_timeout;
  a->limits.max_age = opts->max_session;
  pthread_mutex_init(&a->lock, NULL);
  a->tokens = calloc(TOKEN_CACHE_SIZE, sizeof(token_slot));
  a->users = calloc(USER_CACHE_SIZE, sizeof(user_slot));
  a->accounts = calloc(FAILURE_TABLE_SIZE, sizeof(failure_slot));
  a->addresses = calloc(FAILURE_TABLE_SIZE, sizeof(failure_slot));
  if (a->tokens == NULL || a->users == NULL || a->accounts == NULL || a->addresses == NULL) {
    error = rr_fail(err, errsize, RR_ENOMEM, "out of memory");
    goto fail;
  }
  if ((error = load_keys(a, opts, err, errsize)) < 0 || (error = load_csrf_key(a, err, errsize)) < 0 ||
      (error = rr_store_subscribe(store, IDENTITY_CHANNEL, on_identity_signal, a, err, errsize)) < 0)
    goto fail;
  *out = a;
  return 0;
fail:
  rr_auth_free(a);
  return error;
}

void rr_auth_free(rr_auth *a)
{
  if (a == NULL)
    return;
  rr_store_unsubscribe(a->store, on_identity_signal, a);
  rr_token_keys_free(a->keys);
  OPENSSL_cleanse(a->csrf_key, sizeof(a->csrf_key));
  if (a->tokens != NULL)
    OPENSSL_cleanse(a->tokens, TOKEN_CACHE_SIZE * sizeof(token_slot));
  free(a->tokens);
  free(a->users);
  free(a->accounts);
  free(a->addresses);
  pthread_mutex_destroy(&a->lock);
  free(a);
}

/* --------------------------------------------------------------- caches */

static void forget_user_here(rr_auth *a, const char *username)
{
  char key[72];
  user_slot *u;
  size_t i;

  lower_key(key, sizeof(key), "", username);
  pthread_mutex_lock(&a->lock);
  u = slot_find(a->users, sizeof(user_slot), USER_CACHE_SIZE, key);
  if (u != NULL && u->used)
    u->fetched_at = 0; /* stale: read again */
  /* and every cached token of the user */
  for (i = 0; i < TOKEN_CACHE_SIZE; i++)
    if (a->tokens[i].used && strcasecmp(a->tokens[i].id.username, username) == 0)
      a->tokens[i].valid_until = 0;
  pthread_mutex_unlock(&a->lock);
}

static void forget_token_here(rr_auth *a, const char *hash)
{
  token_slot *t;

  pthread_mutex_lock(&a->lock);
  t = slot_find(a->tokens, sizeof(token_slot), TOKEN_CACHE_SIZE, hash);
  if (t != NULL && t->used)
    t->valid_until = 0;
  pthread_mutex_unlock(&a->lock);
}

static void forget_everything_here(rr_auth *a)
{
  size_t i;

  pthread_mutex_lock(&a->lock);
  for (i = 0; i < TOKEN_CACHE_SIZE; i++)
    a->tokens[i].valid_until = 0;
  for (i = 0; i < USER_CACHE_SIZE; i++)
    a->users[i].fetched_at = 0;
  pthread_mutex_unlock(&a->lock);
}

/* Tell the other nodes (and this one: harmless) to forget; a failure to
 * signal is logged, the change itself is in the store already. */
static void signal_identity(rr_auth *a, const char *kind, const char *value)
{
  char payload[RR_STORE_SIGNAL_MAX], err[256] = "";

  snprintf(payload, sizeof(payload), "%s:%s", kind, value);
  if (rr_store_signal(a->store, IDENTITY_CHANNEL, payload, err, sizeof(err)) < 0)
    rr_log_warning("auth: could not tell the other nodes of a %s change: %s", kind, err);
}

/* A change made here: forget it here at once, then tell the other nodes. */
static void forget_user(rr_auth *a, const char *username)
{
  forget_user_here(a, username);
  signal_identity(a, "user", username);
}

static void forget_token(rr_auth *a, const char *hash)
{
  forget_token_here(a, hash);
  signal_identity(a, "token", hash);
}

/* A change made on another node (or this one), from the store's listener. */
static void on_identity_signal(void *arg, const char *channel, const char *payload)
{
  rr_auth *a = arg;

  (void)channel;
  if (strncmp(payload, "user:", 5) == 0)
    forget_user_here(a, payload + 5);
  else if (strncmp(payload, "token:", 6) == 0)
    forget_token_here(a, payload + 6);
  else
    forget_everything_here(a);
}

/* The user's current state, from the cache or the store. */
static int user_state(rr_auth *a, user_slot *out, const char *username, char *reason, size_t rsize)
{
  char key[72];
  user_slot *u;
  rr_user_rec rec;
  int64_t now = a->now();
  int error;

  lower_key(key, sizeof(key), "", username);
  pthread_mutex_lock(&a->lock);
  u = slot_find(a->users, sizeof(user_slot), USER_CACHE_SIZE, key);
  if (u != NULL && u->used && now - u->fetched_at < USER_CACHE_SECONDS) {
    *out = *u;
    pthread_mutex_unlock(&a->lock);
    return 0;
  }
  pthread_mutex_unlock(&a->lock);

  error = rr_store_user_get(a->store, &rec, username, reason, rsize);
  if (error < 0 && error != RR_ENOTFOUND)
    return error;
  pthread_mutex_lock(&a->lock);
  u = slot_claim(a->users, sizeof(user_slot), USER_CACHE_SIZE, &a->user_count, key);
  u->exists = error == 0;
  u->enabled = error == 0 && rec.enabled;
  rr_str_copy(u->role, sizeof(u->role), error == 0 ? rec.role : "");
  rr_str_copy(u->display_name, sizeof(u->display_name), error == 0 ? rec.display_name : "");
  u->password_changed_at = error == 0 ? rec.password_changed_at : 0;
  u->token_generation = error == 0 ? rec.token_generation : 0;
  u->fetched_at = now;
  *out = *u;
  pthread_mutex_unlock(&a->lock);
  OPENSSL_cleanse(&rec, sizeof(rec));
  return 0;
}

/* ----------------------------------------------------------- failures */

static failure_slot *failure_entry(rr_auth *a, failure_slot *table, size_t *count, const char *key, int64_t now)
{
  failure_slot *f = slot_claim(table, sizeof(failure_slot), FAILURE_TABLE_SIZE, count, key);

  if (now - f->window_start > (int64_t)a->opts.lockout_seconds && f->locked_until <= now) {
    f->failures = 0;
    f->window_start = now;
  }
  return f;
}

/* Whether the address or the (unknown) account is locked now. */
static bool memory_locked(rr_auth *a, const char *username, const char *source, int64_t now)
{
  char key[72];
  failure_slot *f;
  bool locked = false;

  pthread_mutex_lock(&a->lock);
  lower_key(key, sizeof(key), "ip:", source);
  f = slot_find(a->addresses, sizeof(failure_slot), FAILURE_TABLE_SIZE, key);
  if (f != NULL && f->used && f->locked_until > now)
    locked = true;
  lower_key(key, sizeof(key), "user:", username);
  f = slot_find(a->accounts, sizeof(failure_slot), FAILURE_TABLE_SIZE, key);
  if (f != NULL && f->used && f->locked_until > now)
    locked = true;
  pthread_mutex_unlock(&a->lock);
  return locked;
}

/* Count a failure; returns the failures so far of the account. */
static int64_t memory_failure(rr_auth *a, const char *username, const char *source, bool count_account, int64_t now)
{
  char key[72];
  failure_slot *f;
  int64_t n = 0;

  pthread_mutex_lock(&a->lock);
  lower_key(key, sizeof(key), "ip:", source);
  f = failure_entry(a, a->addresses, &a->address_count, key, now);
  if (++f->failures >= a->opts.lockout_max_per_address)
    f->locked_until = now + a->opts.lockout_seconds;
  if (count_account) {
    lower_key(key, sizeof(key), "user:", username);
    f = failure_entry(a, a->accounts, &a->account_count, key, now);
    n = ++f->failures;
    if (n >= a->opts.lockout_max_failures)
      f->locked_until = now + a->opts.lockout_seconds;
  }
  pthread_mutex_unlock(&a->lock);
  return n;
}

static void slow_down(int64_t failures)
{
  int64_t ms;

  if (failures < SLOWDOWN_AFTER)
    return;
  ms = 250LL << (failures - SLOWDOWN_AFTER > 4 ? 4 : failures - SLOWDOWN_AFTER);
  sleep_ms(ms > SLOWDOWN_MAX_MS ? SLOWDOWN_MAX_MS : ms);
}

/* ------------------------------------------------------------- tokens */

void rr_auth_set_clock(rr_auth *a, int64_t (*now)(void))
{
  a->now = now != NULL ? now : rr_clock_unix_s;
}

void rr_auth_session_limits(rr_auth *a, const rr_identity *id, int64_t *idle_timeout, int64_t *max_session,
                            int64_t *ends_at)
{
  *idle_timeout = a->limits.idle_timeout;
  *max_session = a->limits.max_age;
  *ends_at = id == NULL || id->method == RR_AUTH_BASIC || id->auth_time == 0 ? 0 : rr_session_ends_at(&a->limits, id->auth_time);
}

/* A token for `user` in the session that began at `auth_time` (the login:
 * now), expiring as auth/lifetime.h says; RR_EINVAL when the session has
 * reached its maximum age. */
static int issue(rr_auth *a, rr_login_result *out, const rr_user_rec *user, int64_t auth_time, char *err,
                 size_t errsize)
{
  rr_token_claims claims;
  rr_token_request rq;
  int64_t now = a->now(), exp;
  int error;

  memset(out, 0, sizeof(*out));
  if (rr_session_expiry(&exp, &a->limits, auth_time, now) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "the session has reached its maximum length: log in again");
  rq.subject = user->username;
  rq.role = user->role;
  rq.generation = user->token_generation;
  rq.auth_time = auth_time;
  rq.now = now;
  rq.lifetime_seconds = exp - now;
  error = rr_token_issue_request(&out->token, a->keys, a->issuer, a->audience, &rq, &claims, err, errsize);
  if (error < 0)
    return error;
  out->expires_at = claims.expires_at;
  out->session_ends_at = rr_session_ends_at(&a->limits, auth_time);
  rr_auth_csrf_for(a, out->csrf, claims.jti);
  out->user = *user;
  OPENSSL_cleanse(out->user.password_hash, sizeof(out->user.password_hash));
  return 0;
}

int rr_auth_login(rr_auth *a, rr_login_result *out, const char *username, const char *password, const char *source,
                  char *err, size_t errsize)
{
  rr_user_rec user;
  int64_t now = a->now(), failures;
  bool known;
  int error;

  memset(out, 0, sizeof(*out));
  if (source == NULL)
    source = "";
  if (username == NULL || password == NULL || !username_ok(username) || strlen(password) > RR_PASSWORD_MAX_BYTES) {
    rr_password_burn(password ? password : "");
    memory_failure(a, username_ok(username) ? username : "", source, false, now);
    audit(a, username_ok(username) ? username : "", "", source, "login", "", "failure", "malformed credentials");
    return rr_fail(err, errsize, RR_EINVAL, MSG_INVALID);
  }
  if (memory_locked(a, username, source, now)) {
    audit(a, username, "", source, "login", "", "denied", "locked (address or account)");
    return rr_fail(err, errsize, RR_ELOCKED, MSG_LOCKED);
  }
  error = rr_store_user_get(a->store, &user, username, err, errsize);
  if (error < 0 && error != RR_ENOTFOUND)
    return error;
  known = error == 0;
  if (known && user.locked_until > now) {
    audit(a, user.username, user.role, source, "login", "", "denied", "account locked");
    OPENSSL_cleanse(&user, sizeof(user));
    return rr_fail(err, errsize, RR_ELOCKED, MSG_LOCKED);
  }
  if (!known || !user.enabled) {
    rr_password_burn(password);
    failures = memory_failure(a, username, source, true, now);
    audit(a, username, known ? user.role : "", source, "login", "", "failure", known ? "account disabled" : "bad credentials");
    OPENSSL_cleanse(&user, sizeof(user));
    slow_down(failures);
    return rr_fail(err, errsize, RR_EINVAL, MSG_INVALID);
  }
  if (rr_password_verify(user.password_hash, password) != 0) {
    memory_failure(a, username, source, false, now);
    user.failed_logins++;
    if (user.failed_logins >= a->opts.lockout_max_failures) {
      user.locked_until = now + a->opts.lockout_seconds;
      user.failed_logins = 0;
      audit(a, user.username, user.role, source, "account.lock", user.username, "success", "too many failed logins");
    }
    failures = user.failed_logins == 0 ? (int64_t)a->opts.lockout_max_failures : user.failed_logins;
    user.updated_at = now;
    rr_store_user_update(a->store, &user, NULL, 0);
    audit(a, user.username, user.role, source, "login", "", "failure", "bad credentials");
    OPENSSL_cleanse(&user, sizeof(user));
    slow_down(failures);
    return rr_fail(err, errsize, RR_EINVAL, MSG_INVALID);
  }
  /* success */
  user.failed_logins = 0;
  user.locked_until = 0;
  user.last_login_at = now;
  if (rr_password_needs_rehash(user.password_hash, NULL))
    rr_password_hash(user.password_hash, sizeof(user.password_hash), password, NULL, NULL, 0);
  if ((error = rr_store_user_update(a->store, &user, err, errsize)) < 0) {
    OPENSSL_cleanse(&user, sizeof(user));
    return error;
  }
  error = issue(a, out, &user, now, err, errsize);
  audit(a, user.username, user.role, source, "login", "", error == 0 ? "success" : "failure", error == 0 ? "" : err);
  OPENSSL_cleanse(&user, sizeof(user));
  return error;
}

int rr_auth_verify_password(rr_auth *a, const char *username, const char *password, const char *source, char *err,
                            size_t errsize)
{
  rr_user_rec user;
  int64_t now = a->now(), failures;
  int error;

  if (source == NULL)
    source = "";
  if (username == NULL || password == NULL || !username_ok(username) || strlen(password) > RR_PASSWORD_MAX_BYTES) {
    rr_password_burn(password ? password : "");
    return rr_fail(err, errsize, RR_EINVAL, "the password is not right");
  }
  if (memory_locked(a, username, source, now))
    return rr_fail(err, errsize, RR_ELOCKED, MSG_LOCKED);
  if ((error = rr_store_user_get(a->store, &user, username, err, errsize)) < 0 && error != RR_ENOTFOUND)
    return error;
  if (error == 0 && user.locked_until > now) {
    OPENSSL_cleanse(&user, sizeof(user));
    return rr_fail(err, errsize, RR_ELOCKED, MSG_LOCKED);
  }
  if (error == RR_ENOTFOUND || !user.enabled) {
    rr_password_burn(password);
    failures = memory_failure(a, username, source, true, now);
    OPENSSL_cleanse(&user, sizeof(user));
    slow_down(failures);
    return rr_fail(err, errsize, RR_EINVAL, "the password is not right");
  }
  if (rr_password_verify(user.password_hash, password) != 0) {
    memory_failure(a, username, source, false, now);
    user.failed_logins++;
    if (user.failed_logins >= a->opts.lockout_max_failures) {
      user.locked_until = now + a->opts.lockout_seconds;
      user.failed_logins = 0;
      audit(a, user.username, user.role, source, "account.lock", user.username, "success",
            "too many failed password checks");
    }
    failures = user.failed_logins == 0 ? (int64_t)a->opts.lockout_max_failures : user.failed_logins;
    user.updated_at = now;
    rr_store_user_update(a->store, &user, NULL, 0);
    OPENSSL_cleanse(&user, sizeof(user));
    slow_down(failures);
    return rr_fail(err, errsize, RR_EINVAL, "the password is not right");
  }
  if (user.failed_logins != 0) {
    user.failed_logins = 0;
    user.updated_at = now;
    rr_store_user_update(a->store, &user, NULL, 0);
  }
  OPENSSL_cleanse(&user, sizeof(user));
  return 0;
}

int rr_auth_refresh(rr_auth *a, rr_login_result *out, const rr_identity *id, char *err, size_t errsize)
{
  rr_user_rec user;
  int error;

  if (id->method == RR_AUTH_BASIC)
    return rr_fail(err, errsize, RR_EINVAL, "HTTP Basic sessions have no token to refresh");
  if ((error = rr_store_user_get(a->store, &user, id->username, err, errsize)) < 0)
    return error;
  /* tokens from before automatic log-off have no auth_time: their session began at the latest when they were issued */
  error = issue(a, out, &user, id->auth_time > 0 ? id->auth_time : a->now(), err, errsize);
  OPENSSL_cleanse(&user, sizeof(user));
  if (error == 0)
    rr_auth_logout(a, id, NULL, 0);
  return error;
}

int rr_auth_logout(rr_auth *a, const rr_identity *id, char *err, size_t errsize)
{
  int error;

  if (id->method == RR_AUTH_BASIC || id->token_hash[0] == '\0')
    return 0;
  error = rr_store_token_revoke(a->store, id->token_hash, id->expires_at, err, errsize);
  forget_token(a, id->token_hash);
  return error;
}

/* ------------------------------------------------------ authentication */

/* Value of cookie `name` in a Cookie header, copied into out. */
static bool cookie_value(char *out, size_t size, const char *header, const char *name)
{
  size_t nlen = strlen(name), vlen;
  const char *p = header;

  while (p != NULL && *p) {
    while (*p == ' ' || *p == ';')
      p++;
    if (strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
      p += nlen + 1;
      vlen = strcspn(p, ";");
      if (vlen == 0 || vlen >= size)
        return false;
      memcpy(out, p, vlen);
      out[vlen] = '\0';
      return true;
    }
    p = strchr(p, ';');
  }
  return false;
}

static int check_user(rr_auth *a, rr_identity *id, int64_t issued_at, int64_t generation, char *reason, size_t rsize)
{
  user_slot u;
  int error;

  if ((error = user_state(a, &u, id->username, reason, rsize)) < 0)
    return error;
  if (!u.exists)
    return rr_fail(reason, rsize, RR_EINVAL, "the user no longer exists");
  if (!u.enabled)
    return rr_fail(reason, rsize, RR_EINVAL, "the user is disabled");
  if (strcmp(u.role, id->role_name) != 0)
    return rr_fail(reason, rsize, RR_EINVAL, "the user's role changed since the token was issued");
  if (issued_at != 0 && (issued_at < u.password_changed_at || generation != u.token_generation))
    return rr_fail(reason, rsize, RR_EINVAL, "the password changed since the token was issued");
  rr_str_copy(id->display_name, sizeof(id->display_name), u.display_name);
  return 0;
}

/* A token that verified except for its expiry, seen for the first time
 * since it ended: audit the automatic log-off once (idle or max-age) and
 * revoke the token so that later requests with it are not audited again.
 * Always RR_EINVAL with the reason. */
static int session_ended(rr_auth *a, const rr_token_claims *claims, const char *hash, const char *source,
                         char *reason, size_t rsize)
{
  int64_t auth_time = claims->auth_time > 0 ? claims->auth_time : claims->issued_at;
  const char *why = rr_session_end_name(rr_session_end_reason(&a->limits, auth_time, claims->expires_at));
  char detail[96];

  snprintf(detail, sizeof(detail), "automatic: %s", why);
  audit(a, claims->subject, claims->role, source, "logout", "", "success", detail);
  /* kept in the list as long as a session could last, not only to exp (which has passed); best effort:
   * when the store cannot record it, the ending is audited again at the next request with the token */
  rr_store_token_revoke(a->store, hash, a->now() + (a->limits.max_age > 0 ? a->limits.max_age : 86400), NULL, 0);
  return rr_fail(reason, rsize, RR_EINVAL, "the session has ended (%s): log in again",
                 strcmp(why, "idle") == 0 ? "no activity" : "maximum length reached");
}

static int authenticate_token(rr_auth *a, rr_identity *out, const char *token, rr_auth_method method,
                              const char *source, char *reason, size_t rsize)
{
  char hash[65];
  token_slot *t;
  rr_token_claims claims;
  int64_t now = a->now(), issued_at;
  bool revoked = false;
  int error;

  rr_token_hash(hash, token);
  pthread_mutex_lock(&a->lock);
  t = slot_find(a->tokens, sizeof(token_slot), TOKEN_CACHE_SIZE, hash);
  if (t != NULL && t->used && t->valid_until > now) {
    int64_t generation = t->generation;
    *out = t->id;
    issued_at = t->issued_at;
    pthread_mutex_unlock(&a->lock);
    out->method = method;
    return check_user(a, out, issued_at, generation, reason, rsize);
  }
  pthread_mutex_unlock(&a->lock);

  /* The expiry is checked here, without leeway: this module issued the
   * token, and an idle time of a few seconds must mean a few seconds. */
  if ((error = rr_token_verify_flags(&claims, a->keys, token, a->issuer, a->audience, now, LEEWAY_SECONDS,
                                     RR_TOKEN_ALLOW_EXPIRED, reason, rsize)) < 0)
    return RR_EINVAL;
  if ((error = rr_store_token_is_revoked(a->store, &revoked, hash, reason, rsize)) < 0)
    return error;
  if (revoked)
    return rr_fail(reason, rsize, RR_EINVAL, "the token was revoked (logged out)");
  if (claims.expires_at <= now)
    return session_ended(a, &claims, hash, source, reason, rsize);
  memset(out, 0, sizeof(*out));
  rr_str_copy(out->username, sizeof(out->username), claims.subject);
  rr_str_copy(out->role_name, sizeof(out->role_name), claims.role);
  if (rr_role_parse(&out->role, claims.role) < 0)
    return rr_fail(reason, rsize, RR_EINVAL, "the token names an unknown role");
  rr_str_copy(out->jti, sizeof(out->jti), claims.jti);
  memcpy(out->token_hash, hash, sizeof(hash));
  out->expires_at = claims.expires_at;
  out->auth_time = claims.auth_time > 0 ? claims.auth_time : claims.issued_at;
  out->method = method;
  if ((error = check_user(a, out, claims.issued_at, claims.generation, reason, rsize)) < 0)
    return error;
  pthread_mutex_lock(&a->lock);
  t = slot_claim(a->tokens, sizeof(token_slot), TOKEN_CACHE_SIZE, &a->token_count, hash);
  t->id = *out;
  t->issued_at = claims.issued_at;
  t->generation = claims.generation;
  t->valid_until = claims.expires_at;
  pthread_mutex_unlock(&a->lock);
  return 0;
}

static int authenticate_basic(rr_auth *a, rr_identity *out, const char *encoded, const char *source, char *reason,
                              size_t rsize)
{
  char key[72], decoded[1200], *colon;
  token_slot *t;
  rr_user_rec user;
  int64_t now = a->now();
  int n, error = 0;

  if (!a->opts.allow_basic)
    return rr_fail(reason, rsize, RR_EINVAL, "HTTP Basic authentication is turned off (ReadingRoom.Auth.AllowBasic)");
  while (*encoded == ' ')
    encoded++;
  if (strlen(encoded) > 1400)
    return rr_fail(reason, rsize, RR_EINVAL, "Basic credentials too long");
  /* cache by the digest of the whole header value */
  {
    char digest_input[1500];
    snprintf(digest_input, sizeof(digest_input), "basic:%s", encoded);
    rr_token_hash(key, digest_input);
    OPENSSL_cleanse(digest_input, sizeof(digest_input));
  }
  pthread_mutex_lock(&a->lock);
  t = slot_find(a->tokens, sizeof(token_slot), TOKEN_CACHE_SIZE, key);
  if (t != NULL && t->used && t->valid_until > now) {
    *out = t->id;
    pthread_mutex_unlock(&a->lock);
    return check_user(a, out, 0, 0, reason, rsize);
  }
  pthread_mutex_unlock(&a->lock);

  n = EVP_DecodeBlock((unsigned char *)decoded, (const unsigned char *)encoded, (int)strlen(encoded));
  if (n <= 0 || (size_t)n >= sizeof(decoded))
    return rr_fail(reason, rsize, RR_EINVAL, "malformed Basic credentials");
  decoded[n] = '\0';
  colon = strchr(decoded, ':');
  if (colon == NULL)
    return rr_fail(reason, rsize, RR_EINVAL, "malformed Basic credentials");
  *colon = '\0';
  if (memory_locked(a, decoded, source, now)) {
    error = rr_fail(reason, rsize, RR_EINVAL, "locked after too many failed attempts");
    goto out;
  }
  error = rr_store_user_get(a->store, &user, decoded, reason, rsize);
  if (error == RR_ENOTFOUND || (error == 0 && (!user.enabled || user.locked_until > now))) {
    rr_password_burn(colon + 1);
    memory_failure(a, decoded, source, true, now);
    error = rr_fail(reason, rsize, RR_EINVAL, "bad Basic credentials");
    goto out;
  }
  if (error < 0)
    goto out;
  if (rr_password_verify(user.password_hash, colon + 1) != 0) {
    memory_failure(a, decoded, source, true, now);
    error = rr_fail(reason, rsize, RR_EINVAL, "bad Basic credentials");
    goto out;
  }
  memset(out, 0, sizeof(*out));
  rr_str_copy(out->username, sizeof(out->username), user.username);
  rr_str_copy(out->role_name, sizeof(out->role_name), user.role);
  rr_str_copy(out->display_name, sizeof(out->display_name), user.display_name);
  if (rr_role_parse(&out->role, user.role) < 0) {
    error = rr_fail(reason, rsize, RR_EINVAL, "the user has an unknown role");
    goto out;
  }
  out->method = RR_AUTH_BASIC;
  out->expires_at = now + BASIC_CACHE_SECONDS;
  pthread_mutex_lock(&a->lock);
  t = slot_claim(a->tokens, sizeof(token_slot), TOKEN_CACHE_SIZE, &a->token_count, key);
  t->id = *out;
  t->valid_until = out->expires_at;
  pthread_mutex_unlock(&a->lock);
out:
  OPENSSL_cleanse(decoded, sizeof(decoded));
  OPENSSL_cleanse(&user, sizeof(user));
  return error;
}

int rr_auth_authenticate(rr_auth *a, rr_identity *out, const rr_credentials *c, char *reason, size_t rsize)
{
  char token[RR_TOKEN_MAX_BYTES + 1];
  const char *h = c->authorization;
  int error;

  memset(out, 0, sizeof(*out));
  if (h != NULL && *h) {
    if (strncasecmp(h, "Bearer ", 7) == 0) {
      h += 7;
      while (*h == ' ')
        h++;
      if (strlen(h) > RR_TOKEN_MAX_BYTES)
        return rr_fail(reason, rsize, RR_EINVAL, "token too long");
      return authenticate_token(a, out, h, RR_AUTH_BEARER, c->source ? c->source : "", reason, rsize);
    }
    if (strncasecmp(h, "Basic ", 6) == 0)
      return authenticate_basic(a, out, h + 6, c->source ? c->source : "", reason, rsize);
    return rr_fail(reason, rsize, RR_EINVAL, "unsupported Authorization scheme");
  }
  if (c->cookie != NULL && cookie_value(token, sizeof(token), c->cookie, RR_SESSION_COOKIE)) {
    error = authenticate_token(a, out, token, RR_AUTH_COOKIE, c->source ? c->source : "", reason, rsize);
    OPENSSL_cleanse(token, sizeof(token));
    return error;
  }
  return rr_fail(reason, rsize, RR_ENOTFOUND, "no credentials");
}

/* ---------------------------------------------------------------- users */

static int count_enabled_admins(rr_auth *a, int64_t *out, char *err, size_t errsize)
{
  rr_user_list *list = NULL;
  size_t i;
  int error = rr_store_user_list(a->store, &list, err, errsize);

  *out = 0;
  if (error < 0)
    return error;
  for (i = 0; i < list->count; i++)
    if (list->items[i].enabled && strcmp(list->items[i].role, "admin") == 0)
      (*out)++;
  rr_user_list_free(list);
  return 0;
}

static int create_user(rr_auth *a, const char *username, const char *display_name, const char *role,
                       const char *password, char *err, size_t errsize)
{
  rr_user_rec u;
  unsigned bit;
  int error;

  if (!username_ok(username))
    return rr_fail(err, errsize, RR_EINVAL,
                   "a user name has 1 to 64 characters: letters, digits, '.', '_', '-' and '@'");
  if (role == NULL || rr_role_parse(&bit, role) < 0)
    return rr_fail(err, errsize, RR_EINVAL, "the role must be admin, radiologist, technician or physician");
  if (display_name != NULL && !display_name_ok(display_name))
    return rr_fail(err, errsize, RR_EINVAL, "the display name must be valid text of at most 127 bytes");
  if ((error = rr_password_check_policy(password, username, a->opts.password_min_length, err, errsize)) < 0)
    return error;
  memset(&u, 0, sizeof(u));
  rr_str_copy(u.username, sizeof(u.username), username);
  rr_str_copy(u.display_name, sizeof(u.display_name), display_name ? display_name : username);
  rr_str_copy(u.role, sizeof(u.role), role);
  u.enabled = true;
  u.created_at = u.updated_at = u.password_changed_at = a->now();
  if ((error = rr_password_hash(u.password_hash, sizeof(u.password_hash), password, NULL, err, errsize)) == 0)
    error = rr_store_user_create(a->store, &u, err, errsize);
  OPENSSL_cleanse(&u, sizeof(u));
  if (error == 0)
    forget_user(a, username);
  return error;
}

int rr_auth_bootstrap(rr_auth *a, bool *created, char *generated, size_t gsize, const char *password, char *err,
                      size_t errsize)
{
  static const char alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  unsigned char random[20];
  char made[sizeof(random) + 1];
  int64_t n = 0;
  size_t i;
  int error;

  *created = false;
  if (gsize > 0)
    generated[0] = '\0';
  if ((error = rr_store_user_count(a->store, &n, err, errsize)) < 0 || n > 0)
    return error;
  if (password == NULL || password[0] == '\0') {
    if (RAND_bytes(random, sizeof(random)) != 1)
      return rr_fail(err, errsize, RR_ERROR, "no random numbers for the first password");
    for (i = 0; i < sizeof(random); i++)
      made[i] = alphabet[random[i] % (sizeof(alphabet) - 1)];
    made[sizeof(random)] = '\0';
    rr_str_copy(generated, gsize, made);
    password = made;
  }
  error = create_user(a, "admin", "Administrator", "admin", password, err, errsize);
  OPENSSL_cleanse(made, sizeof(made));
  OPENSSL_cleanse(random, sizeof(random));
  if (error == 0) {
    *created = true;
    audit(a, "admin", "admin", "", "user.create", "admin", "success", "first administrator");
  }
  return error;
}

int rr_auth_user_create(rr_auth *a, const rr_identity *actor, const char *username, const char *display_name,
                        const char *role, const char *password, char *err, size_t errsize)
{
  int error = create_user(a, username, display_name, role, password, err, errsize);

  audit(a, actor->username, actor->role_name, "", "user.create", username_ok(username) ? username : "",
        error == 0 ? "success" : "failure", error == 0 ? role : err);
  return error;
}

int rr_auth_user_update(rr_auth *a, const rr_identity *actor, const char *username, const char *display_name,
                        const char *role, int enabled, char *err, size_t errsize)
{
  rr_user_rec u;
  unsigned bit;
  int64_t admins = 0;
  char detail[160] = "";
  int error;

  if ((error = rr_store_user_get(a->store, &u, username, err, errsize)) < 0)
    return error;
  if (role != NULL && rr_role_parse(&bit, role) < 0) {
    error = rr_fail(err, errsize, RR_EINVAL, "the role must be admin, radiologist, technician or physician");
    goto out;
  }
  if (display_name != NULL && !display_name_ok(display_name)) {
    error = rr_fail(err, errsize, RR_EINVAL, "the display name must be valid text of at most 127 bytes");
    goto out;
  }
  /* at least one enabled administrator must remain */
  if (strcmp(u.role, "admin") == 0 && u.enabled &&
      ((role != NULL && strcmp(role, "admin") != 0) || enabled == 0)) {
    if ((error = count_enabled_admins(a, &admins, err, errsize)) < 0)
      goto out;
    if (admins <= 1) {
      error = rr_fail(err, errsize, RR_EINVAL, "the last enabled administrator cannot be disabled or demoted");
      goto out;
    }
  }
  if (display_name != NULL)
    rr_str_copy(u.display_name, sizeof(u.display_name), display_name);
  if (role != NULL) {
    snprintf(detail, sizeof(detail), "role %s -> %s", u.role, role);
    rr_str_copy(u.role, sizeof(u.role), role);
  }
  if (enabled >= 0) {
    u.enabled = enabled != 0;
    snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "%s%s", detail[0] ? ", " : "",
             enabled ? "enabled" : "disabled");
    if (enabled)
      u.locked_until = 0, u.failed_logins = 0;
  }
  u.updated_at = a->now();
  error = rr_store_user_update(a->store, &u, err, errsize);
  forget_user(a, username);
out:
  audit(a, actor->username, actor->role_name, "", "user.update", u.username, error == 0 ? "success" : "failure",
        error == 0 ? detail : err);
  OPENSSL_cleanse(&u, sizeof(u));
  return error;
}

static int set_password(rr_auth *a, rr_user_rec *u, const char *password, char *err, size_t errsize)
{
  int error;

  if ((error = rr_password_check_policy(password, u->username, a->opts.password_min_length, err, errsize)) < 0 ||
      (error = rr_password_hash(u->password_hash, sizeof(u->password_hash), password, NULL, err, errsize)) < 0)
    return error;
  /* tokens issued before now stop working (they compare iat) */
  u->password_changed_at = u->updated_at = a->now();
  u->token_generation++; /* every earlier token of the user stops working */
  u->failed_logins = 0;
  u->locked_until = 0;
  error = rr_store_user_update(a->store, u, err, errsize);
  forget_user(a, u->username);
  return error;
}

int rr_auth_user_reset_password(rr_auth *a, const rr_identity *actor, const char *username, const char *password,
                                char *err, size_t errsize)
{
  rr_user_rec u;
  int error;

  if ((error = rr_store_user_get(a->store, &u, username, err, errsize)) == 0)
    error = set_password(a, &u, password, err, errsize);
  audit(a, actor->username, actor->role_name, "", "user.password_reset", username_ok(username) ? username : "",
        error == 0 ? "success" : "failure", error == 0 ? "" : err);
  OPENSSL_cleanse(&u, sizeof(u));
  return error;
}

int rr_auth_change_password(rr_auth *a, const rr_identity *actor, const char *current, const char *password,
                            char *err, size_t errsize)
{
  rr_user_rec u;
  int error;

  if ((error = rr_store_user_get(a->store, &u, actor->username, err, errsize)) < 0)
    return error;
  if (current == NULL || rr_password_verify(u.password_hash, current) != 0)
    error = rr_fail(err, errsize, RR_EINVAL, "the current password is not right");
  else
    error = set_password(a, &u, password, err, errsize);
  audit(a, actor->username, actor->role_name, "", "user.password_change", actor->username,
        error == 0 ? "success" : "failure", error == 0 ? "" : err);
  OPENSSL_cleanse(&u, sizeof(u));
  return error;
}

int rr_auth_write_initial_password(char *path, size_t psize, const char *beside, const char *password)
{
  static const char name[] = "initial-admin-password";
  const char *slash = strrchr(beside, '/');
  size_t dirlen = slash != NULL ? (size_t)(slash - beside) + 1 : 0;
  ssize_t n;
  int fd;

  if (psize == 0 || dirlen + sizeof(name) > psize)
    return RR_EFULL;
  memcpy(path, beside, dirlen);
  memcpy(path + dirlen, name, sizeof(name));
  unlink(path);
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return RR_ERROR;
  n = write(fd, password, strlen(password));
  if (n == (ssize_t)strlen(password))
    n = write(fd, "\n", 1);
  close(fd);
  return n > 0 ? 0 : RR_ERROR;
}
