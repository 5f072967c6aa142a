#include "api/caller.h"

#include <string.h>

#include "auth/filter.h"
#include "auth/matrix.h"
#include "util/errors.h"
#include "util/str.h"

int rr_api_caller(rr_identity *out, bool access_control)
{
  const rr_identity *id;

  memset(out, 0, sizeof(*out));
  if (!access_control) {
    rr_str_copy(out->username, sizeof(out->username), "anonymous");
    return 0;
  }
  id = rr_filter_current_identity();
  if (id == NULL || (id->role & RR_ROLE_USERS) == 0)
    return RR_ENOTFOUND;
  *out = *id;
  return 0;
}
