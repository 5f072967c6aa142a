#include "route.h"

#include "auth/filter.h"
#include "util/errors.h"
#include "util/log.h"

static OrthancPluginContext *route_ctx;
static OrthancPluginRestCallback route_table[RR_API_ROUTE_SLOTS];
static unsigned route_count;

static OrthancPluginErrorCode dispatch(unsigned slot, OrthancPluginRestOutput *out, const char *url,
                                       const OrthancPluginHttpRequest *req)
{
  if (rr_filter_take_challenge()) {
    OrthancPluginSendUnauthorized(route_ctx, out, RR_API_REALM);
    return OrthancPluginErrorCode_Success;
  }
  return route_table[slot](out, url, req);
}

/* one trampoline per slot: the SDK's callbacks carry no user data */
#define SLOT(n)                                                                                                      \
  static OrthancPluginErrorCode slot_##n(OrthancPluginRestOutput *out, const char *url,                            \
                                         const OrthancPluginHttpRequest *req)                                       \
  {                                                                                                                  \
    return dispatch(0##n, out, url, req); /* n: two octal digits, the slot */                                      \
  }
#define SLOT8(n) SLOT(n##0) SLOT(n##1) SLOT(n##2) SLOT(n##3) SLOT(n##4) SLOT(n##5) SLOT(n##6) SLOT(n##7)
SLOT8(0)
SLOT8(1)
SLOT8(2)
SLOT8(3)
SLOT8(4)
SLOT8(5)
SLOT8(6)
SLOT8(7)
#define NAME8(n) slot_##n##0, slot_##n##1, slot_##n##2, slot_##n##3, slot_##n##4, slot_##n##5, slot_##n##6, slot_##n##7

static const OrthancPluginRestCallback trampolines[RR_API_ROUTE_SLOTS] = {NAME8(0), NAME8(1), NAME8(2), NAME8(3),
                                                                          NAME8(4), NAME8(5), NAME8(6), NAME8(7)};

int rr_api_route(OrthancPluginContext *ctx, const char *regex, OrthancPluginRestCallback cb)
{
  if (route_count >= RR_API_ROUTE_SLOTS) {
    rr_log_error("API: more than %d routes, %s not registered", RR_API_ROUTE_SLOTS, regex);
    return RR_EFULL;
  }
  route_ctx = ctx;
  route_table[route_count] = cb;
  OrthancPluginRegisterRestCallbackNoLock(ctx, regex, trampolines[route_count]);
  route_count++;
  return 0;
}
