/*
 * body_auth.c - fuzz target: the JSON bodies of the session and user routes
 * (POST auth/login, PUT auth/password, POST users, PUT users/{name},
 * POST users/{name}/password) read the way api/auth_api.c reads them
 * (rr_reply_parse_body, rr_json_member_str) and checked by the rules
 * auth/auth.c applies before anything is stored or hashed: the user name
 * rule, the role, the display name, the password policy.
 *
 * The first byte picks the route, the rest is the body (not NUL-terminated,
 * as Orthanc hands it over). auth.c's rules are static: this file includes
 * auth.c, so that the very code is fuzzed, not a copy (rr_fuzz_core's
 * archive copy of auth.o is then never linked).
 */
#include "../../Plugin/auth/auth.c"

#include "api/reply.h"
#include "auth/password.h"
#include "fuzz.h"
#include "util/json.h"

#define AUTH_MAX_BODY 16384 /* api/auth_api.c */

static void check_new_user(const char *name, const char *display, const char *role, const char *pass)
{
  char err[256] = "";
  unsigned bit;

  if (!username_ok(name)) {
    RR_FUZZ_ASSERT(name == NULL || strlen(name) == 0 || strlen(name) >= RR_USERNAME_SIZE || strpbrk(name, " :/%") != NULL ||
                   strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") != strlen(name));
    return;
  }
  if (role == NULL || rr_role_parse(&bit, role) < 0)
    return;
  RR_FUZZ_ASSERT((bit & RR_ROLE_USERS) != 0 && (bit & (bit - 1)) == 0);
  if (display != NULL && !display_name_ok(display))
    return;
  if (rr_password_check_policy(pass, name, 12, err, sizeof(err)) < 0)
    RR_FUZZ_ASSERT(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  OrthancPluginHttpRequest req;
  json_object *body, *v;
  const char *a, *b, *c, *d;
  char err[256] = "";
  unsigned bit;
  int bad = 0, route;

  if (size < 1)
    return 0;
  route = data[0] % 5;
  memset(&req, 0, sizeof(req));
  req.method = OrthancPluginHttpMethod_Post;
  req.body = data + 1;
  req.bodySize = (uint32_t)(size - 1);
  body = rr_reply_parse_body(rr_fuzz_context(), NULL, &req, AUTH_MAX_BODY, 0);
  if (body == NULL)
    return 0;
  RR_FUZZ_ASSERT(json_object_is_type(body, json_type_object));
  switch (route) {
  case 0: /* login */
  case 1: /* change password */
    a = rr_json_member_str(body, route == 0 ? "username" : "currentPassword", &bad);
    b = rr_json_member_str(body, route == 0 ? "password" : "newPassword", &bad);
    if (!bad && a != NULL && b != NULL) {
      if (route == 0)
        (void)username_ok(a);
      else if (rr_password_check_policy(b, "someone", 12, err, sizeof(err)) < 0)
        RR_FUZZ_ASSERT(err[0] != '\0');
    }
    break;
  case 2: /* create a user */
    a = rr_json_member_str(body, "username", &bad);
    b = rr_json_member_str(body, "displayName", &bad);
    c = rr_json_member_str(body, "role", &bad);
    d = rr_json_member_str(body, "password", &bad);
    if (!bad && a != NULL && c != NULL && d != NULL)
      check_new_user(a, b, c, d);
    break;
  case 3: /* update a user */
    b = rr_json_member_str(body, "displayName", &bad);
    c = rr_json_member_str(body, "role", &bad);
    if (json_object_object_get_ex(body, "enabled", &v) && !json_object_is_type(v, json_type_boolean))
      bad = 1;
    if (!bad) {
      if (c != NULL)
        (void)rr_role_parse(&bit, c);
      if (b != NULL)
        (void)display_name_ok(b);
    }
    break;
  default: /* reset a password */
    d = rr_json_member_str(body, "password", &bad);
    if (!bad && d != NULL && rr_password_check_policy(d, "someone", 12, err, sizeof(err)) < 0)
      RR_FUZZ_ASSERT(err[0] != '\0');
    break;
  }
  json_object_put(body);
  return 0;
}
