/*
 * test_backup_crypto.c - backup/backup_crypto: the RRB1 AES-256-GCM envelope
 * (round trip, every part tampered, wrong object key, wrong key, bounded
 * output) and key loading (config base64, key files, permissions).
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "backup/backup_crypto.h"
#include "common.h"

static const uint8_t key1[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
static const char *aad1 = "studies/1.2.3/1.2.3.4.rrb";

static bool contains(const char *hay, size_t len, const void *needle, size_t nl)
{
  size_t i;
  for (i = 0; i + nl <= len; i++)
    if (memcmp(hay + i, needle, nl) == 0)
      return true;
  return false;
}

static void seal_plain(rr_buf *sealed, const void *plain, size_t len)
{
  char err[256];
  rr_buf_init(sealed, len + 1024);
  ck_assert_int_eq(rr_backup_seal(sealed, key1, plain, len, aad1, err, sizeof(err)), 0);
  ck_assert_uint_eq(sealed->len, len + RR_BACKUP_SEAL_OVERHEAD);
  ck_assert_int_eq(memcmp(sealed->ptr, "RRB1", 4), 0);
}

START_TEST(round_trip)
{
  static const size_t sizes[] = {0, 1, 15, 16, 17, 4096, 300001};
  size_t i, j;
  char err[256];

  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    unsigned char *plain = malloc(sizes[i] + 1);
    rr_buf sealed, back;
    for (j = 0; j < sizes[i]; j++)
      plain[j] = (unsigned char)(j * 7 + i);
    seal_plain(&sealed, plain, sizes[i]);
    if (sizes[i] > 32) /* the payload is not in clear */
      ck_assert(!contains(sealed.ptr, sealed.len, plain, 32));
    rr_buf_init(&back, sizes[i] + 1);
    ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, aad1, err, sizeof(err)), 0);
    ck_assert_uint_eq(back.len, sizes[i]);
    ck_assert(sizes[i] == 0 || memcmp(back.ptr, plain, sizes[i]) == 0);
    rr_buf_dispose(&sealed);
    rr_buf_dispose(&back);
    free(plain);
  }
}
END_TEST

START_TEST(fresh_nonce_each_time)
{
  rr_buf a, b;
  seal_plain(&a, "same", 4);
  seal_plain(&b, "same", 4);
  ck_assert_int_ne(memcmp(a.ptr + 4, b.ptr + 4, RR_BACKUP_NONCE_LEN), 0);
  ck_assert_int_ne(memcmp(a.ptr, b.ptr, a.len), 0);
  rr_buf_dispose(&a);
  rr_buf_dispose(&b);
}
END_TEST

/* Flip one bit at each offset of the envelope (magic, nonce, ciphertext, tag):
 * every one is refused and nothing is appended. */
START_TEST(tamper_each_part_refused)
{
  const char plain[] = "DICM instance bytes, forty-something long.";
  rr_buf sealed, back;
  char err[256];
  size_t i;

  seal_plain(&sealed, plain, sizeof(plain));
  rr_buf_init(&back, 4096);
  rr_buf_puts(&back, "keep");
  for (i = 0; i < sealed.len; i++) {
    sealed.ptr[i] ^= 0x01;
    err[0] = '\0';
    ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, aad1, err, sizeof(err)), RR_EINVAL);
    ck_assert_uint_eq(back.len, 4);
    ck_assert_str_eq(back.ptr, "keep");
    ck_assert(err[0] != '\0');
    sealed.ptr[i] ^= 0x01;
  }
  /* truncated and extended */
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len - 1, aad1, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, 10, aad1, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "RRB1"));
  ck_assert_int_eq(rr_buf_putc(&sealed, 'x'), 0);
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, aad1, err, sizeof(err)), RR_EINVAL);
  sealed.len--;
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, aad1, err, sizeof(err)), 0);
  ck_assert_str_eq(back.ptr + 4, plain);
  rr_buf_dispose(&sealed);
  rr_buf_dispose(&back);
}
END_TEST

START_TEST(wrong_object_key_refused)
{
  rr_buf sealed, back;
  char err[256];

  seal_plain(&sealed, "instance A", 10);
  rr_buf_init(&back, 4096);
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, "studies/1.2.3/1.2.3.5.rrb", err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "object key"));
  ck_assert_int_eq(rr_backup_unseal(&back, key1, sealed.ptr, sealed.len, "", err, sizeof(err)), RR_EINVAL);
  ck_assert_uint_eq(back.len, 0);
  rr_buf_dispose(&sealed);
  rr_buf_dispose(&back);
}
END_TEST

