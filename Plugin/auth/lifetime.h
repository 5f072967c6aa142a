/*
 * auth/lifetime.h - how long a session and each of its tokens live: the
 * automatic log-off rules (HIPAA 164.312(a)(2)(iii)).
 *
 * A session begins at its login (auth_time, carried by every token of the
 * session and kept by refreshes). Each token is issued for
 *   min(TokenLifetimeSeconds, IdleTimeoutSeconds)   (idle 0: no idle limit)
 * and never past auth_time + MaxSessionSeconds. A refresh is the session's
 * user-activity mark: the web app refreshes only when its user acts
 * (background polls never refresh), so a session whose user does nothing
 * ends IdleTimeoutSeconds after the last activity, and every session ends
 * MaxSessionSeconds after its login, however often it is refreshed.
 *
 * Pure functions of their arguments (the caller reads the clock,
 * util/clock.h); any thread.
 */
#ifndef RR_AUTH_LIFETIME_H
#define RR_AUTH_LIFETIME_H

#include <stdint.h>

typedef struct rr_session_limits {
  int64_t token_lifetime; /* seconds, >= 1 */
  int64_t idle_timeout;   /* seconds without activity; 0 = no idle log-off */
  int64_t max_age;        /* seconds since the login; 0 = no maximum */
} rr_session_limits;

/* Why a session's token ended. */
typedef enum rr_session_end {
  RR_SESSION_END_IDLE = 0,    /* its idle time ran out (or its lifetime, without an idle limit) */
  RR_SESSION_END_MAX_AGE = 1  /* the session reached its maximum age */
} rr_session_end;

/* The expiry (exp) of a token issued at `now` in a session that began at
 * `auth_time` (<= now): 0 and *out > now, or RR_EINVAL when the session
 * has reached its maximum age (no new token: log in again). */
int rr_session_expiry(int64_t *out, const rr_session_limits *l, int64_t auth_time, int64_t now);

/* When the session that began at `auth_time` must end (auth_time + max_age;
 * INT64_MAX without a maximum). */
int64_t rr_session_ends_at(const rr_session_limits *l, int64_t auth_time);

/* Why a token of the session begun at `auth_time`, expiring at
 * `expires_at`, ended: its maximum age when exp reached the session's end. */
rr_session_end rr_session_end_reason(const rr_session_limits *l, int64_t auth_time, int64_t expires_at);

/* "idle" or "max-age" (for audit records and answers). */
const char *rr_session_end_name(rr_session_end reason);

#endif
