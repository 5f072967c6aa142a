#include "common.h"
#include "util/embedded.h"
#include "web/web.h"

START_TEST(mime_types)
{
  ck_assert_str_eq(rr_web_mime_type("assets/index-abc.js"), "text/javascript; charset=utf-8");
  ck_assert_str_eq(rr_web_mime_type("assets/codec.wasm"), "application/wasm");
  ck_assert_str_eq(rr_web_mime_type("index.html"), "text/html; charset=utf-8");
  ck_assert_str_eq(rr_web_mime_type("a.css"), "text/css; charset=utf-8");
  ck_assert_str_eq(rr_web_mime_type("noext"), "application/octet-stream");
}
END_TEST

START_TEST(paths_cannot_escape)
{
  ck_assert(rr_web_path_ok("index.html"));
  ck_assert(rr_web_path_ok("assets/x.js"));
  ck_assert(rr_web_path_ok("a..b/c"));
  ck_assert(!rr_web_path_ok("../etc/passwd"));
  ck_assert(!rr_web_path_ok("assets/../../x"));
  ck_assert(!rr_web_path_ok("assets/.."));
  ck_assert(!rr_web_path_ok("/etc/passwd"));
  ck_assert(!rr_web_path_ok("a//b"));
  ck_assert(!rr_web_path_ok("a\\b"));
  ck_assert(!rr_web_path_ok("a\nb"));
}
END_TEST

START_TEST(resources_are_embedded)
{
  const rr_embedded_file *f = rr_embedded_find(rr_resources_files, rr_resources_count, "sqlite/001_initial.sql");
  ck_assert_ptr_nonnull(f);
  ck_assert(f->size > 100);
  ck_assert_uint_eq(strlen((const char *)f->data), f->size); /* NUL-terminated */
  ck_assert(f->etag[0] == '"');
  ck_assert_ptr_null(rr_embedded_find(rr_resources_files, rr_resources_count, "nope"));
}
END_TEST

START_TEST(explorer_script_links_to_the_web_root)
{
  const rr_embedded_file *f = rr_embedded_find(rr_resources_files, rr_resources_count, "OrthancExplorer.js");
  rr_buf out;

  ck_assert_int_eq(rr_web_explorer_script(&out, "a READING_ROOM_WEB_ROOT b READING_ROOM_WEB_ROOTindex.html", "/rr/"), 0);
  ck_assert_str_eq(out.ptr, "a ../rr/ b ../rr/index.html");
  rr_buf_dispose(&out);
  ck_assert_int_eq(rr_web_explorer_script(&out, "", "/rr/"), 0);
  ck_assert_str_eq(out.ptr ? out.ptr : "", "");
  rr_buf_dispose(&out);
  ck_assert_ptr_nonnull(f);
  ck_assert_int_eq(rr_web_explorer_script(&out, (const char *)f->data, "/reading-room/"), 0);
  ck_assert_ptr_null(strstr(out.ptr, "READING_ROOM_WEB_ROOT"));
  ck_assert_ptr_nonnull(strstr(out.ptr, "../reading-room/"));
  rr_buf_dispose(&out);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("web");
  TCase *tc = tcase_create("assets");
  tcase_add_test(tc, mime_types);
  tcase_add_test(tc, paths_cannot_escape);
  tcase_add_test(tc, resources_are_embedded);
  tcase_add_test(tc, explorer_script_links_to_the_web_root);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
