#include "api/args.h"

#include <string.h>

#include "util/str.h"

bool rr_args_study_uid_ok(const char *uid)
{
  size_t i, len;

  if (uid == NULL)
    return false;
  len = strlen(uid);
  if (len == 0 || len > 64 || uid[0] == '.' || uid[len - 1] == '.' || strstr(uid, "..") != NULL)
    return false; /* empty components are malformed in any UID */
  for (i = 0; i < len; i++) {
    char c = uid[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.'))
      return false;
  }
  return true;
}

const char *rr_args_query(const OrthancPluginHttpRequest *req, const char *key, char *buf, size_t size)
{
  uint32_t i;

  for (i = 0; i < req->getCount; i++)
    if (strcmp(req->getKeys[i], key) == 0)
      return rr_url_decode(buf, size, req->getValues[i] ? req->getValues[i] : "") == 0 ? buf : NULL;
  return "";
}
