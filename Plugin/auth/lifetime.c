#include "lifetime.h"

#include <stdint.h>

#include "util/errors.h"

int64_t rr_session_ends_at(const rr_session_limits *l, int64_t auth_time)
{
  return l->max_age > 0 ? auth_time + l->max_age : INT64_MAX;
}

int rr_session_expiry(int64_t *out, const rr_session_limits *l, int64_t auth_time, int64_t now)
{
  int64_t life = l->token_lifetime, end = rr_session_ends_at(l, auth_time);

  *out = 0;
  if (l->idle_timeout > 0 && l->idle_timeout < life)
    life = l->idle_timeout;
  if (now >= end)
    return RR_EINVAL;
  *out = now + life < end ? now + life : end; /* now + life cannot overflow: both are bounded times */
  return 0;
}

rr_session_end rr_session_end_reason(const rr_session_limits *l, int64_t auth_time, int64_t expires_at)
{
  return expires_at >= rr_session_ends_at(l, auth_time) ? RR_SESSION_END_MAX_AGE : RR_SESSION_END_IDLE;
}

const char *rr_session_end_name(rr_session_end reason)
{
  return reason == RR_SESSION_END_MAX_AGE ? "max-age" : "idle";
}
