/*
 * test_backup_target.c - backup/backup_target, backup_http, backup_s3 and
 * backup_cloudinary without a network service: AWS's published Signature V4
 * test vectors reproduced through the targets' own libcurl path (a loopback
 * listener captures the Authorization header), Cloudinary's documented
 * signature example, URI encoding, ListObjectsV2 parsing with entities, S3
 * error sentences, key rules and option checks.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "backup/backup_cloudinary.h"
#include "backup/backup_http.h"
#include "backup/backup_s3.h"
#include "backup/backup_target.h"
#include "common.h"

/* ---- a one-request loopback listener that keeps the request's head ---- */
typedef struct capture {
  int fd;
  int port;
  char head[8192];
  pthread_t thread;
} capture;

static void *capture_main(void *arg)
{
  capture *c = arg;
  size_t len = 0;
  int conn = accept(c->fd, NULL, NULL);
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

  if (conn < 0)
    return NULL;
  while (len < sizeof(c->head) - 1) {
    ssize_t got = recv(conn, c->head + len, sizeof(c->head) - 1 - len, 0);
    if (got <= 0)
      break;
    len += (size_t)got;
    c->head[len] = '\0';
    if (strstr(c->head, "\r\n\r\n") != NULL)
      break;
  }
  if (send(conn, answer, sizeof(answer) - 1, 0) < 0)
    perror("send");
  close(conn);
  return NULL;
}

static void capture_start(capture *c)
{
  struct sockaddr_in a;
  socklen_t al = sizeof(a);

  memset(c, 0, sizeof(*c));
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_ge(c->fd, 0);
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ck_assert_int_eq(bind(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
  ck_assert_int_eq(listen(c->fd, 1), 0);
  ck_assert_int_eq(getsockname(c->fd, (struct sockaddr *)&a, &al), 0);
  c->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&c->thread, NULL, capture_main, c), 0);
}

static void capture_stop(capture *c)
{
  pthread_join(c->thread, NULL);
  close(c->fd);
}

/* The Authorization header's value as sent. */
static void header_value(char *out, size_t size, const char *head, const char *name)
{
  const char *p = strstr(head, name);
  size_t n;

  out[0] = '\0';
  ck_assert_msg(p != NULL, "no %s header in:\n%s", name, head);
  p += strlen(name);
  while (*p == ' ')
    p++;
  n = strcspn(p, "\r\n");
  ck_assert_uint_lt(n, size);
  memcpy(out, p, n);
  out[n] = '\0';
}

/* Send one request through rr_backup_http_send as the S3 target does and
 * return what the listener saw. */
static void signed_request(capture *c, const char *method, const char *path_query, const char *const *headers,
                           size_t header_count, const char *sigv4, const char *user, const char *secret)
{
  char url[512], err[256];
  rr_backup_http_request req;
  rr_backup_http_response resp;
  CURL *curl = curl_easy_init();

  ck_assert_ptr_nonnull(curl);
  capture_start(c);
  snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", c->port, path_query);
  memset(&req, 0, sizeof(req));
  req.method = method;
  req.url = url;
  req.headers = headers;
  req.header_count = header_count;
  req.sigv4 = sigv4;
  req.user = user;
  req.password = secret;
  req.timeout_seconds = 10;
  req.max_response = 1024;
  if (strcmp(method, "POST") == 0) {
    req.body = "";
    req.body_len = 0;
  }
  ck_assert_int_eq(rr_backup_http_send(curl, &resp, &req, err, sizeof(err)), 0);
  ck_assert_int_eq(resp.status, 200);
  rr_backup_http_response_dispose(&resp);
  curl_easy_cleanup(curl);
  capture_stop(c);
}

#define SUITE_SIGV4 "aws:amz:us-east-1:service"
#define SUITE_ID "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_SCOPE "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "

/* AWS SigV4 test suite: get-vanilla, post-vanilla and
 * get-vanilla-query-order-key-case (the query given in the canonical order
 * the S3 target builds, as libcurl 7.88 signs the query as sent). */
