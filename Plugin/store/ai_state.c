/*
 * ai_state.c - names of the AI analysis states. See ai_state.h.
 */
#include "store/ai_state.h"

#include <string.h>

#include "util/errors.h"

static const char *const names[RR_AI_STATE_COUNT] = {
    [RR_AI_STATE_QUEUED] = "queued",       [RR_AI_STATE_RUNNING] = "running", [RR_AI_STATE_COMPLETED] = "completed",
    [RR_AI_STATE_INVALID] = "invalid",     [RR_AI_STATE_BLOCKED] = "blocked", [RR_AI_STATE_SAFETY] = "safety",
    [RR_AI_STATE_TRUNCATED] = "truncated", [RR_AI_STATE_REFUSED] = "refused", [RR_AI_STATE_FAILED] = "failed",
    [RR_AI_STATE_CANCELLED] = "cancelled",
};

const char *rr_ai_state_name(rr_ai_state state)
{
  return (unsigned)state < RR_AI_STATE_COUNT ? names[state] : "";
}

int rr_ai_state_parse(rr_ai_state *out, const char *name)
{
  unsigned i;

  if (name == NULL)
    return RR_EINVAL;
  for (i = 0; i < RR_AI_STATE_COUNT; i++)
    if (strcmp(names[i], name) == 0) {
      *out = (rr_ai_state)i;
      return 0;
    }
  return RR_EINVAL;
}

bool rr_ai_state_is(const char *name, rr_ai_state state)
{
  return name != NULL && (unsigned)state < RR_AI_STATE_COUNT && strcmp(name, names[state]) == 0;
}

bool rr_ai_state_is_final(rr_ai_state state)
{
  return state != RR_AI_STATE_QUEUED && state != RR_AI_STATE_RUNNING;
}
