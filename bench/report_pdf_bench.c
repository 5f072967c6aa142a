/*
 * report_pdf_bench.c - time to render a report PDF (report/report_pdf.h).
 *
 * The doc: a CT chest report of three A4 pages with four key images (grey
 * PNG, 512x512, as image/png_encode makes them: four windowed slices of the
 * chest CT in READING_ROOM_TEST_DATA (default /work/shared/dicom), else
 * synthetic CT-like images), two AI-assisted findings,
 * a critical result and its communication, an addendum, the patient named in
 * Latin, Japanese ideographic and phonetic groups, text in Greek, Cyrillic,
 * Arabic, Hebrew, Chinese and Korean. It is rendered RUNS times (default 30,
 * after one warm-up render whose time is printed as "first render": the font
 * map and fontconfig's cache load then), median and p95 printed beside the
 * baseline measured in the same run: the same doc without its key images.
 * Goal (issue 12): under 100 ms.
 *
 *   rr_bench_report_pdf [RUNS] [--out FILE] [--latin]
 * --out also writes the PDF; --latin renders the doc with Latin text only.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/png_encode.h"
#include "image/render.h"
#include "report/report_doc.h"
#include "report/report_pdf.h"

static void S(char **slot, const char *s)
{
  if (rr_report_doc_set(slot, s, strlen(s)) != 0) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
}

static void *xcalloc(size_t n, size_t size)
{
  void *p = calloc(n, size);

  if (p == NULL) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  return p;
}

/* Encode img as the plugin encodes the key images it renders
 * (image/png_encode, 8-bit grey, RR_PNG_FAST) into the doc's image. */
