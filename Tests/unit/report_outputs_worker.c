/*
 * report_outputs_worker.c - runs the archive worker (report/report_outputs.h)
 * outside Orthanc for Tests/integration/report-outputs.test.mjs's kill -9
 * test: a SQLite store in a file, the fixture's report (report_doc_fixture.h)
 * as the loader's answer, and Orthanc's REST API reached over HTTP with
 * libcurl instead of the plugin SDK:
 *
 *   rr_report_outputs_worker DB URL AUTHORIZATION STUDY_UID PATIENT_ID PDF REPORT_ID [PAUSE_MS]
 *
 * It queues the report's version 1 (pdf and sr), starts the worker (which
 * first requeues what a killed run left running), waits until nothing is
 * queued or running, and prints the report's outputs JSON. With PAUSE_MS,
 * each successful POST prints "posted <SOP class>" and sleeps that long
 * before the result is recorded: the moment the test kills the process.
 * Exit 0, 2 on a usage error, 1 on a failure (stderr says which).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/report_outputs.h"
#include "report_doc_fixture.h"
#include "store/store_sqlite.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/json.h"

typedef struct tool {
  const char *url, *auth, *study, *patient, *pdf_path;
  long pause_ms;
} tool;

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
  return rr_buf_append(arg, p, size * n) == 0 ? size * n : 0;
}

static int post(void *ctx, json_object **out, const char *uri, const void *body, size_t len, char *err,
                size_t errsize)
{
  tool *t = ctx;
  CURL *c = curl_easy_init();
  struct curl_slist *h = NULL;
  char url[1024], auth[1024];
  long status = 0;
  rr_buf b;
  CURLcode rc;

  *out = NULL;
  rr_buf_init(&b, 1 << 20);
  snprintf(url, sizeof(url), "%s%s", t->url, uri);
  snprintf(auth, sizeof(auth), "Authorization: %s", t->auth);
  h = curl_slist_append(h, auth);
  h = curl_slist_append(h, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || status != 200 || (*out = json_tokener_parse(b.ptr ? b.ptr : "")) == NULL) {
    rr_buf_dispose(&b);
    return rr_fail(err, errsize, RR_EUPSTREAM, "POST %s: %s, HTTP %ld", uri, curl_easy_strerror(rc), status);
  }
  rr_buf_dispose(&b);
  if (t->pause_ms > 0) {
    json_object *sent = json_tokener_parse(body);
    printf("posted %s\n", rr_json_str(rr_json_obj(sent, "Tags"), "SOPClassUID"));
    fflush(stdout);
    json_object_put(sent);
    nanosleep(&(struct timespec){t->pause_ms / 1000, (t->pause_ms % 1000) * 1000000}, NULL);
  }
  return 0;
}

static int load(void *ctx, rr_report_doc **out_doc, unsigned char **out_pdf, size_t *out_pdf_size, int64_t report_id,
                int64_t version, char *err, size_t errsize)
{
  tool *t = ctx;
  FILE *f = fopen(t->pdf_path, "rb");
  unsigned char *buf = malloc(1 << 20);
  size_t n = 0;

  if (f != NULL && buf != NULL)
    n = fread(buf, 1, 1 << 20, f);
  if (f != NULL)
    fclose(f);
  if (n == 0) {
    free(buf);
    return rr_fail(err, errsize, RR_ENOTFOUND, "cannot read %s", t->pdf_path);
  }
  *out_doc = rr_fx_report_doc(t->study, t->patient, NULL, 0);
  (*out_doc)->report_id = report_id;
  (*out_doc)->version = version;
  *out_pdf = buf;
  *out_pdf_size = n;
  return 0;
}

int main(int argc, char **argv)
{
  tool t;
  rr_sqlite_options so = {0};
  rr_report_outputs_options o;
  rr_report_outputs *w = NULL;
  rr_report_output_counts c;
  rr_store *store = NULL;
  json_object *arr = NULL;
  char err[512] = "";
  int64_t report;
  int i, rc = 1;

  if (argc < 8) {
    fprintf(stderr, "usage: %s DB URL AUTHORIZATION STUDY_UID PATIENT_ID PDF REPORT_ID [PAUSE_MS]\n", argv[0]);
    return 2;
  }
  t.url = argv[2];
  t.auth = argv[3];
  t.study = argv[4];
  t.patient = argv[5];
  t.pdf_path = argv[6];
  report = atoll(argv[7]);
  t.pause_ms = argc > 8 ? atol(argv[8]) : 0;
  so.path = argv[1];
  so.reader_count = 2;
  so.busy_timeout_ms = 5000;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rr_store_sqlite_open(&store, &so, err, sizeof(err)) < 0)
    goto out;
  memset(&o, 0, sizeof(o));
  o.archive = true;
  o.claimer = "kill-test";
  o.poster.ctx = &t;
  o.poster.post_json = post;
  o.idle_ms = 50;
  if (rr_report_outputs_new(&w, store, load, &t, &o) < 0 || rr_report_outputs_enqueue(w, report, 1, false) < 0 ||
      rr_report_outputs_start(w) < 0) {
    snprintf(err, sizeof(err), "cannot start the worker");
    goto out;
  }
  for (i = 0; i < 600; i++) {
    if (rr_store_report_output_counts(store, &c, err, sizeof(err)) < 0)
      goto out;
    if (c.queued + c.running == 0)
      break;
    nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
  }
  rr_report_outputs_stop(w);
  if (rr_report_outputs_json(&arr, store, report, err, sizeof(err)) < 0)
    goto out;
  printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
  rc = 0;
out:
  if (rc != 0)
    fprintf(stderr, "%s\n", err);
  json_object_put(arr);
  rr_report_outputs_free(w);
  rr_store_free(store);
  curl_global_cleanup();
  return rc;
}
