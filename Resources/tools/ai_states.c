/*
 * ai_states - print the AI analysis states of Plugin/store/ai_state.c, one
 * a line: "<name> final" or "<name> progress". Read by
 * Resources/cmake/CheckAiStates.cmake, which compares the other lists of
 * states (SQL, TypeScript, the query parser, README.md) with this one.
 */
#include <stdio.h>

#include "store/ai_state.h"

int main(void)
{
  unsigned i;

  for (i = 0; i < RR_AI_STATE_COUNT; i++)
    printf("%s %s\n", rr_ai_state_name((rr_ai_state)i), rr_ai_state_is_final((rr_ai_state)i) ? "final" : "progress");
  return 0;
}
