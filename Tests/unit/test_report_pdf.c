/*
 * report/report_pdf: reports rendered to PDF and read back with poppler's
 * pdftotext -enc UTF-8 (pdfinfo, pdfimages): patient names in eight scripts
 * (the strings of the DICOM character-set test files as pydicom decodes
 * them: chrFren, chrGerm, chrGreek, chrRuss, chrArab, chrHbrw, chrH31, chrX2,
 * chrI2, chrKoreanMulti), the PN made readable, the addenda after the body,
 * PRELIMINARY only on preliminary versions and on every page of them, "Page
 * n of N", AI-assisted findings marked, key images embedded, the same bytes
 * for the same doc (also from concurrent threads), markup printed as text,
 * NULL and empty fields, and the bounds refused.
 */
#include <pthread.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cairo.h>

#include "common.h"
#include "report/report_doc.h"
#include "report/report_pdf.h"
#include "util/errors.h"

extern char **environ;

#define SIGNED_AT 1796392980000LL /* 2026-12-04 14:03:00 UTC */

static char g_dir[4096];

static void S(char **slot, const char *s)
{
  ck_assert_int_eq(rr_report_doc_set(slot, s, s != NULL ? strlen(s) : 0), 0);
}

/* A 512x512 grey gradient with a white disc, as PNG bytes (malloc'd). */
typedef struct pngbuf {
  unsigned char *p;
  size_t n;
} pngbuf;

static cairo_status_t png_collect(void *closure, const unsigned char *data, unsigned int len)
{
  pngbuf *b = closure;
  unsigned char *q = realloc(b->p, b->n + len);

  if (q == NULL)
    return CAIRO_STATUS_NO_MEMORY;
  memcpy(q + b->n, data, len);
  b->p = q;
  b->n += len;
  return CAIRO_STATUS_SUCCESS;
}

