/*
 * ai_state.h - the states of an AI analysis, with their names.
 *
 *   queued -> running -> completed | invalid | blocked | safety | truncated
 *                        | refused | failed | cancelled
 *
 * queued and running are in progress; every other state is final (the
 * analysis never changes state again, except that a clean stop puts a
 * running analysis back to queued). The names are the words stored in the
 * store (ai_analyses.status), sent by the REST API ("status", the aiStatus
 * worklist argument, where "none" means "no analysis" and is not a state)
 * and used by the web app. The same lists in SQL, TypeScript, the query
 * parser and README.md are checked against this one by the ctest test
 * ai_states_agree (Resources/cmake/CheckAiStates.cmake).
 *
 * Pure functions, no allocation, any thread. This module sits in store/ so
 * that the store and everything above it may use it; it includes nothing
 * of the plugin's but util/errors.h.
 */
#ifndef RR_STORE_AI_STATE_H
#define RR_STORE_AI_STATE_H

#include <stdbool.h>

typedef enum rr_ai_state {
  RR_AI_STATE_QUEUED = 0, /* waiting for a worker */
  RR_AI_STATE_RUNNING,    /* taken by a worker */
  RR_AI_STATE_COMPLETED,  /* validated findings stored */
  RR_AI_STATE_INVALID,    /* the answer did not match the findings schema (after one repair) */
  RR_AI_STATE_BLOCKED,    /* the provider blocked the prompt */
  RR_AI_STATE_SAFETY,     /* the answer was stopped by a safety filter */
  RR_AI_STATE_TRUNCATED,  /* the output token limit was reached */
  RR_AI_STATE_REFUSED,    /* the model refused */
  RR_AI_STATE_FAILED,     /* anything else went wrong; the error says what */
  RR_AI_STATE_CANCELLED,  /* cancelled by a user */
  RR_AI_STATE_COUNT
} rr_ai_state;

/* The longest name, with its NUL, fits in this many bytes. */
#define RR_AI_STATE_NAME_SIZE 16

/* "queued", …; "" for a value outside the enum. */
const char *rr_ai_state_name(rr_ai_state state);
/* The state named `name` (exact, lower case). 0, or RR_EINVAL (NULL or an
 * unknown name; *out untouched). */
int rr_ai_state_parse(rr_ai_state *out, const char *name);
/* Whether `name` names `state` (false for NULL or unknown names). */
bool rr_ai_state_is(const char *name, rr_ai_state state);
/* Final: every state but queued and running. */
bool rr_ai_state_is_final(rr_ai_state state);

#endif