static void encode(rr_report_doc_image *im, rr_image *img)
{
  rr_buf b;
  char err[256];

  rr_buf_init(&b, 16u << 20);
  if (rr_png_encode(&b, img, RR_PNG_FAST, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  rr_image_free(img);
  im->png = (unsigned char *)b.ptr; /* malloc'd: the doc frees it */
  im->png_size = b.len;
}

static rr_image *grey_512(void)
{
  rr_image *img = NULL;
  char err[256];

  if (rr_image_new(&img, 512, 512, 1, err, sizeof(err)) != 0) {
    fprintf(stderr, "%s\n", err);
    exit(1);
  }
  return img;
}

/* A slice of the chest CT of the test data (ct_chest_lung_30/1-NN.dcm:
 * explicit VR little endian, 512x512, 16-bit, rescale 1/-1024, pixel data
 * last in the file), windowed (centre, width in HU) like a key image. False
 * when the file is not there or not that. */
static bool ct_slice(rr_report_doc_image *im, const char *dir, int slice, double centre, double width)
{
  static const unsigned char tag[12] = {0xe0, 0x7f, 0x10, 0x00, 'O', 'W', 0, 0, 0, 0, 0x08, 0x00};
  char path[4096];
  unsigned char *data;
  long n;
  FILE *f;

  snprintf(path, sizeof(path), "%s/ct_chest_lung_30/1-%02d.dcm", dir, slice);
  if ((f = fopen(path, "rb")) == NULL)
    return false;
  data = malloc(512 * 512 * 2 + 12);
  if (data == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 512 * 512 * 2 + 12 ||
      fseek(f, n - (512 * 512 * 2 + 12), SEEK_SET) != 0 || fread(data, 1, 512 * 512 * 2 + 12, f) != 512 * 512 * 2 + 12 ||
      memcmp(data, tag, 12) != 0) {
    fclose(f);
    free(data);
    return false;
  }
  fclose(f);
  rr_image *img = grey_512();
  for (size_t i = 0; i < 512 * 512; i++) {
    double hu = (double)(data[12 + 2 * i] | data[13 + 2 * i] << 8) - 1024;
    double v = (hu - (centre - width / 2)) / width * 255;
    img->pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
  }
  free(data);
  encode(im, img);
  return true;
}

/* Without the test data: a 512x512 grey image like a windowed CT slice (an
 * ellipse of soft tissue, two dark lungs, noise everywhere, fixed seed). */
static void ct_like(rr_report_doc_image *im, unsigned seed)
{
  rr_image *img = grey_512();
  unsigned rng = seed * 2654435761u;

  for (int y = 0; y < 512; y++)
    for (int x = 0; x < 512; x++) {
      double dx = (x - 256) / 220.0, dy = (y - 260) / 170.0;
      double lx = (x - 170 - (int)seed * 3) / 70.0, rx = (x - 342) / 70.0, ly = (y - 250) / 110.0;
      int v = dx * dx + dy * dy < 1 ? 120 : 5;
      if (lx * lx + ly * ly < 1 || rx * rx + ly * ly < 1)
        v = 30;
      rng = rng * 1103515245u + 12345u;
      v += (int)((rng >> 16) % 24) - 12;
      img->pixels[(size_t)y * img->pitch + (size_t)x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  encode(im, img);
}

static const char *g_images = "synthetic";

/* Key image i: a real CT slice (lung window for the first two, mediastinum
 * for the others) when the test data is there, else a synthetic one. */
static void key_image(rr_report_doc_image *im, unsigned i)
{
  const char *dir = getenv("READING_ROOM_TEST_DATA");

  if (ct_slice(im, dir != NULL && dir[0] ? dir : "/work/shared/dicom", 10 + 5 * (int)i, i < 2 ? -600 : 40,
               i < 2 ? 1200 : 350)) {
    g_images = "CT slices of ct_chest_lung_30, windowed";
    return;
  }
  ct_like(im, i + 1);
}

static void sections(rr_report_doc *d, size_t findings_items)
{
  static const char *titles[4][3] = {{"55752-0", "Clinical information", "Indication"},
                                     {"55111-9", "Procedure", "Technique"},
                                     {"59776-5", "Findings", NULL},
                                     {"19005-8", "Impressions", "Impression"}};
  static const char *texts[] = {
      "Persistent cough for three weeks, former smoker. Patient's own words (Arabic): \u0633\u0639\u0627\u0644 "
      "\u0645\u0633\u062a\u0645\u0631; (Hebrew): \u05e9\u05d9\u05e2\u05d5\u05dc \u05de\u05ea\u05de\u05e9\u05da.",
      "CT of the chest after intravenous contrast, 1 mm slices, soft-tissue and lung kernels.\nDLP 320 mGy\u00b7cm.",
      NULL,
      "1. Solitary pulmonary nodule of 6 mm in the right upper lobe: follow-up CT in 12 months (Fleischner).\n"
      "2. No other finding. \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac, \u0440\u0443\u0441\u0441\u043a\u0438\u0439, "
      "\u4e2d\u6587, \ud55c\uad6d\uc5b4."};

  d->sections = xcalloc(4, sizeof(*d->sections));
  d->section_count = 4;
  for (size_t i = 0; i < 4; i++) {
    rr_report_doc_section *s = &d->sections[i];
    S(&s->code, titles[i][0]);
    S(&s->meaning, titles[i][1]);
    S(&s->title, titles[i][1]);
    s->item_count = titles[i][2] != NULL ? 1 : findings_items;
    s->items = xcalloc(s->item_count, sizeof(rr_report_doc_item));
    for (size_t j = 0; j < s->item_count; j++) {
      char label[64], text[512];
      if (titles[i][2] != NULL) {
        S(&s->items[j].label, titles[i][2]);
        S(&s->items[j].text, texts[i]);
        continue;
      }
      snprintf(label, sizeof(label), "Region %zu", j + 1);
      snprintf(text, sizeof(text),
               "No focal lesion in region %zu; vessels of normal calibre, no lymphadenopathy, no effusion. "
               "Bones and soft tissues of the chest wall are unremarkable.",
               j + 1);
      S(&s->items[j].label, label);
      S(&s->items[j].text, text);
    }
  }
}

static bool g_latin; /* --latin: Latin script only (what the other scripts' fonts cost) */

static rr_report_doc *bench_doc(bool with_images)
{
  rr_report_doc *d = rr_report_doc_new();

  if (d == NULL)
    exit(1);
  S(&d->institution, "H\u00f4pital Universitaire \u2014 Service de Radiologie");
  S(&d->patient_name, "Yamada^Tarou=\u5c71\u7530^\u592a\u90ce=\u3084\u307e\u3060^\u305f\u308d\u3046");
  S(&d->patient_id, "PAT-0042");
  S(&d->patient_birth_date, "19700131");
  S(&d->patient_sex, "M");
  S(&d->study_date, "20261201");
  S(&d->study_time, "140312");
  S(&d->study_description, "CT THORAX MIT KONTRASTMITTEL");
  S(&d->accession_number, "ACC-2026-000777");
  S(&d->referring_physician, "M\u00fcller^Anna^^Dr");
  S(&d->modalities, "CT");
  d->report_id = 12;
  d->version = 2;
  S(&d->kind, "addendum");
  S(&d->status, "final");
  S(&d->title, "CT Chest");
  sections(d, 27);
  if (g_latin) {
    S(&d->patient_name, "Yamada^Tarou");
    S(&d->sections[0].items[0].text, "Persistent cough for three weeks, former smoker.");
    S(&d->sections[3].items[0].text, "1. Solitary pulmonary nodule of 6 mm in the right upper lobe.");
  }
  d->findings = xcalloc(2, sizeof(*d->findings));
  d->finding_count = 2;
  S(&d->findings[0].text, "Nodule of 6 mm in the right upper lobe (confirmed).");
  S(&d->findings[0].analysis_ref, "AI analysis 0123456789abcdef0123456789abcdef, reviewed by jdoe on 2026-12-04");
  S(&d->findings[1].text, "No pleural effusion (modified: small left effusion excluded).");
  S(&d->findings[1].analysis_ref, "AI analysis 0123456789abcdef0123456789abcdef, reviewed by jdoe on 2026-12-04");
  if (with_images) {
    d->images = xcalloc(4, sizeof(*d->images));
    d->image_count = 4;
    for (unsigned i = 0; i < 4; i++) {
      char cap[64];
      snprintf(cap, sizeof(cap), "Series 2, image %u, %s window", 10 + 5 * i, i < 2 ? "lung" : "mediastinal");
      S(&d->images[i].caption, cap);
      key_image(&d->images[i], i);
    }
  }
  d->critical = true;
  S(&d->critical_recipient, "Dr Anna M\u00fcller (referring)");
  S(&d->critical_method, "phone");
  d->critical_at = 1796392380000LL;
  d->addenda = xcalloc(1, sizeof(*d->addenda));
  d->addendum_count = 1;
  d->addenda[0].version = 2;
  S(&d->addenda[0].text, "Compared with the CT of 2025-06-01 (outside hospital): the nodule is unchanged in size.");
  S(&d->addenda[0].signed_by_name, "Jane Doe");
  d->addenda[0].signed_at = 1796400000000LL;
  S(&d->signed_by, "jdoe");
  S(&d->signed_by_name, "Jane Doe");
  d->signed_at = 1796400000000LL;
  S(&d->body_signed_by_name, "Jane Doe");
  d->body_signed_at = 1796392980000LL;
  return d;
}

static double clock_ms(clockid_t id)
{
  struct timespec ts;

  clock_gettime(id, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static int pages_of(const unsigned char *pdf, size_t n)
{
  int pages = 0;

  for (size_t i = 0; i + 12 <= n; i++)
    if (memcmp(pdf + i, "/Type /Page", 11) == 0 && pdf[i + 11] != 's')
      pages++;
  return pages;
}

/* Render d once: wall ms (and the thread's CPU ms into *cpu), the PDF into
 * *out when out is not NULL. */
static double render_once(const rr_report_doc *d, unsigned char **out, size_t *out_size, double *cpu)
{
  unsigned char *pdf = NULL;
  size_t n = 0;
  char err[256] = "";
  double c0 = clock_ms(CLOCK_THREAD_CPUTIME_ID), t0 = clock_ms(CLOCK_MONOTONIC);

  if (rr_report_pdf_render(&pdf, &n, d, NULL, err, sizeof(err)) != 0) {
    fprintf(stderr, "render failed: %s\n", err);
    exit(1);
  }
  t0 = clock_ms(CLOCK_MONOTONIC) - t0;
  if (cpu != NULL)
    *cpu = clock_ms(CLOCK_THREAD_CPUTIME_ID) - c0;
  if (out != NULL) {
    *out = pdf;
    *out_size = n;
  } else {
    free(pdf);
  }
  return t0;
}

typedef struct stats {
  double p50, p95, cpu50;
} stats;

static void summarise(double *t, double *c, int runs, stats *st)
{
  qsort(t, (size_t)runs, sizeof(double), cmp_double);
  qsort(c, (size_t)runs, sizeof(double), cmp_double);
  st->p50 = runs % 2 ? t[runs / 2] : (t[runs / 2 - 1] + t[runs / 2]) / 2;
  st->cpu50 = runs % 2 ? c[runs / 2] : (c[runs / 2 - 1] + c[runs / 2]) / 2;
  st->p95 = t[(size_t)((runs - 1) * 0.95 + 0.5)];
}

/* Alternating runs of both docs: their statistics into st[2]. */
static void measure(rr_report_doc *docs[2], int runs, stats st[2])
{
  double *t[2] = {xcalloc((size_t)runs, sizeof(double)), xcalloc((size_t)runs, sizeof(double))};
  double *c[2] = {xcalloc((size_t)runs, sizeof(double)), xcalloc((size_t)runs, sizeof(double))};

  for (int r = 0; r < runs; r++)
    for (int k = 0; k < 2; k++) {
      int which = (r % 2) ? 1 - k : k;
      t[which][r] = render_once(docs[which], NULL, NULL, &c[which][r]);
    }
  for (int k = 0; k < 2; k++) {
    summarise(t[k], c[k], runs, &st[k]);
    free(t[k]);
    free(c[k]);
  }
}

static double load_average(void)
{
  double l = -1;
  FILE *f = fopen("/proc/loadavg", "r");

  if (f != NULL) {
    if (fscanf(f, "%lf", &l) != 1)
      l = -1;
    fclose(f);
  }
  return l;
}

int main(int argc, char **argv)
{
  int runs = 30;
  const char *out = NULL;
  rr_report_doc *docs[2];
  unsigned char *pdf[2];
  size_t size[2];
  double first, load;
  stats st[2];

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
      out = argv[++i];
    else if (strcmp(argv[i], "--latin") == 0)
      g_latin = true;
    else if (atoi(argv[i]) > 0)
      runs = atoi(argv[i]);
  }
  docs[0] = bench_doc(true);
  docs[1] = bench_doc(false);
  first = render_once(docs[0], &pdf[0], &size[0], NULL);
  render_once(docs[1], &pdf[1], &size[1], NULL);
  if (out != NULL) {
    FILE *f = fopen(out, "wb");
    if (f == NULL || fwrite(pdf[0], 1, size[0], f) != size[0] || fclose(f) != 0) {
      fprintf(stderr, "could not write %s\n", out);
      return 1;
    }
  }
  load = load_average();
  measure(docs, runs, st);
  printf("report-pdf: %d pages A4, 4 key images (grey PNG 512x512: %s), %s; %d renders each, alternating; "
         "load average (1 min) %.2f before, %.2f after\n",
         pages_of(pdf[0], size[0]), g_images, g_latin ? "Latin text only" : "8 scripts", runs, load, load_average());
  printf("  first render (fonts loading)  %7.1f ms\n", first);
  printf("                         wall p50   wall p95   CPU p50      bytes\n");
  printf("  with 4 key images    %8.1f ms %7.1f ms %7.1f ms %9zu\n", st[0].p50, st[0].p95, st[0].cpu50, size[0]);
  printf("  baseline: text only  %8.1f ms %7.1f ms %7.1f ms %9zu  (%d pages)\n", st[1].p50, st[1].p95,
         st[1].cpu50, size[1], pages_of(pdf[1], size[1]));
  printf("  ratio with images / text only (wall p50) %.2f\n", st[0].p50 / st[1].p50);
  printf("goal (issue 12): PDF under 100 ms: wall p50 %.1f ms, p95 %.1f ms (CPU %.1f ms): %s\n", st[0].p50,
         st[0].p95, st[0].cpu50, st[0].p95 < 100 ? "met" : st[0].p50 < 100 ? "met at p50, NOT at p95" : "NOT met");
  free(pdf[0]);
  free(pdf[1]);
  rr_report_doc_free(docs[0]);
  rr_report_doc_free(docs[1]);
  return 0;
}
