/*
 * error_table - print the API's error answers (Plugin/api/failure.c) as the
 * Markdown table of README.md ("REST API"), so that README's list of error
 * codes is the one the plugin sends.
 *   error_table > table.md
 */
#include <stdio.h>

#include "api/failure.h"

int main(void)
{
  int i;

  printf("| `code` | status | when |\n");
  printf("|---|:-:|---|\n");
  for (i = 0; i < RR_API_ERROR_COUNT; i++) {
    const rr_api_error_info *e = rr_api_error_info_of((rr_api_error)i);
    printf("| `%s` | %d | %s%s |\n", e->code, e->status, e->meaning, e->log ? " (logged; the message points to Orthanc's log)" : "");
  }
  return 0;
}
