/*
 * auth/auth.h - identities: users and their passwords, login with lock-out,
 * tokens (JWT) and their revocation, and the authentication of a request
 * from its Authorization header (Bearer or Basic) or session cookie.
 *
 * Caches keep requests off the store: a verified token (keyed by its
 * SHA-256, never kept past the token's expiry) and a user's state (enabled,
 * role, password change time; kept 10 s, dropped at once by the changes made
 * through this module — on every node sharing the store, which signals them
 * (store_cluster.h: a user changed or disabled, a token revoked). A request is accepted when its token verifies, is
 * not revoked, and its user exists, is enabled, still has the role the token
 * claims and has not changed password since the token was issued.
 *
 * Automatic log-off (auth/lifetime.h): every token carries its session's
 * login time (auth_time); it expires IdleTimeoutSeconds after it was issued
 * (a refresh is the session's activity mark) and never after the session's
 * maximum age; a refresh past that age is refused. The first request that
 * shows an ended session's token is audited ("logout", outcome "success",
 * detail "automatic: idle" or "automatic: max-age") and the token revoked,
 * so each ending is recorded once.
 *
 * Every function is thread-safe. The store and audit writer are borrowed and
 * must outlive the object. Error sentences never contain passwords or
 * tokens, and say nothing of whether a user name exists.
 */
#ifndef RR_AUTH_AUTH_H
#define RR_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "store/store.h"

typedef struct rr_auth rr_auth;

typedef enum rr_auth_method { RR_AUTH_NONE = 0, RR_AUTH_BEARER, RR_AUTH_COOKIE, RR_AUTH_BASIC } rr_auth_method;

#define RR_SESSION_COOKIE "rr_session"
#define RR_CSRF_COOKIE "rr_csrf"
#define RR_CSRF_HEADER "x-csrf-token"

typedef struct rr_identity {
  char username[RR_USERNAME_SIZE];
  char display_name[128];
  char role_name[RR_ROLE_SIZE];
  unsigned role;          /* one RR_ROLE_* bit (auth/matrix.h) */
  char jti[64];           /* "" for Basic */
  char token_hash[65];    /* "" for Basic */
  int64_t expires_at;     /* token expiry; Basic: end of the cache entry */
  int64_t auth_time;      /* when the session began (its login); 0 for Basic */
  rr_auth_method method;
} rr_identity;

/* What a request offers to prove who it is; any field may be NULL. */
typedef struct rr_credentials {
  const char *authorization; /* Authorization header */
  const char *cookie;        /* Cookie header */
  const char *source;        /* client address */
} rr_credentials;

typedef struct rr_login_result {
  char *token;            /* malloc'd; release with rr_login_result_dispose */
  char csrf[65];
  int64_t expires_at;
  int64_t session_ends_at; /* the session's maximum age reached (INT64_MAX: none) */
  rr_user_rec user;       /* password_hash is cleared */
} rr_login_result;
void rr_login_result_dispose(rr_login_result *r);

/* What rr_auth_new needs of the configuration (ReadingRoom.Auth). The
 * strings are borrowed during rr_auth_new only (issuer and audience are
 * copied; the key files are read then). */
typedef struct rr_auth_options {
  const char *algorithm;        /* "HS256", "RS256" or "ES256" */
  const char *secret_file;      /* HS256: the secret, created when missing */
  const char *private_key_file; /* RS256/ES256: PEM files */
  const char *public_key_file;
  const char *issuer, *audience; /* the tokens' iss and aud (< 128 bytes) */
  unsigned token_lifetime;      /* seconds */
  unsigned idle_timeout;        /* seconds without activity before the log-off; 0 = none */
  unsigned max_session;         /* seconds from login to the forced log-off; 0 = none */
  bool allow_basic;             /* HTTP Basic accepted */
  unsigned password_min_length;
  unsigned lockout_max_failures;    /* per account */
  unsigned lockout_max_per_address; /* per client address */
  unsigned lockout_seconds;
} rr_auth_options;

/* Load or create the signing keys and the CSRF key; does not create users.
 * RR_EINVAL for an issuer or audience that does not fit. */
int rr_auth_new(rr_auth **out, const rr_auth_options *opts, rr_store *store, rr_audit *audit, char *err, size_t errsize);
void rr_auth_free(rr_auth *auth);