START_TEST(wrong_key_refused)
{
  uint8_t key2[32];
  rr_buf sealed, back;
  char err[256];

  memcpy(key2, key1, 32);
  key2[31] ^= 0x80;
  seal_plain(&sealed, "instance A", 10);
  rr_buf_init(&back, 4096);
  ck_assert_int_eq(rr_backup_unseal(&back, key2, sealed.ptr, sealed.len, aad1, err, sizeof(err)), RR_EINVAL);
  ck_assert_uint_eq(back.len, 0);
  rr_buf_dispose(&sealed);
  rr_buf_dispose(&back);
}
END_TEST

START_TEST(bounded_output)
{
  rr_buf small, sealed;
  char err[256];

  rr_buf_init(&small, 20);
  ck_assert_int_eq(rr_backup_seal(&small, key1, "0123456789", 10, aad1, err, sizeof(err)), RR_EFULL);
  ck_assert_uint_eq(small.len, 0);
  seal_plain(&sealed, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
  ck_assert_int_eq(rr_backup_unseal(&small, key1, sealed.ptr, sealed.len, aad1, err, sizeof(err)), RR_EFULL);
  ck_assert_uint_eq(small.len, 0);
  rr_buf_dispose(&small);
  rr_buf_dispose(&sealed);
}
END_TEST

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq((int)write(fd, data, len), (int)len);
  close(fd);
  ck_assert_int_eq(chmod(path, mode), 0);
}

/* base64 of key1 */
static const char key1_b64[] = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

START_TEST(key_from_config)
{
  uint8_t key[32];
  char err[256];

  ck_assert_int_eq(rr_backup_key_load(key, key1_b64, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(memcmp(key, key1, 32), 0);
  ck_assert_int_eq(rr_backup_key_load(key, "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHw==", NULL, err, sizeof(err)),
                   RR_EINVAL); /* 31 bytes */
  ck_assert_ptr_null(strstr(err, "AQID"));
  ck_assert_int_eq(rr_backup_key_load(key, "not base64 at all!", NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "KeyFile"));
}
END_TEST

START_TEST(key_files_and_permissions)
{
  char dir[256], raw[300], b64[300], open_file[300], err[512];
  uint8_t key[32];
  char text[80];

  rr_test_tmpdir(dir, sizeof(dir));
  snprintf(raw, sizeof(raw), "%s/raw.key", dir);
  snprintf(b64, sizeof(b64), "%s/b64.key", dir);
  snprintf(open_file, sizeof(open_file), "%s/open.key", dir);
  write_file(raw, key1, 32, 0600);
  snprintf(text, sizeof(text), "  %s\n", key1_b64);
  write_file(b64, text, strlen(text), 0400);
  write_file(open_file, key1, 32, 0644);

  memset(key, 0, 32);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, raw, err, sizeof(err)), 0);
  ck_assert_int_eq(memcmp(key, key1, 32), 0);
  memset(key, 0, 32);
  ck_assert_int_eq(rr_backup_key_load(key, "", b64, err, sizeof(err)), 0);
  ck_assert_int_eq(memcmp(key, key1, 32), 0);
  /* world-readable: refused with the fix in the sentence */
  ck_assert_int_eq(rr_backup_key_load(key, NULL, open_file, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "readable or writable by every user"));
  ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
  /* world-writable too */
  ck_assert_int_eq(chmod(open_file, 0602), 0);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, open_file, err, sizeof(err)), RR_EINVAL);
  /* group-readable is the administrator's choice */
  ck_assert_int_eq(chmod(open_file, 0640), 0);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, open_file, err, sizeof(err)), 0);
  /* wrong length, missing file, a directory */
  write_file(raw, key1, 31, 0600);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, raw, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "32 raw bytes"));
  snprintf(raw, sizeof(raw), "%s/missing.key", dir);
  ck_assert_int_eq(rr_backup_key_load(key, NULL, raw, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "cannot be read"));
  ck_assert_int_eq(rr_backup_key_load(key, NULL, dir, err, sizeof(err)), RR_EINVAL);
  rr_test_rmdir(dir);
}
END_TEST

static Suite *backup_crypto_suite(void)
{
  Suite *s = suite_create("backup_crypto");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, round_trip);
  tcase_add_test(tc, fresh_nonce_each_time);
  tcase_add_test(tc, tamper_each_part_refused);
  tcase_add_test(tc, wrong_object_key_refused);
  tcase_add_test(tc, wrong_key_refused);
  tcase_add_test(tc, bounded_output);
  tcase_add_test(tc, key_from_config);
  tcase_add_test(tc, key_files_and_permissions);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return rr_test_run(backup_crypto_suite());
}