static void make_png(unsigned char **out, size_t *size, int w, int h, int seed)
{
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(s);
  cairo_pattern_t *g = cairo_pattern_create_linear(0, 0, w, h);
  pngbuf b = {NULL, 0};

  cairo_pattern_add_color_stop_rgb(g, 0, 0, 0, 0);
  cairo_pattern_add_color_stop_rgb(g, 1, 0.3 + 0.1 * seed, 0.3, 0.3);
  cairo_set_source(cr, g);
  cairo_paint(cr);
  cairo_set_source_rgb(cr, 1, 1, 1);
  cairo_arc(cr, w / 2.0 + seed * 10, h / 2.0, w / 6.0, 0, 6.2832);
  cairo_fill(cr);
  cairo_pattern_destroy(g);
  cairo_destroy(cr);
  ck_assert_int_eq(cairo_surface_write_to_png_stream(s, png_collect, &b), CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy(s);
  *out = b.p;
  *size = b.n;
}

/* A final CT chest report: 3 sections, signed by Jane Doe. */
static rr_report_doc *base_doc(void)
{
  rr_report_doc *d = rr_report_doc_new();
  static const char *sec[3][4] = {
      {"55752-0", "Clinical information", "Indication", "Cough for three weeks.\nSmoker."},
      {"59776-5", "Findings", "Lungs", "No consolidation. A 6 mm nodule in the right upper lobe."},
      {"19005-8", "Impressions", "Impression", "Solitary pulmonary nodule, 6 mm."}};

  ck_assert_ptr_nonnull(d);
  S(&d->institution, "Hôpital Universitaire de Test");
  S(&d->patient_name, "Doe^John");
  S(&d->patient_id, "PAT-0042");
  S(&d->patient_birth_date, "19700131");
  S(&d->patient_sex, "M");
  S(&d->study_date, "20261201");
  S(&d->study_time, "140312.5");
  S(&d->study_description, "CT CHEST WITH CONTRAST");
  S(&d->accession_number, "ACC-777");
  S(&d->referring_physician, "Smith^Anna^^Dr");
  S(&d->modalities, "CT");
  d->report_id = 12;
  d->version = 1;
  S(&d->kind, "original");
  S(&d->status, "final");
  S(&d->title, "CT Chest");
  d->sections = calloc(3, sizeof(*d->sections));
  ck_assert_ptr_nonnull(d->sections);
  d->section_count = 3;
  for (size_t i = 0; i < 3; i++) {
    S(&d->sections[i].code, sec[i][0]);
    S(&d->sections[i].meaning, sec[i][1]);
    S(&d->sections[i].title, sec[i][1]);
    d->sections[i].items = calloc(1, sizeof(rr_report_doc_item));
    ck_assert_ptr_nonnull(d->sections[i].items);
    d->sections[i].item_count = 1;
    S(&d->sections[i].items[0].label, sec[i][2]);
    S(&d->sections[i].items[0].text, sec[i][3]);
  }
  S(&d->signed_by, "jdoe");
  S(&d->signed_by_name, "Jane Doe");
  d->signed_at = SIGNED_AT;
  return d;
}

static void add_images(rr_report_doc *d, size_t n)
{
  d->images = calloc(n, sizeof(*d->images));
  ck_assert_ptr_nonnull(d->images);
  d->image_count = n;
  for (size_t i = 0; i < n; i++) {
    char cap[64];
    snprintf(cap, sizeof(cap), "Se 3, Im %zu", 40 + i);
    S(&d->images[i].caption, cap);
    S(&d->images[i].sop_uid, "1.2.3.4");
    d->images[i].frame = 1;
    make_png(&d->images[i].png, &d->images[i].png_size, 512, 512, (int)i);
  }
}

/* ------------------------------------------------------- poppler helpers */

static int run(char *const argv[], const char *out_path)
{
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status = -1;

  posix_spawn_file_actions_init(&fa);
  if (out_path != NULL)
    posix_spawn_file_actions_addopen(&fa, 1, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ck_assert_int_eq(posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ), 0);
  posix_spawn_file_actions_destroy(&fa);
  ck_assert_int_eq(waitpid(pid, &status, 0), pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  char *s;
  long n;

  ck_assert_ptr_nonnull(f);
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n + 1);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

static void write_pdf(const char *path, const unsigned char *pdf, size_t n)
{
  FILE *f = fopen(path, "wb");

  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(pdf, 1, n, f), n);
  fclose(f);
}

/* Render d (A4) into g_dir/<name>.pdf. */
static void render_file(const rr_report_doc *d, const char *name, char *path, size_t pathsize)
{
  unsigned char *pdf = NULL;
  size_t n = 0;
  char err[256] = "";

  ck_assert_msg(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)) == 0, "render: %s", err);
  ck_assert_uint_gt(n, 1000);
  ck_assert(memcmp(pdf, "%PDF-", 5) == 0);
  snprintf(path, pathsize, "%s/%s.pdf", g_dir, name);
  write_pdf(path, pdf, n);
  free(pdf);
}

/* The text of a rendered doc, as pdftotext -enc UTF-8 reads it (malloc'd). */
static char *pdf_text(const rr_report_doc *d, const char *name)
{
  char path[4200], txt[4200];

  render_file(d, name, path, sizeof(path));
  snprintf(txt, sizeof(txt), "%s/%s.txt", g_dir, name);
  char *argv[] = {"pdftotext", "-enc", "UTF-8", path, txt, NULL};
  ck_assert_int_eq(run(argv, NULL), 0);
  return slurp(txt);
}

/* A poppler tool's standard output for the PDF at path (malloc'd). */
static char *tool_out(const char *tool, const char *opt, const char *path)
{
  char out[4200];

  snprintf(out, sizeof(out), "%s/%s.out", g_dir, tool);
  char *argv[] = {(char *)tool, (char *)opt, (char *)path, NULL};
  ck_assert_int_eq(run(argv, out), 0);
  return slurp(out);
}

/* Assert that needle is in hay; on failure the whole text goes to stderr
 * (Check's messages are short). */
#define ck_assert_in(hay, needle)                                                                   \
  do {                                                                                             \
    if (strstr((hay), (needle)) == NULL)                                                           \
      fprintf(stderr, "---- not found: \"%s\" in:\n%s\n----\n", (needle), (hay));              \
    ck_assert_msg(strstr((hay), (needle)) != NULL, "\"%s\" is not in the PDF's text", (needle)); \
  } while (0)

