/*
 * role_matrix - print the role matrix (Plugin/auth/matrix.c) as the
 * Markdown table of README.md, so that the README is made from the code,
 * or as JSON for the integration test that replays it against Orthanc.
 *   role_matrix > table.md
 *   role_matrix --json > rules.json
 */
#include <stdio.h>
#include <string.h>

#include "auth/matrix.h"

static const char *mark(unsigned roles, unsigned role)
{
  return (roles & role) ? "✓" : "";
}

static int print_json(void)
{
  size_t i, n = rr_matrix_rule_count();

  printf("[\n");
  for (i = 0; i < n; i++) {
    const rr_matrix_rule *r = rr_matrix_rule_at(i);
    /* patterns hold no '"' or '\\' (rr_matrix_new refuses them) */
    printf("  {\"methods\": %u, \"pattern\": \"%s\", \"roles\": %u, \"flags\": %u}%s\n", r->methods, r->pattern,
           r->roles, r->flags, i + 1 < n ? "," : "");
  }
  printf("]\n");
  return 0;
}

int main(int argc, char **argv)
{
  size_t i, n = rr_matrix_rule_count();

  if (argc > 1 && strcmp(argv[1], "--json") == 0)
    return print_json();

  printf("| methods | route | admin | radiologist | technician | physician | anonymous | notes |\n");
  printf("|---|---|:-:|:-:|:-:|:-:|:-:|---|\n");
  for (i = 0; i < n; i++) {
    const rr_matrix_rule *r = rr_matrix_rule_at(i);
    char methods[32] = "";
    int len = 0;

    if ((r->methods & RR_METHOD_ALL) == RR_METHOD_ALL)
      len = snprintf(methods, sizeof(methods), "any");
    else {
      if (r->methods & RR_METHOD_GET)
        len += snprintf(methods + len, sizeof(methods) - (size_t)len, "%sGET", len ? " " : "");
      if (r->methods & RR_METHOD_POST)
        len += snprintf(methods + len, sizeof(methods) - (size_t)len, "%sPOST", len ? " " : "");
      if (r->methods & RR_METHOD_PUT)
        len += snprintf(methods + len, sizeof(methods) - (size_t)len, "%sPUT", len ? " " : "");
      if (r->methods & RR_METHOD_DELETE)
        len += snprintf(methods + len, sizeof(methods) - (size_t)len, "%sDELETE", len ? " " : "");
    }
    printf("| %s | `%s` | %s | %s | %s | %s | %s | %s%s%s |\n", methods, r->pattern, mark(r->roles, RR_ROLE_ADMIN),
           mark(r->roles, RR_ROLE_RADIOLOGIST), mark(r->roles, RR_ROLE_TECHNICIAN), mark(r->roles, RR_ROLE_PHYSICIAN),
           mark(r->roles, RR_ROLE_ANONYMOUS), (r->flags & RR_RULE_STUDY_IMAGES) ? "physician: studies with a final report only" : "",
           (r->flags & RR_RULE_STUDY_IMAGES) && (r->flags & RR_RULE_AUDIT_STUDY) ? "; " : "",
           (r->flags & RR_RULE_AUDIT_STUDY) ? "audited" : "");
  }
  return 0;
}