START_TEST(sigv4_aws_test_suite)
{
  static const struct {
    const char *method, *path, *want;
  } v[] = {
      {"GET", "/", SUITE_SCOPE "SignedHeaders=host;x-amz-date, "
                   "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
      {"POST", "/", SUITE_SCOPE "SignedHeaders=host;x-amz-date, "
                    "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
      {"GET", "/?Param1=value1&Param2=value2",
       SUITE_SCOPE "SignedHeaders=host;x-amz-date, "
                   "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
  };
  const char *headers[] = {"Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z"};
  char got[512];
  size_t i;
  capture c;

  ck_assert_int_eq(rr_backup_http_global_init(NULL, 0), 0);
  for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    signed_request(&c, v[i].method, v[i].path, headers, 2, SUITE_SIGV4, SUITE_ID, SUITE_SECRET);
    header_value(got, sizeof(got), c.head, "Authorization:");
    ck_assert_str_eq(got, v[i].want);
  }
}
END_TEST

/* Amazon S3's documented example "GET Object" (examplebucket, test.txt,
 * Range bytes=0-9, 2013-05-24), with the x-amz-content-sha256 header the S3
 * target sends on every request. */
START_TEST(sigv4_s3_get_object_example)
{
  const char *headers[] = {"Host: examplebucket.s3.amazonaws.com", "Range: bytes=0-9",
                           "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                           "x-amz-date: 20130524T000000Z"};
  char got[512];
  capture c;

  ck_assert_int_eq(rr_backup_http_global_init(NULL, 0), 0);
  signed_request(&c, "GET", "/test.txt", headers, 4, "aws:amz:us-east-1:s3", "AKIAIOSFODNN7EXAMPLE",
                 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  header_value(got, sizeof(got), c.head, "Authorization:");
  ck_assert_str_eq(got, "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  ck_assert_ptr_null(strstr(c.head, "wJalrXUtnFEMI"));
}
END_TEST

/* Cloudinary's "Generating authentication signatures" example: eager,
 * public_id and timestamp with the secret "abcd"; api_key and file are not
 * signed; the order of the parameters given does not matter. */
START_TEST(cloudinary_documented_signature)
{
  const char *names[] = {"timestamp", "public_id", "api_key", "eager", "file"};
  const char *values[] = {"1315060510", "sample_image", "1234", "w_400,h_300,c_pad|w_260,h_200,c_crop", "x"};
  char sig[65];

  ck_assert_int_eq(rr_backup_cloudinary_sign(sig, sizeof(sig), names, values, 5, "abcd", false), 0);
  ck_assert_str_eq(sig, "bfd09f95f331f558cbd1320e67aa8d488770583e");
  ck_assert_int_eq(rr_backup_cloudinary_sign(sig, sizeof(sig), names, values, 5, "abcd", true), 0);
  ck_assert_str_eq(sig, "cc927e1290f9e3ae4c1a741eda21a4630b4ce80f9ce0bc0296337d25cf40f91e");
  ck_assert_int_eq(rr_backup_cloudinary_sign(sig, 40, names, values, 5, "abcd", false), RR_EINVAL);
}
END_TEST

START_TEST(uri_encoding)
{
  rr_buf b;
  rr_buf_init(&b, 1024);
  ck_assert_int_eq(rr_backup_s3_uri_encode(&b, "a b/c~d_e.f-g+h=i&\xc3\xa9", true), 0);
  ck_assert_str_eq(b.ptr, "a%20b/c~d_e.f-g%2Bh%3Di%26%C3%A9");
  rr_buf_clear(&b);
  ck_assert_int_eq(rr_backup_s3_uri_encode(&b, "studies/1.2/", false), 0);
  ck_assert_str_eq(b.ptr, "studies%2F1.2%2F");
  rr_buf_dispose(&b);
}
END_TEST

START_TEST(list_parsing)
{
  static const char page1[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Prefix>p/</Prefix>"
      "<KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a&amp;b</Key><Size>1</Size></Contents>"
      "<Contents><Key>p/&lt;x&gt;&#65;&#x42;&quot;&apos;</Key><ETag>&quot;e&quot;</ETag></Contents>"
      "<Contents><Key>p/studies/1.2.3/4.5.rrb</Key></Contents>"
      "<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>"
      "</ListBucketResult>";
  static const char last[] = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
  rr_backup_keys *k;
  rr_buf token;
  bool more;
  char err[256];

  ck_assert_int_eq(rr_backup_keys_new(&k), 0);
  rr_buf_init(&token, 1024);
  ck_assert_int_eq(rr_backup_s3_parse_list(k, &more, &token, page1, strlen(page1), err, sizeof(err)), 0);
  ck_assert(more);
  ck_assert_str_eq(token.ptr, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  ck_assert_uint_eq(k->count, 3);
  ck_assert_str_eq(k->items[0], "p/a&b");
  ck_assert_str_eq(k->items[1], "p/<x>AB\"'");
  ck_assert_str_eq(k->items[2], "p/studies/1.2.3/4.5.rrb");
  ck_assert_int_eq(rr_backup_s3_parse_list(k, &more, &token, last, strlen(last), err, sizeof(err)), 0);
  ck_assert(!more);
  ck_assert_uint_eq(k->count, 3);
  ck_assert_int_eq(rr_backup_s3_parse_list(k, &more, &token, "<html>", 6, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_backup_s3_parse_list(k, &more, &token, "<ListBucketResult><Contents><Key>a&bogus;</Key></Contents>",
                                           58, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_int_eq(rr_backup_s3_parse_list(k, &more, &token,
                                           "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>", 68,
                                           err, sizeof(err)),
                   RR_EINVAL);
  rr_backup_keys_sort(k);
  rr_backup_keys_free(k);
  rr_backup_keys_free(NULL);
  rr_buf_dispose(&token);
}
END_TEST

START_TEST(error_sentences)
{
  static const char body[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
      "signature we calculated does not match the signature you provided. Check your key &amp; signing "
      "method.</Message><StringToSign>AWS4-HMAC-SHA256\n...</StringToSign><RequestId>1</RequestId></Error>";
  char out[300];

  rr_backup_s3_error_sentence(out, sizeof(out), body, strlen(body));
  ck_assert_str_eq(out, "SignatureDoesNotMatch: The request signature we calculated does not match the signature "
                        "you provided. Check your key & signing method.");
  rr_backup_s3_error_sentence(out, sizeof(out), "", 0);
  ck_assert_str_eq(out, "");
  rr_backup_s3_error_sentence(out, 10, body, strlen(body));
  ck_assert_uint_eq(strlen(out), 9);
}
END_TEST

START_TEST(key_rules)
{
  ck_assert(rr_backup_key_valid("studies/1.2.840.1/1.2.840.2.rrb"));
  ck_assert(rr_backup_key_valid("days/2026-12-04/1.2.3"));
  ck_assert(!rr_backup_key_valid(""));
  ck_assert(!rr_backup_key_valid("/a"));
  ck_assert(!rr_backup_key_valid("a/"));
  ck_assert(!rr_backup_key_valid("a//b"));
  ck_assert(!rr_backup_key_valid("a/../b"));
  ck_assert(!rr_backup_key_valid("./b"));
  ck_assert(!rr_backup_key_valid("a b"));
  ck_assert(!rr_backup_key_valid("a?b"));
  ck_assert(!rr_backup_key_valid("a%2Fb"));
  ck_assert(rr_backup_key_valid("..a/b.."));
}
END_TEST

START_TEST(option_checks)
{
  rr_backup_s3_options s3 = {"http://127.0.0.1:9", "eu-west-1", "backups", "AKID", "secret", NULL, "", true, NULL, 5};
  rr_backup_cloudinary_options cl = {"http://127.0.0.1:9", "demo", "1234", "secret", NULL, "", false, NULL, 5};
  rr_backup_target *t = NULL;
  char err[512];
  bool exists;

  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), 0);
  ck_assert_str_eq(rr_backup_target_name(t), "s3");
  /* refused before any request */
  ck_assert_int_eq(rr_backup_target_exists(t, &exists, "a/../b", err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_backup_target_put(t, NULL, "x", 1, err, sizeof(err)), RR_EINVAL);
  /* nothing listens on port 9: a sentence without the secret */
  ck_assert_int_eq(rr_backup_target_exists(t, &exists, "a/b", err, sizeof(err)), RR_EUPSTREAM);
  ck_assert_ptr_null(strstr(err, "secret"));
  ck_assert_ptr_nonnull(strstr(err, "S3 HEAD"));
  {
    rr_backup_keys *keys = (rr_backup_keys *)1;
    rr_buf out;
    rr_buf_init(&out, 100);
    ck_assert_int_eq(rr_backup_target_list(t, &keys, "studies/", err, sizeof(err)), RR_EUPSTREAM);
    ck_assert_ptr_null(keys);
    ck_assert_int_eq(rr_backup_target_list(t, &keys, "a b", err, sizeof(err)), RR_EINVAL);
    ck_assert_int_eq(rr_backup_target_get(t, &out, "a/b", err, sizeof(err)), RR_EUPSTREAM);
    ck_assert_uint_eq(out.len, 0);
    rr_buf_dispose(&out);
  }
  rr_backup_target_free(t);
  rr_backup_target_free(NULL);

  s3.bucket = "Bad_Bucket";
  s3.path_style = false;
  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "Bucket"));
  s3.bucket = "backups";
  s3.endpoint = "http://127.0.0.1:9/path";
  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "Endpoint"));
  s3.endpoint = "ftp://host";
  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), RR_EINVAL);
  s3.endpoint = "https://s3.eu-west-1.amazonaws.com";
  s3.secret_access_key = "";
  s3.secret_access_key_env = "RR_TEST_BACKUP_SECRET_UNSET";
  unsetenv("RR_TEST_BACKUP_SECRET_UNSET");
  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "RR_TEST_BACKUP_SECRET_UNSET"));
  setenv("RR_TEST_BACKUP_SECRET_UNSET", "from-env", 1);
  ck_assert_int_eq(rr_backup_s3_new(&t, &s3, err, sizeof(err)), 0);
  rr_backup_target_free(t);
  unsetenv("RR_TEST_BACKUP_SECRET_UNSET");

  ck_assert_int_eq(rr_backup_cloudinary_new(&t, &cl, err, sizeof(err)), 0);
  ck_assert_str_eq(rr_backup_target_name(t), "cloudinary");
  {
    rr_backup_keys *keys = NULL;
    ck_assert_int_eq(rr_backup_target_list(t, &keys, "", err, sizeof(err)), RR_EUPSTREAM);
    ck_assert_ptr_nonnull(strstr(err, "Cloudinary list"));
    ck_assert_ptr_null(strstr(err, "secret"));
    ck_assert_int_eq(rr_backup_target_put(t, "a/b", "x", 1, err, sizeof(err)), RR_EUPSTREAM);
  }
  rr_backup_target_free(t);
  cl.cloud_name = "";
  ck_assert_int_eq(rr_backup_cloudinary_new(&t, &cl, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "CloudName"));
  cl.cloud_name = "demo";
  cl.folder = "/rr";
  ck_assert_int_eq(rr_backup_cloudinary_new(&t, &cl, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "Folder"));
  cl.folder = "rr";
  cl.api_secret = NULL;
  ck_assert_int_eq(rr_backup_cloudinary_new(&t, &cl, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "ApiSecret"));
}
END_TEST

static Suite *backup_target_suite(void)
{
  Suite *s = suite_create("backup_target");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, sigv4_aws_test_suite);
  tcase_add_test(tc, sigv4_s3_get_object_example);
  tcase_add_test(tc, cloudinary_documented_signature);
  tcase_add_test(tc, uri_encoding);
  tcase_add_test(tc, list_parsing);
  tcase_add_test(tc, error_sentences);
  tcase_add_test(tc, key_rules);
  tcase_add_test(tc, option_checks);
  suite_add_tcase(s, tc);
  return s;
}

int main(void)
{
  return rr_test_run(backup_target_suite());
}