static size_t count(const char *hay, const char *needle)
{
  size_t n = 0;

  for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

static void setup(void)
{
  rr_test_tmpdir(g_dir, sizeof(g_dir));
}

/* RR_REPORT_PDF_KEEP=1 keeps the rendered PDFs (to look at them). */
static void teardown(void)
{
  if (getenv("RR_REPORT_PDF_KEEP") != NULL)
    fprintf(stderr, "report_pdf: PDFs kept in %s\n", g_dir);
  else
    rr_test_rmdir(g_dir);
}

/* ------------------------------------------------------------------ tests */

typedef struct job {
  const rr_report_doc *doc;
  unsigned char *pdf;
  size_t n;
  int rc;
} job;

static void *render_thread(void *arg)
{
  job *j = arg;
  char err[256];

  j->rc = rr_report_pdf_render(&j->pdf, &j->n, j->doc, NULL, err, sizeof(err));
  return NULL;
}

/* The first render of the process (fontconfig's set-up: its configuration
 * parser is recursive) from a thread with a small stack, as an HTTP server's
 * worker has; then another one there. Runs first in the suite. */
START_TEST(small_stack_first)
{
  rr_report_doc *d = base_doc();
  pthread_attr_t attr;
  pthread_t t;
  job j = {d, NULL, 0, -1};

  S(&d->patient_name, "Hong^Gildong=洪^吉洞=홍^길동");
  S(&d->sections[1].items[0].text, "قباني^لنزار שרון^דבורה Διονυσιος Люкceмбypг 王^小东");
  ck_assert_int_eq(pthread_attr_init(&attr), 0);
  ck_assert_int_eq(pthread_attr_setstacksize(&attr, 64 * 1024), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(pthread_create(&t, &attr, render_thread, &j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(j.rc, 0);
    ck_assert_uint_gt(j.n, 1000);
    free(j.pdf);
    j.pdf = NULL;
  }
  pthread_attr_destroy(&attr);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(person_names)
{
  char out[256];

  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Doe^John"), 0);
  ck_assert_str_eq(out, "DOE, John");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Doe^John^Q^Dr^Jr"), 0);
  ck_assert_str_eq(out, "Dr DOE, John Q, Jr");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Buc^Jérôme"), 0);
  ck_assert_str_eq(out, "BUC, Jérôme");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Äneas^Rüdiger"), 0);
  ck_assert_str_eq(out, "ÄNEAS, Rüdiger");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Διονυσιος"), 0);
  ck_assert_str_eq(out, "ΔΙΟΝΥΣΙΟΣ");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "Yamada^Tarou=山田^太郎=やまだ^たろう"), 0);
  ck_assert_str_eq(out, "YAMADA, Tarou = 山田 太郎 = やまだ たろう");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "=王^小东"), 0);
  ck_assert_str_eq(out, "王 小东");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "^John "), 0);
  ck_assert_str_eq(out, "John");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "  Doe  ^^^"), 0);
  ck_assert_str_eq(out, "DOE");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), NULL), 0);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(rr_report_pdf_person_name(out, sizeof(out), "^^^^=^="), 0);
  ck_assert_str_eq(out, "");
  ck_assert_int_eq(rr_report_pdf_person_name(out, 6, "Doe^John"), RR_EFULL);
  ck_assert_str_eq(out, "");
}
END_TEST

/* Each script: the DICOM PN (as pydicom decodes the character-set test
 * file) and what must come back from the PDF. */
static const struct script_case {
  const char *file, *pn, *expect[3];
} SCRIPTS[] = {
    {"chrFren", "Buc^Jérôme", {"BUC, Jérôme", NULL, NULL}},
    {"chrGerm", "Äneas^Rüdiger", {"ÄNEAS, Rüdiger", NULL, NULL}},
    {"chrGreek", "Διονυσιος", {"ΔΙΟΝΥΣΙΟΣ", NULL, NULL}},
    {"chrRuss", "Люкceмбypг", {"ЛЮКCEМБYPГ", NULL, NULL}},
    {"chrArab", "قباني^لنزار", {"قباني", "لنزار", NULL}},
    {"chrHbrw", "שרון^דבורה", {"שרון", "דבורה", NULL}},
    {"chrH31", "Yamada^Tarou=山田^太郎=やまだ^たろう", {"YAMADA, Tarou", "山田 太郎", "やまだ たろう"}},
    {"chrX2", "Wang^XiaoDong=王^小东", {"WANG, XiaoDong", "王 小东", NULL}},
    {"chrI2", "Hong^Gildong=洪^吉洞=홍^길동", {"HONG, Gildong", "洪 吉洞", "홍 길동"}},
    {"chrKoreanMulti", "김희중", {"김희중", NULL, NULL}},
};

