#include "chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "util/buf.h"
#include "util/errors.h"
#include "util/sha256.h"

#define VERIFY_PAGE 1000

static int put_field(rr_buf *b, const char *value)
{
  size_t len = strlen(value);
  int error;

  if ((error = rr_buf_printf(b, "%zu:", len)) < 0 || (error = rr_buf_append(b, value, len)) < 0)
    return error;
  return rr_buf_putc(b, '\n');
}

int rr_audit_hash(char out[RR_HASH_HEX_SIZE], const char *prev_hash, const rr_audit_rec *rec)
{
  rr_buf b;
  int error;

  rr_buf_init(&b, 4096);
  if ((error = rr_buf_printf(&b, "rr-audit-v1\n%s\n%" PRId64 "\n%" PRId64 "\n", prev_hash, rec->seq, rec->at_ms)) < 0 ||
      (error = put_field(&b, rec->username)) < 0 || (error = put_field(&b, rec->role)) < 0 ||
      (error = put_field(&b, rec->source)) < 0 || (error = put_field(&b, rec->action)) < 0 ||
      (error = put_field(&b, rec->resource)) < 0 || (error = put_field(&b, rec->outcome)) < 0 ||
      (error = put_field(&b, rec->detail)) < 0)
    goto out;
  error = rr_sha256_hex(out, b.ptr, b.len);
out:
  rr_buf_dispose(&b);
  return error;
}

static void broken(rr_audit_verification *out, int64_t seq, const char *reason)
{
  out->intact = false;
  out->first_broken = seq;
  snprintf(out->reason, sizeof(out->reason), "%s", reason);
}

int rr_audit_verify(rr_audit_verification *out, rr_store *store, char *err, size_t errsize)
{
  rr_audit_filter f;
  rr_audit_list *page = NULL;
  char expected_prev[RR_HASH_HEX_SIZE], computed[RR_HASH_HEX_SIZE];
  int64_t expected_seq = 1;
  size_t i;
  int error = 0;

  memset(out, 0, sizeof(*out));
  out->intact = true;
  memset(&f, 0, sizeof(f));
  f.limit = VERIFY_PAGE;
  memset(expected_prev, '0', 64);
  expected_prev[64] = '\0';
  for (;;) {
    if ((error = rr_store_audit_query(store, &page, &f, err, errsize)) < 0)
      return error;
    for (i = 0; i < page->count && out->intact; i++) {
      const rr_audit_rec *r = &page->items[i];
      out->records++;
      if (r->seq != expected_seq) {
        broken(out, r->seq, r->seq > expected_seq ? "records are missing before this one" : "sequence out of order");
      } else if (strcmp(r->prev_hash, expected_prev) != 0) {
        broken(out, r->seq, "does not link to the previous record");
      } else if ((error = rr_audit_hash(computed, r->prev_hash, r)) < 0) {
        rr_audit_list_free(page);
        return rr_fail(err, errsize, error, "cannot hash an audit record");
      } else if (strcmp(computed, r->hash) != 0) {
        broken(out, r->seq, "its content does not match its hash (edited)");
      }
      memcpy(expected_prev, r->hash, RR_HASH_HEX_SIZE);
      expected_seq = r->seq + 1;
    }
    if (page->count < VERIFY_PAGE || !out->intact) {
      rr_audit_list_free(page);
      break;
    }
    f.after_seq = page->items[page->count - 1].seq;
    rr_audit_list_free(page);
    page = NULL;
  }
  return 0;
}