/*
 * When no user exists: create "admin" with `password` (from the
 * configuration or READING_ROOM_ADMIN_PASSWORD), or with a generated one
 * copied into generated[] (otherwise generated[0] = '\0'). *created says
 * whether the account was made now.
 */
int rr_auth_bootstrap(rr_auth *auth, bool *created, char *generated, size_t gsize, const char *password, char *err,
                      size_t errsize);

/* Hand a generated first password over without the log: write it to
 * "initial-admin-password" in the directory of the file `beside` (the
 * database), created anew with mode 0600, so that only the Orthanc user
 * can read it. The file's path goes to path[]. RR_EFULL when the path does
 * not fit, RR_ERROR when the file cannot be written. */
int rr_auth_write_initial_password(char *path, size_t psize, const char *beside, const char *password);

/* Log in. RR_EINVAL: wrong user name or password (one message for both);
 * RR_ELOCKED: too many failures for this account or address. The answer of
 * a failure is slowed down as failures accumulate. */
int rr_auth_login(rr_auth *auth, rr_login_result *out, const char *username, const char *password, const char *source,
                  char *err, size_t errsize);
/* Check the password of a signed-in user again, for an act of the person
 * rather than of a session (a report's signature): the same checks and
 * counting as rr_auth_login (locks of the account and the address, the
 * account's failed logins toward its lock-out, the slow-down of repeated
 * failures; a success clears the failures), without a token. RR_EINVAL:
 * wrong password (or a disabled or unknown account); RR_ELOCKED: locked.
 * Audits only the "account.lock" a failure may cause; the caller audits
 * the act and its refusal. */
int rr_auth_verify_password(rr_auth *auth, const char *username, const char *password, const char *source, char *err,
                            size_t errsize);
/* A new token for a still valid identity (the old one is revoked). */
int rr_auth_refresh(rr_auth *auth, rr_login_result *out, const rr_identity *id, char *err, size_t errsize);
/* The session limits as configured: idle timeout and maximum age in
 * seconds (0: none), and when the identity's session must end at the latest
 * (INT64_MAX: never; 0 for Basic or a NULL identity). */
void rr_auth_session_limits(rr_auth *auth, const rr_identity *id, int64_t *idle_timeout, int64_t *max_session,
                            int64_t *ends_at);
/* The clock the module reads (unix seconds); tests set theirs, NULL puts
 * util/clock.h's rr_clock_unix_s back. Call before any other thread uses
 * the object. */
void rr_auth_set_clock(rr_auth *auth, int64_t (*now)(void));
/* Revoke the identity's token (no-op for Basic). */
int rr_auth_logout(rr_auth *auth, const rr_identity *id, char *err, size_t errsize);

/* Who makes this request: 0 and *out filled; RR_ENOTFOUND when it offers no
 * credentials; RR_EINVAL when they do not hold (reason says why, for the
 * audit trail and the log, never the token). */
int rr_auth_authenticate(rr_auth *auth, rr_identity *out, const rr_credentials *c, char *reason, size_t rsize);

/* Whether HTTP Basic is accepted (Auth.AllowBasic): without it nothing is
 * answered with a Basic challenge. */
bool rr_auth_basic_allowed(const rr_auth *auth);

/* The CSRF token that goes with a session token (HMAC of its jti), and its
 * check for state-changing requests made with the session cookie. */
void rr_auth_csrf_for(rr_auth *auth, char out[65], const char *jti);
bool rr_auth_csrf_ok(rr_auth *auth, const rr_identity *id, const char *csrf_header);

/* Users, for administrators (actor is the caller, for the audit trail). */
int rr_auth_user_create(rr_auth *auth, const rr_identity *actor, const char *username, const char *display_name,
                        const char *role, const char *password, char *err, size_t errsize);
/* display_name / role NULL: unchanged; enabled -1: unchanged. */
int rr_auth_user_update(rr_auth *auth, const rr_identity *actor, const char *username, const char *display_name,
                        const char *role, int enabled, char *err, size_t errsize);
int rr_auth_user_reset_password(rr_auth *auth, const rr_identity *actor, const char *username, const char *password,
                                char *err, size_t errsize);
/* The caller's own password; needs the current one. */
int rr_auth_change_password(rr_auth *auth, const rr_identity *actor, const char *current, const char *password,
                            char *err, size_t errsize);

#endif