START_TEST(scripts)
{
  const struct script_case *c = &SCRIPTS[_i];
  rr_report_doc *d = base_doc();
  char *text;

  S(&d->patient_name, c->pn);
  /* the same name in the body, as typed (no PN formatting) */
  S(&d->sections[1].items[0].text, c->pn);
  text = pdf_text(d, c->file);
  for (int k = 0; k < 3 && c->expect[k] != NULL; k++)
    ck_assert_in(text, c->expect[k]);
  ck_assert_in(text, "Electronically signed by Jane Doe (jdoe) on 2026-12-04 14:03 UTC");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(identification)
{
  rr_report_doc *d = base_doc();
  char *text = pdf_text(d, "ident");

  const char *want[] = {"Hôpital Universitaire de Test", "CT Chest", "DOE, John", "PAT-0042", "1970-01-31",
                        "Male", "2026-12-01 14:03", "CT CHEST WITH CONTRAST", "ACC-777", "Dr SMITH, Anna",
                        "Clinical information", "Indication: Cough for three weeks.", "Smoker.",
                        "Lungs: No consolidation.", "Impression: Solitary pulmonary nodule, 6 mm.",
                        "Report 12 · version 1", "Page 1 of 1"};
  for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
    ck_assert_in(text, want[i]);
  /* the line break typed in the indication is kept */
  ck_assert_in(text, "Cough for three weeks.\nSmoker.");
  ck_assert_ptr_null(strstr(text, "PRELIMINARY"));
  ck_assert_ptr_null(strstr(text, "AI-assisted"));
  ck_assert_ptr_null(strstr(text, "CRITICAL"));
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(addenda_after_body)
{
  rr_report_doc *d = base_doc();
  char *text;

  d->addenda = calloc(2, sizeof(*d->addenda));
  ck_assert_ptr_nonnull(d->addenda);
  d->addendum_count = 2;
  S(&d->addenda[0].text, "Comparison with the 2025 CT: the nodule is unchanged.");
  S(&d->addenda[0].signed_by_name, "Jane Doe");
  d->addenda[0].version = 2;
  d->addenda[0].signed_at = SIGNED_AT + 3600000;
  S(&d->addenda[1].text, "Follow-up CT in 12 months recommended.");
  S(&d->addenda[1].signed_by_name, "Paul Roe");
  d->addenda[1].version = 3;
  d->addenda[1].signed_at = SIGNED_AT + 7200000;
  d->version = 3;
  S(&d->kind, "addendum");
  /* this version is the second addendum; the body was signed by Jane Doe */
  S(&d->signed_by_name, "Paul Roe");
  S(&d->signed_by, "proe");
  d->signed_at = SIGNED_AT + 7200000;
  S(&d->body_signed_by_name, "Jane Doe");
  d->body_signed_at = SIGNED_AT;
  text = pdf_text(d, "addenda");

  const char *body = strstr(text, "Solitary pulmonary nodule");
  const char *sig = strstr(text, "Electronically signed by Jane Doe on 2026-12-04 14:03 UTC");
  const char *a1 = strstr(text, "Addendum 1 (version 2)");
  const char *t1 = strstr(text, "the nodule is unchanged");
  const char *s1 = strstr(text, "Electronically signed by Jane Doe on 2026-12-04 15:03 UTC");
  const char *a2 = strstr(text, "Addendum 2 (version 3)");
  const char *t2 = strstr(text, "Follow-up CT in 12 months");
  const char *s2 = strstr(text, "Electronically signed by Paul Roe on 2026-12-04 16:03 UTC");
  if (!(body && sig && a1 && t1 && s1 && a2 && t2 && s2))
    fprintf(stderr, "%s\n", text);
  ck_assert(body && sig && a1 && t1 && s1 && a2 && t2 && s2);
  ck_assert(body < sig && sig < a1 && a1 < t1 && t1 < s1 && s1 < a2 && a2 < t2 && t2 < s2);
  ck_assert_in(text, "Final, with addenda");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(correction_and_critical)
{
  rr_report_doc *d = base_doc();
  char *text;

  d->version = 2;
  S(&d->kind, "correction");
  S(&d->correction_reason, "Wrong side: the nodule is in the LEFT upper lobe.");
  d->critical = true;
  S(&d->critical_recipient, "Dr Anna Smith");
  S(&d->critical_method, "phone");
  d->critical_at = SIGNED_AT - 600000;
  text = pdf_text(d, "correction");
  ck_assert_in(text, "Corrected report (version 2)");
  ck_assert_in(text, "Reason for correction: Wrong side: the nodule is in the LEFT upper lobe.");
  ck_assert_in(text, "CRITICAL RESULT");
  ck_assert_in(text, "Communicated: to Dr Anna Smith by phone on 2026-12-04 13:53 UTC");
  ck_assert_in(text, "Final, corrected");
  free(text);

  /* critical, communication not yet recorded (a preliminary version) */
  S(&d->status, "preliminary");
  free(d->critical_recipient);
  d->critical_recipient = NULL;
  text = pdf_text(d, "critical-prelim");
  ck_assert_in(text, "not recorded yet");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

/* A report long enough for three pages: many findings items. */
#define LONG_ITEMS 50
static rr_report_doc *long_doc(size_t items)
{
  rr_report_doc *d = base_doc();
  rr_report_doc_section *s = &d->sections[1];

  free(s->items[0].label);
  free(s->items[0].text);
  free(s->items);
  s->items = calloc(items, sizeof(rr_report_doc_item));
  ck_assert_ptr_nonnull(s->items);
  s->item_count = items;
  for (size_t i = 0; i < items; i++) {
    char label[32], text[512];
    snprintf(label, sizeof(label), "Segment %zu", i + 1);
    snprintf(text, sizeof(text),
             "Finding number %zu: no focal lesion, normal enhancement and calibre of the vessels; "
             "the adjacent structures are unremarkable and there is no lymphadenopathy.",
             i + 1);
    S(&s->items[i].label, label);
    S(&s->items[i].text, text);
  }
  return d;
}

START_TEST(page_numbers)
{
  rr_report_doc *d = long_doc(LONG_ITEMS);
  char path[4200];
  char *text = pdf_text(d, "long"), *info;

  ck_assert_in(text, "Page 1 of 3");
  ck_assert_in(text, "Page 2 of 3");
  ck_assert_in(text, "Page 3 of 3");
  ck_assert_ptr_null(strstr(text, "of 4"));
  /* pages 2 and 3 say whose report they are */
  ck_assert_uint_ge(count(text, "DOE, John · ID PAT-0042"), 2);
  /* no item is lost at a page break */
  ck_assert_in(text, "Finding number 1:");
  ck_assert_in(text, "Finding number 50:");
  render_file(d, "long", path, sizeof(path));
  info = tool_out("pdfinfo", "-isodates", path);
  ck_assert_in(info, "Pages:           3");
  ck_assert_in(info, "CreationDate:    2026-12-04T14:03:00Z");
  ck_assert_in(info, "Title:           Report 12 v1: CT Chest");
  ck_assert_in(info, "595.276 x 841.89 pts (A4)");
  free(info);
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(preliminary_mark)
{
  rr_report_doc *d = long_doc(LONG_ITEMS);
  char *text;

  S(&d->status, "preliminary");
  text = pdf_text(d, "prelim");
  /* the banner "PRELIMINARY — not final" on each of the pages (and the watermark) */
  ck_assert_in(text, "PRELIMINARY — not final");
  ck_assert_uint_ge(count(text, "PRELIMINARY — not final"), 3);
  ck_assert_in(text, "Preliminary report, electronically signed by Jane Doe (jdoe)");
  ck_assert_in(text, "Not final");
  free(text);
  S(&d->status, "final");
  text = pdf_text(d, "final");
  ck_assert_ptr_null(strstr(text, "PRELIMINARY"));
  ck_assert_ptr_null(strstr(text, "Preliminary"));
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(ai_findings_marked)
{
  rr_report_doc *d = base_doc();
  char *text;

  d->findings = calloc(2, sizeof(*d->findings));
  ck_assert_ptr_nonnull(d->findings);
  d->finding_count = 2;
  S(&d->findings[0].text, "Nodule 6 mm, right upper lobe (confirmed).");
  S(&d->findings[0].analysis_ref, "AI analysis 0123456789abcdef0123456789abcdef, reviewed by jdoe on 2026-12-04");
  S(&d->findings[1].text, "No pleural effusion (modified).");
  S(&d->findings[1].analysis_ref, "AI analysis fedcba9876543210fedcba9876543210, reviewed by jdoe on 2026-12-04");
  text = pdf_text(d, "ai");
  ck_assert_in(text, "AI-assisted findings");
  ck_assert_in(text, "AI-assisted: Nodule 6 mm, right upper lobe (confirmed).");
  ck_assert_in(text, "AI-assisted: No pleural effusion (modified).");
  ck_assert_in(text, "Reference: AI analysis 0123456789abcdef0123456789abcdef");
  ck_assert_in(text, "Reference: AI analysis fedcba9876543210fedcba9876543210");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(key_images)
{
  rr_report_doc *d = base_doc(), *plain = base_doc();
  char path[4200], plain_path[4200];
  char *list, *text;
  struct stat with, without;

  add_images(d, 4);
  render_file(d, "images", path, sizeof(path));
  render_file(plain, "plain", plain_path, sizeof(plain_path));
  list = tool_out("pdfimages", "-list", path);
  /* header (2 lines) + one line per embedded image, each 512x512 */
  if (count(list, "  512   512 ") != 4)
    fprintf(stderr, "%s\n", list);
  ck_assert_uint_eq(count(list, "  512   512 "), 4);
  ck_assert_int_eq(stat(path, &with), 0);
  ck_assert_int_eq(stat(plain_path, &without), 0);
  ck_assert_int_gt(with.st_size, without.st_size + 4 * 1000);
  text = pdf_text(d, "images");
  ck_assert_in(text, "Key images");
  ck_assert_in(text, "Se 3, Im 40");
  ck_assert_in(text, "Se 3, Im 43");
  free(text);
  free(list);

  /* a key image without a picture is listed with its caption */
  free(d->images[2].png);
  d->images[2].png = NULL;
  d->images[2].png_size = 0;
  render_file(d, "images3", path, sizeof(path));
  list = tool_out("pdfimages", "-list", path);
  ck_assert_uint_eq(count(list, "  512   512 "), 3);
  free(list);
  text = pdf_text(d, "images3");
  ck_assert_in(text, "Se 3, Im 42");
  ck_assert_in(text, "(no picture)");
  free(text);
  rr_report_doc_free(d);
  rr_report_doc_free(plain);
}
END_TEST

START_TEST(same_bytes)
{
  rr_report_doc *d = base_doc();
  unsigned char *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  char err[256] = "";

  add_images(d, 2);
  ck_assert_int_eq(rr_report_pdf_render(&a, &na, d, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_report_pdf_render(&b, &nb, d, NULL, err, sizeof(err)), 0);
  ck_assert_uint_eq(na, nb);
  ck_assert(memcmp(a, b, na) == 0);
  free(b);
  /* another signing time: another creation date, other bytes */
  d->signed_at += 1000;
  ck_assert_int_eq(rr_report_pdf_render(&b, &nb, d, NULL, err, sizeof(err)), 0);
  ck_assert(na != nb || memcmp(a, b, na) != 0);
  free(a);
  free(b);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(concurrent_renders)
{
  rr_report_doc *d = base_doc();
  pthread_t t[4];
  job j[4];

  S(&d->patient_name, "Yamada^Tarou=山田^太郎=やまだ^たろう");
  add_images(d, 1);
  for (int i = 0; i < 4; i++) {
    j[i] = (job){d, NULL, 0, -1};
    ck_assert_int_eq(pthread_create(&t[i], NULL, render_thread, &j[i]), 0);
  }
  for (int i = 0; i < 4; i++)
    ck_assert_int_eq(pthread_join(t[i], NULL), 0);
  for (int i = 0; i < 4; i++) {
    ck_assert_int_eq(j[i].rc, 0);
    ck_assert_uint_eq(j[i].n, j[0].n);
    ck_assert(memcmp(j[i].pdf, j[0].pdf, j[0].n) == 0);
  }
  for (int i = 0; i < 4; i++)
    free(j[i].pdf);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(markup_is_text)
{
  rr_report_doc *d = base_doc();
  char *text;

  S(&d->patient_name, "<b>Doe</b>^&amp;");
  S(&d->sections[1].items[0].label, "<i>Lungs</i>");
  S(&d->sections[1].items[0].text, "<span foreground=\"red\">red</span> & <b>bold</b> &amp; &lt;");
  S(&d->institution, "A & B <Hospital>");
  text = pdf_text(d, "markup");
  ck_assert_in(text, "<span foreground=\"red\">red</span> & <b>bold</b> &amp; &lt;");
  ck_assert_in(text, "<i>Lungs</i>:");
  ck_assert_in(text, "<B>DOE</B>, &amp;");
  ck_assert_in(text, "A & B <Hospital>");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(empty_fields)
{
  rr_report_doc *d = rr_report_doc_new();
  char *text;

  /* a zeroed doc: every string NULL */
  text = pdf_text(d, "empty");
  ck_assert_in(text, "Diagnostic imaging report");
  ck_assert_in(text, "Not signed.");
  ck_assert_in(text, "Page 1 of 1");
  free(text);
  /* sections, items, findings, images and addenda with NULL strings */
  d->sections = calloc(2, sizeof(*d->sections));
  d->section_count = 2;
  d->sections[0].items = calloc(2, sizeof(rr_report_doc_item));
  d->sections[0].item_count = 2;
  d->findings = calloc(1, sizeof(*d->findings));
  d->finding_count = 1;
  d->images = calloc(1, sizeof(*d->images));
  d->image_count = 1;
  d->addenda = calloc(1, sizeof(*d->addenda));
  d->addendum_count = 1;
  d->critical = true;
  S(&d->status, "");
  S(&d->patient_name, "");
  S(&d->correction_reason, "");
  text = pdf_text(d, "nulls");
  ck_assert_in(text, "Section");
  ck_assert_in(text, "AI-assisted");
  ck_assert_in(text, "Addendum 1");
  ck_assert_in(text, "CRITICAL RESULT");
  free(text);
  /* invalid UTF-8 is repaired, not refused */
  S(&d->patient_name, "Bad\xff\xfe^Name\xc3");
  text = pdf_text(d, "badutf8");
  ck_assert_in(text, "BAD");
  free(text);
  rr_report_doc_free(d);
}
END_TEST

/* One paragraph over pages, without a space to break at: split
 * line by line, nothing lost, no page without end. */
START_TEST(long_paragraph)
{
  rr_report_doc *d = base_doc();
  size_t len = 15000; /* about three pages */
  char *text = malloc(len + 16), *out, *info;
  char path[4200];

  ck_assert_ptr_nonnull(text);
  for (size_t i = 0; i < len; i++)
    text[i] = (char)('a' + i % 26);
  memcpy(text + len, "ENDOFTEXT", 10);
  free(d->sections[1].items[0].text);
  d->sections[1].items[0].text = text;
  out = pdf_text(d, "paragraph");
  ck_assert_in(out, "ENDOFTEXT");
  ck_assert_in(out, "Impression: Solitary pulmonary nodule");
  render_file(d, "paragraph", path, sizeof(path));
  info = tool_out("pdfinfo", "-isodates", path);
  ck_assert_ptr_null(strstr(info, "Pages:           1\n"));
  free(info);
  free(out);
  rr_report_doc_free(d);
}
END_TEST

START_TEST(refused)
{
  rr_report_doc *d = long_doc(5000);
  unsigned char *pdf = (unsigned char *)"x";
  size_t n = 7;
  char err[256] = "";
  rr_report_pdf_options letter = {"Letter"}, b5 = {"B5"};

  /* over 200 pages */
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(pdf);
  ck_assert_uint_eq(n, 0);
  ck_assert_msg(strstr(err, "more than 200 pages") != NULL, "%s", err);
  rr_report_doc_free(d);

  /* over the text limit */
  d = base_doc();
  char *big = malloc(RR_REPORT_PDF_MAX_TEXT + 10);
  ck_assert_ptr_nonnull(big);
  memset(big, 'a', RR_REPORT_PDF_MAX_TEXT + 9);
  big[RR_REPORT_PDF_MAX_TEXT + 9] = '\0';
  free(d->sections[0].items[0].text);
  d->sections[0].items[0].text = big;
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_in(err, "limit");
  rr_report_doc_free(d);

  /* the limit counts every string: here a caption */
  d = base_doc();
  add_images(d, 1);
  big = malloc(RR_REPORT_PDF_MAX_TEXT + 10);
  ck_assert_ptr_nonnull(big);
  memset(big, 'c', RR_REPORT_PDF_MAX_TEXT + 9);
  big[RR_REPORT_PDF_MAX_TEXT + 9] = '\0';
  free(d->images[0].caption);
  d->images[0].caption = big;
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_in(err, "over the PDF's limit");
  rr_report_doc_free(d);

  /* too many key images (checked before any is decoded) */
  d = base_doc();
  d->images = calloc(RR_REPORT_PDF_MAX_IMAGES + 1, sizeof(*d->images));
  ck_assert_ptr_nonnull(d->images);
  d->image_count = RR_REPORT_PDF_MAX_IMAGES + 1;
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_in(err, "at most 64");
  rr_report_doc_free(d);

  /* a key image that is not a PNG */
  d = base_doc();
  add_images(d, 2);
  memcpy(d->images[1].png + 1, "JPG", 3);
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "key image 2") != NULL, "%s", err);
  /* a PNG whose data is cut short: found when drawing */
  memcpy(d->images[1].png + 1, "PNG", 3);
  d->images[1].png_size = 200;
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_msg(strstr(err, "key image 2 is not a readable PNG") != NULL, "%s", err);
  ck_assert_ptr_null(pdf);
  rr_report_doc_free(d);

  /* arguments and paper */
  d = base_doc();
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, NULL, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_pdf_render(NULL, &n, d, NULL, err, sizeof(err)), RR_EINVAL);
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, &b5, err, sizeof(err)), RR_EINVAL);
  ck_assert_in(err, "paper");
  ck_assert_int_eq(rr_report_pdf_render(&pdf, &n, d, &letter, err, sizeof(err)), 0);
  char path[4200];
  snprintf(path, sizeof(path), "%s/letter.pdf", g_dir);
  write_pdf(path, pdf, n);
  free(pdf);
  char *info = tool_out("pdfinfo", "-isodates", path);
  ck_assert_in(info, "612 x 792 pts (letter)");
  free(info);
  rr_report_doc_free(d);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("report_pdf");
  TCase *tc = tcase_create("report_pdf");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_set_timeout(tc, 120);
  tcase_add_test(tc, small_stack_first);
  tcase_add_test(tc, person_names);
  tcase_add_loop_test(tc, scripts, 0, (int)(sizeof(SCRIPTS) / sizeof(SCRIPTS[0])));
  tcase_add_test(tc, identification);
  tcase_add_test(tc, addenda_after_body);
  tcase_add_test(tc, correction_and_critical);
  tcase_add_test(tc, page_numbers);
  tcase_add_test(tc, preliminary_mark);
  tcase_add_test(tc, ai_findings_marked);
  tcase_add_test(tc, key_images);
  tcase_add_test(tc, same_bytes);
  tcase_add_test(tc, concurrent_renders);
  tcase_add_test(tc, markup_is_text);
  tcase_add_test(tc, empty_fields);
  tcase_add_test(tc, long_paragraph);
  tcase_add_test(tc, refused);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
