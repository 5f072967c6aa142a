#include "anchor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/errors.h"
#include "util/str.h"

#define MAGIC "rr-audit-anchor-v1"
#define LINE_MAX_LEN 160

static bool is_hex64(const char *s)
{
  size_t i;

  for (i = 0; i < 64; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[64] == '\0';
}

int rr_audit_anchor_read(rr_audit_anchor *out, const char *path, char *err, size_t errsize)
{
  char line[LINE_MAX_LEN + 1], hash[LINE_MAX_LEN];
  ssize_t n;
  int fd, error = 0;
  long long seq;
  char extra;

  memset(out, 0, sizeof(*out));
  if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
    if (errno == ENOENT)
      return rr_fail(err, errsize, RR_ENOTFOUND, "the audit anchor %s does not exist", path);
    return rr_fail(err, errsize, RR_ESTORE, "cannot open the audit anchor %s: %s", path, strerror(errno));
  }
  n = read(fd, line, LINE_MAX_LEN);
  if (n < 0) {
    error = rr_fail(err, errsize, RR_ESTORE, "cannot read the audit anchor %s: %s", path, strerror(errno));
    goto out;
  }
  line[n] = '\0';
  if (sscanf(line, MAGIC " %lld %159s%c", &seq, hash, &extra) != 3 || extra != '\n' || seq < 0 ||
      (seq == 0 ? hash[0] != '-' || hash[1] != '\0' : !is_hex64(hash)) || (size_t)n != strlen(line) ||
      line[n - 1] != '\n' || strchr(line, '\n') != line + n - 1) {
    error = rr_fail(err, errsize, RR_EINVAL, "the audit anchor %s is not a valid anchor file", path);
    goto out;
  }
  out->seq = seq;
  if (seq > 0)
    rr_str_copy(out->hash, sizeof(out->hash), hash);
out:
  close(fd);
  return error;
}

static int write_all(int fd, const char *p, size_t len)
{
  ssize_t n;

  while (len > 0) {
    if ((n = write(fd, p, len)) < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* fsync the directory holding `path`, so that the rename is durable. */
static int sync_dir(const char *path)
{
  char dir[4096];
  size_t len = rr_str_copy(dir, sizeof(dir), path);
  int fd, rc;

  while (len > 0 && dir[len - 1] != '/')
    len--;
  if (len == 0)
    rr_str_copy(dir, sizeof(dir), ".");
  else
    dir[len > 1 ? len - 1 : 1] = '\0';
  if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return -1;
  rc = fsync(fd);
  close(fd);
  return rc;
}

int rr_audit_anchor_write(const char *path, const rr_audit_anchor *anchor, char *err, size_t errsize)
{
  char tmp[4200], line[LINE_MAX_LEN];
  int fd, len;

  if (anchor->seq < 0 || (anchor->seq > 0 && !is_hex64(anchor->hash)))
    return rr_fail(err, errsize, RR_EINVAL, "invalid audit anchor");
  len = snprintf(line, sizeof(line), MAGIC " %" PRId64 " %s\n", anchor->seq, anchor->seq > 0 ? anchor->hash : "-");
  if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
    return rr_fail(err, errsize, RR_EINVAL, "the audit anchor's path is too long");
  if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0)
    return rr_fail(err, errsize, RR_ESTORE, "cannot write the audit anchor %s: %s", tmp, strerror(errno));
  if (write_all(fd, line, (size_t)len) < 0 || fsync(fd) < 0) {
    int e = errno;
    close(fd);
    unlink(tmp);
    return rr_fail(err, errsize, RR_ESTORE, "cannot write the audit anchor %s: %s", tmp, strerror(e));
  }
  if (close(fd) < 0 || rename(tmp, path) < 0) {
    int e = errno;
    unlink(tmp);
    return rr_fail(err, errsize, RR_ESTORE, "cannot replace the audit anchor %s: %s", path, strerror(e));
  }
  if (sync_dir(path) < 0)
    return rr_fail(err, errsize, RR_ESTORE, "cannot sync the directory of the audit anchor %s: %s", path,
                   strerror(errno));
  return 0;
}

/* The record with sequence `seq` (RR_ENOTFOUND when none), or the newest
 * one when seq is 0. */
static int record_at(rr_audit_rec *out, bool *found, rr_store *store, int64_t seq, char *err, size_t errsize)
{
  rr_audit_filter f;
  rr_audit_list *list = NULL;
  int error;

  memset(&f, 0, sizeof(f));
  f.limit = 1;
  f.descending = true;
  if (seq > 0)
    f.before_seq = seq + 1;
  if ((error = rr_store_audit_query(store, &list, &f, err, errsize)) < 0)
    return error;
  *found = list->count > 0;
  if (*found)
    *out = list->items[0];
  rr_audit_list_free(list);
  return 0;
}

int rr_audit_anchor_of_store(rr_audit_anchor *out, rr_store *store, char *err, size_t errsize)
{
  rr_audit_rec rec;
  bool found = false;
  int error;

  memset(out, 0, sizeof(*out));
  if ((error = record_at(&rec, &found, store, 0, err, errsize)) < 0)
    return error;
  if (found) {
    out->seq = rec.seq;
    rr_str_copy(out->hash, sizeof(out->hash), rec.hash);
  }
  return 0;
}

int rr_audit_anchor_check(bool *ok, char *reason, size_t reasonsize, const rr_audit_anchor *anchor, rr_store *store,
                          char *err, size_t errsize)
{
  rr_audit_rec rec;
  bool found = false;
  int error;

  *ok = true;
  if (reasonsize > 0)
    reason[0] = '\0';
  if (anchor->seq == 0)
    return 0;
  if ((error = record_at(&rec, &found, store, anchor->seq, err, errsize)) < 0)
    return error;
  if (!found) {
    *ok = false;
    snprintf(reason, reasonsize, "head missing: %" PRId64 " records deleted (the anchor is at #%" PRId64
             ", the trail is empty)", anchor->seq, anchor->seq);
  } else if (rec.seq < anchor->seq) {
    *ok = false;
    snprintf(reason, reasonsize, "head missing: %" PRId64 " records deleted after #%" PRId64 " (the anchor is at #%" PRId64 ")",
             anchor->seq - rec.seq, rec.seq, anchor->seq);
  } else if (strcmp(rec.hash, anchor->hash) != 0) {
    *ok = false;
    snprintf(reason, reasonsize, "record #%" PRId64 " is not the one anchored: records were deleted and the trail "
             "rewritten from there", anchor->seq);
  }
  return 0;
}
