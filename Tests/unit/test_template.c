/*
 * report/template.h: the built-in templates, validation of administrators'
 * templates, field checks, required fields, defaults, rendering into a
 * report doc, the choice of a template for a study, and the registry's
 * writes over a real store.
 */
#include <json-c/json.h>

#include "common.h"
#include "report/report_doc.h"
#include "report/template.h"
#include "util/errors.h"
#include "util/str.h"

static char err[512];

/* A small valid template with one field of each type. */
static const char *const TPL =
  "{\"id\":\"t1\",\"title\":\"Test\",\"match\":{\"modalities\":[\"US\"],\"keywords\":[\"thyroid\"]},"
  "\"sections\":[{\"id\":\"findings\",\"title\":\"Findings\",\"code\":\"59776-5\",\"meaning\":\"Procedure Findings\","
  "\"fields\":["
  "{\"id\":\"txt\",\"label\":\"Text\",\"type\":\"text\",\"default\":\"hello\"},"
  "{\"id\":\"long\",\"label\":\"Long\",\"type\":\"longtext\",\"required\":\"warn\"},"
  "{\"id\":\"num\",\"label\":\"Size\",\"type\":\"number\",\"unit\":\"mm\",\"min\":0,\"max\":100},"
  "{\"id\":\"day\",\"label\":\"Day\",\"type\":\"date\"},"
  "{\"id\":\"one\",\"label\":\"One\",\"type\":\"choice\",\"options\":[\"A\",\"B\"],\"default\":\"A\"},"
  "{\"id\":\"many\",\"label\":\"Many\",\"type\":\"multichoice\",\"options\":[\"X\",\"Y\",\"Z\"],\"default\":[\"X\"]}]},"
  "{\"id\":\"impression\",\"title\":\"Impression\",\"code\":\"19005-8\",\"meaning\":\"Impressions\","
  "\"fields\":[{\"id\":\"impression\",\"label\":\"Impression\",\"type\":\"longtext\",\"required\":\"block\"}]},"
  "{\"id\":\"empty\",\"title\":\"Nothing\",\"fields\":[]}]}";

static int validate(const char *json)
{
  return rr_template_validate(json, strlen(json), err, sizeof(err));
}

START_TEST(builtins_load_and_follow_the_outline)
{
  rr_templates *t = NULL;
  char *list = NULL;
  json_object *root, *data;
  const char *ids[] = {"ct-chest", "ct-abdomen-pelvis", "ct-head", "mr-brain", "chest-xray", "generic"};

  ck_assert_int_eq(rr_templates_new(&t, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_templates_list(&list, t, false, err, sizeof(err)), 0);
  root = json_tokener_parse(list);
  free(list);
  list = NULL;
  data = json_object_object_get(root, "data");
  ck_assert_uint_eq(json_object_array_length(data), 6);
  for (size_t i = 0; i < 6; i++) {
    char *one = NULL, *block = NULL, *warn = NULL;
    bool retired = true;
    ck_assert_int_eq(rr_templates_get(&one, &retired, t, ids[i], err, sizeof(err)), 0);
    ck_assert(!retired);
    ck_assert_ptr_nonnull(strstr(one, "\"builtin\":true"));
    ck_assert_ptr_nonnull(strstr(one, "\"revision\":1"));
    /* the RadReport outline with LOINC codes, a longtext "comparison", a blocking impression */
    const char *codes[] = {"55752-0", "55111-9", "18834-2", "59776-5", "19005-8", "18783-1"};
    for (size_t c = 0; c < 6; c++)
      ck_assert_msg(strstr(one, codes[c]) != NULL, "%s lacks section %s", ids[i], codes[c]);
    ck_assert_ptr_nonnull(strstr(one, "{\"id\":\"comparison\",\"label\":\"Comparison\",\"type\":\"longtext\""));
    ck_assert_int_eq(rr_template_missing(&block, &warn, one, "{}", err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(block, "\"id\":\"impression\""));
    free(block);
    free(warn);
    free(one);
  }
  ck_assert_int_eq(rr_templates_get(&list, NULL, t, "nope", err, sizeof(err)), RR_ENOTFOUND);
  ck_assert_int_eq(rr_templates_get(&list, NULL, t, "../etc", err, sizeof(err)), RR_ENOTFOUND);
  json_object_put(root);
  rr_templates_free(t);
  rr_templates_free(NULL);
}
END_TEST

START_TEST(validation_refusals)
{
  ck_assert_int_eq(validate(TPL), 0);
  ck_assert_int_eq(validate("not json"), RR_EINVAL);
  ck_assert_int_eq(validate("[]"), RR_EINVAL);
  ck_assert_int_eq(validate("{\"id\":\"a b\",\"title\":\"T\",\"sections\":[]}"), RR_EINVAL);
  ck_assert_str_eq(err, "template: \"id\" must be 1 to 64 of letters, digits, '.', '_' and '-'");
  ck_assert_int_eq(validate("{\"id\":\"a\",\"sections\":[{\"id\":\"s\",\"title\":\"S\",\"fields\":[]}]}"), RR_EINVAL);
  ck_assert_str_eq(err, "template: \"title\" is missing");
  ck_assert_int_eq(validate("{\"id\":\"a\",\"title\":\"T\",\"sections\":[]}"), RR_EINVAL);
  ck_assert_int_eq(validate("{\"id\":\"a\",\"title\":\"T\",\"colour\":1,\"sections\":[]}"), RR_EINVAL);
  ck_assert_str_eq(err, "template: unknown member \"colour\"");
#define ONE_FIELD(f) "{\"id\":\"a\",\"title\":\"T\",\"sections\":[{\"id\":\"s\",\"title\":\"S\",\"fields\":[" f "]}]}"
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\"}")), 0);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"blob\"}")), RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": \"type\" must be text, longtext, number, date, choice or multichoice");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"type\":\"text\"}")), RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": \"label\" is missing");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"choice\"}")), RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": a choice field needs \"options\"");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"choice\",\"options\":[\"a\",\"a\"]}")),
                   RR_EINVAL);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\",\"options\":[\"a\"]}")), RR_EINVAL);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\",\"unit\":\"mm\"}")), RR_EINVAL);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"number\",\"min\":5,\"max\":1}")),
                   RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": \"min\" is greater than \"max\"");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"number\",\"max\":1,\"default\":2}")),
                   RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": its \"default\" does not suit its type");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"choice\",\"options\":[\"a\"],"
                                      "\"default\":\"b\"}")),
                   RR_EINVAL);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\",\"required\":\"always\"}")),
                   RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": \"required\" must be none, warn or block");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\"},"
                                      "{\"id\":\"f\",\"label\":\"G\",\"type\":\"text\"}")),
                   RR_EINVAL);
  ck_assert_str_eq(err, "field id \"f\" is used twice");
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"date\",\"default\":\"2026-02-30\"}")),
                   RR_EINVAL);
  ck_assert_int_eq(validate(ONE_FIELD("{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\",\"x\":1}")), RR_EINVAL);
  ck_assert_str_eq(err, "field \"f\": unknown member \"x\"");
  /* members the registry adds are accepted in input */
  ck_assert_int_eq(validate("{\"id\":\"a\",\"title\":\"T\",\"revision\":3,\"builtin\":false,\"retired\":false,"
                            "\"sections\":[{\"id\":\"s\",\"title\":\"S\",\"fields\":[]}]}"),
                   0);
}
END_TEST

static int check(const char *fields)
{
  return rr_template_check_fields(TPL, fields, err, sizeof(err));
}

START_TEST(check_fields_types_options_limits_dates)
{
  ck_assert_int_eq(check("{}"), 0);
  ck_assert_int_eq(check(NULL), 0);
  ck_assert_int_eq(check("{\"txt\":\"a\",\"long\":\"a\\nb\",\"num\":12.5,\"day\":\"2024-02-29\",\"one\":\"B\","
                         "\"many\":[\"Z\",\"X\"],\"impression\":null}"),
                   0);
  ck_assert_int_eq(check("{\"num\":\"\",\"day\":\"\",\"one\":\"\",\"many\":[]}"), 0);
  ck_assert_int_eq(check("{\"nope\":\"a\"}"), RR_EINVAL);
  ck_assert_str_eq(err, "the template has no field \"nope\"");
  ck_assert_int_eq(check("{\"txt\":1}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"txt\" must be a string");
  ck_assert_int_eq(check("{\"txt\":\"two\\nlines\"}"), RR_EINVAL);
  ck_assert_int_eq(check("{\"num\":\"12\"}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"num\" must be a number");
  ck_assert_int_eq(check("{\"num\":-1}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"num\" is below its minimum (0)");
  ck_assert_int_eq(check("{\"num\":100.5}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"num\" is above its maximum (100)");
  ck_assert_int_eq(check("{\"num\":100}"), 0);
  ck_assert_int_eq(check("{\"day\":\"2023-02-29\"}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"day\" must be a date YYYY-MM-DD");
  ck_assert_int_eq(check("{\"day\":\"20240101\"}"), RR_EINVAL);
  ck_assert_int_eq(check("{\"one\":\"C\"}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"one\" holds a value that is not one of its options");
  ck_assert_int_eq(check("{\"one\":[\"A\"]}"), RR_EINVAL);
  ck_assert_int_eq(check("{\"many\":\"X\"}"), RR_EINVAL);
  ck_assert_int_eq(check("{\"many\":[\"X\",\"W\"]}"), RR_EINVAL);
  ck_assert_int_eq(check("{\"many\":[\"X\",\"X\"]}"), RR_EINVAL);
  ck_assert_str_eq(err, "field \"many\" holds an option twice");
  ck_assert_int_eq(check("[1]"), RR_EINVAL);
  ck_assert_int_eq(check("{\"txt\":"), RR_EINVAL);
}
END_TEST

START_TEST(missing_block_and_warn)
{
  char *block = NULL, *warn = NULL;

  ck_assert_int_eq(rr_template_missing(&block, &warn, TPL, "{\"long\":\"  \",\"impression\":\"\"}", err, sizeof(err)), 0);
  ck_assert_str_eq(block, "[{\"id\":\"impression\",\"label\":\"Impression\",\"section\":\"impression\","
                          "\"sectionTitle\":\"Impression\"}]");
  ck_assert_str_eq(warn, "[{\"id\":\"long\",\"label\":\"Long\",\"section\":\"findings\",\"sectionTitle\":\"Findings\"}]");
  free(block);
  free(warn);
  ck_assert_int_eq(rr_template_missing(&block, &warn, TPL, "{\"long\":\"x\",\"impression\":\"Normal.\"}", err,
                                       sizeof(err)),
                   0);
  ck_assert_str_eq(block, "[]");
  ck_assert_str_eq(warn, "[]");
  free(block);
  free(warn);
  ck_assert_int_eq(rr_template_missing(&block, &warn, "nope", "{}", err, sizeof(err)), RR_EINVAL);
  ck_assert_ptr_null(block);
}
END_TEST

START_TEST(defaults_of_each_field)
{
  char *d = NULL;

  ck_assert_int_eq(rr_template_defaults(&d, TPL, err, sizeof(err)), 0);
  ck_assert_str_eq(d, "{\"txt\":\"hello\",\"one\":\"A\",\"many\":[\"X\"]}");
  ck_assert_int_eq(rr_template_check_fields(TPL, d, err, sizeof(err)), 0);
  free(d);
}
END_TEST

START_TEST(render_sections_with_units_and_choices)
{
  rr_report_doc *doc = rr_report_doc_new();

  ck_assert_int_eq(rr_template_render(doc, TPL,
                                      "{\"txt\":\"hello\",\"num\":12.5,\"many\":[\"X\",\"Z\"],\"one\":\"\","
                                      "\"day\":\"2026-12-04\",\"impression\":\"No acute finding.\"}",
                                      err, sizeof(err)),
                   0);
  ck_assert_str_eq(doc->title, "Test");
  ck_assert_str_eq(doc->template_id, "t1");
  ck_assert_uint_eq(doc->section_count, 2); /* "Nothing" has no value: left out */
  ck_assert_str_eq(doc->sections[0].code, "59776-5");
  ck_assert_str_eq(doc->sections[0].meaning, "Procedure Findings");
  ck_assert_str_eq(doc->sections[0].title, "Findings");
  ck_assert_uint_eq(doc->sections[0].item_count, 4);
  ck_assert_str_eq(doc->sections[0].items[0].label, "Text");
  ck_assert_str_eq(doc->sections[0].items[0].text, "hello");
  ck_assert_str_eq(doc->sections[0].items[1].label, "Size");
  ck_assert_str_eq(doc->sections[0].items[1].text, "12.5 mm");
  ck_assert_str_eq(doc->sections[0].items[2].text, "2026-12-04");
  ck_assert_str_eq(doc->sections[0].items[3].label, "Many");
  ck_assert_str_eq(doc->sections[0].items[3].text, "X, Z");
  ck_assert_str_eq(doc->sections[1].items[0].text, "No acute finding.");
  /* rendering again replaces what the doc held */
  ck_assert_int_eq(rr_template_render(doc, TPL, "{\"num\":7}", err, sizeof(err)), 0);
  ck_assert_uint_eq(doc->section_count, 1);
  ck_assert_str_eq(doc->sections[0].items[0].text, "7 mm");
  ck_assert_int_eq(rr_template_render(doc, TPL, "{}", err, sizeof(err)), 0);
  ck_assert_uint_eq(doc->section_count, 0);
  rr_report_doc_free(doc);
}
END_TEST

static const char *choose(rr_templates *t, const char *mods, const char *body, const char *desc)
{
  static char id[65];

  ck_assert_int_eq(rr_templates_choose(id, sizeof(id), t, mods, body, desc), 0);
  return id;
}

START_TEST(choose_by_modality_body_part_and_description)
{
  rr_templates *t = NULL;

  ck_assert_int_eq(rr_templates_new(&t, NULL, err, sizeof(err)), 0);
  ck_assert_str_eq(choose(t, "CT", "CHEST", ""), "ct-chest");
  ck_assert_str_eq(choose(t, "CT\\SR", "", "CT THORAX W/O CONTRAST"), "ct-chest");
  ck_assert_str_eq(choose(t, "CT", "ABDOMEN", "CT ABD PELVIS WITH CONTRAST"), "ct-abdomen-pelvis");
  ck_assert_str_eq(choose(t, "CT", "HEAD", ""), "ct-head");
  ck_assert_str_eq(choose(t, "MR", "HEAD", ""), "mr-brain");
  ck_assert_str_eq(choose(t, "MR", "", "MRI Brain with and without"), "mr-brain");
  ck_assert_str_eq(choose(t, "CR", "CHEST", ""), "chest-xray");
  ck_assert_str_eq(choose(t, "DX", "", "Chest PA and lateral"), "chest-xray");
  ck_assert_str_eq(choose(t, "US", "ABDOMEN", "Ultrasound abdomen"), "generic");
  ck_assert_str_eq(choose(t, "CT", "", ""), "generic");
  ck_assert_str_eq(choose(t, "", "", ""), "generic");
  ck_assert_str_eq(choose(t, NULL, NULL, NULL), "generic");
  /* a word, not a part of one: "pa" is not in "pancreas" */
  ck_assert_str_eq(choose(t, "DX", "", "pancreas"), "generic");

  /* a study as the store knows it: body parts and descriptions of its series count */
  rr_study_detail d;
  rr_series_detail se[2];
  char id[65];
  memset(&d, 0, sizeof(d));
  memset(se, 0, sizeof(se));
  rr_str_copy(d.study.modalities, sizeof(d.study.modalities), "SR\\DX");
  rr_str_copy(se[0].series.modality, sizeof(se[0].series.modality), "SR");
  rr_str_copy(se[1].series.modality, sizeof(se[1].series.modality), "DX");
  rr_str_copy(se[1].series.body_part, sizeof(se[1].series.body_part), "CHEST");
  d.series = se;
  d.series_count = 2;
  ck_assert_int_eq(rr_templates_choose_study(id, sizeof(id), t, &d), 0);
  ck_assert_str_eq(id, "chest-xray");
  rr_str_copy(d.study.modalities, sizeof(d.study.modalities), "MR");
  se[1].series.body_part[0] = '\0';
  rr_str_copy(se[0].series.series_description, sizeof(se[0].series.series_description), "T2 FLAIR brain");
  ck_assert_int_eq(rr_templates_choose_study(id, sizeof(id), t, &d), 0);
  ck_assert_str_eq(id, "mr-brain");
  rr_templates_free(t);
}
END_TEST

START_TEST(registry_writes_over_the_store)
{
  char dir[4096], *out = NULL;
  rr_store *s;
  rr_templates *t = NULL;
  const char *mine = "{\"id\":\"t1\",\"title\":\"Thyroid US\",\"match\":{\"modalities\":[\"US\"],\"keywords\":[\"thyroid\"]},"
                     "\"sections\":[{\"id\":\"s\",\"title\":\"S\",\"fields\":[{\"id\":\"f\",\"label\":\"F\",\"type\":\"text\"}]}]}";
  bool retired = false;

  rr_test_tmpdir(dir, sizeof(dir));
  s = rr_test_store_open(dir);
  ck_assert_int_eq(rr_templates_new(&t, s, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_templates_create(&out, t, mine, strlen(mine), "admin", 1000, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":1,\"builtin\":false,\"modified\":false,\"retired\":false,"
                                    "\"updatedBy\":\"admin\""));
  free(out);
  ck_assert_int_eq(rr_templates_create(&out, t, mine, strlen(mine), "admin", 1000, err, sizeof(err)), RR_EEXISTS);
  ck_assert_str_eq(choose(t, "US", "", "US thyroid"), "t1");

  /* a built-in: its first change stores an override at its revision + 1 */
  char *chest = NULL;
  ck_assert_int_eq(rr_templates_get(&chest, NULL, t, "ct-chest", err, sizeof(err)), 0);
  ck_assert_int_eq(rr_templates_create(&out, t, chest, strlen(chest), "admin", 1000, err, sizeof(err)), RR_EEXISTS);
  memcpy(strstr(chest, "\"CT Chest\""), "\"CT Thora\"", 10); /* the administrator's change */
  ck_assert_int_eq(rr_templates_update(&out, t, "ct-chest", chest, strlen(chest), 2, "admin", 2000, err, sizeof(err)),
                   RR_ESTALE);
  ck_assert_int_eq(rr_templates_update(&out, t, "ct-head", chest, strlen(chest), 1, "admin", 2000, err, sizeof(err)),
                   RR_EINVAL);
  ck_assert_int_eq(rr_templates_update(&out, t, "ct-chest", chest, strlen(chest), 1, "admin", 2000, err, sizeof(err)),
                   0);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":2,\"builtin\":true,\"modified\":true,\"retired\":false"));
  free(out);
  ck_assert_int_eq(rr_templates_update(&out, t, "ct-chest", chest, strlen(chest), 1, "admin", 2000, err, sizeof(err)),
                   RR_ESTALE);
  ck_assert_int_eq(rr_templates_update(&out, t, "nope", chest, strlen(chest), 1, "admin", 2000, err, sizeof(err)),
                   RR_ENOTFOUND);
  free(chest);

  /* retire: gone from the list and the choice, still readable by id; restore */
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "ct-chest", true, "admin", 3000, err, sizeof(err)), 0);
  free(out);
  ck_assert_int_eq(rr_templates_get(&out, &retired, t, "ct-chest", err, sizeof(err)), 0);
  ck_assert(retired);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":3"));
  free(out);
  ck_assert_str_eq(choose(t, "CT", "CHEST", ""), "generic");
  ck_assert_int_eq(rr_templates_list(&out, t, false, err, sizeof(err)), 0);
  ck_assert_ptr_null(strstr(out, "\"id\":\"ct-chest\""));
  ck_assert_ptr_nonnull(strstr(out, "\"id\":\"t1\""));
  free(out);
  ck_assert_int_eq(rr_templates_list(&out, t, true, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"id\":\"ct-chest\""));
  free(out);
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "ct-chest", false, "admin", 4000, err, sizeof(err)), 0);
  free(out);
  ck_assert_str_eq(choose(t, "CT", "CHEST", ""), "ct-chest");
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "t1", true, "admin", 4000, err, sizeof(err)), 0);
  free(out);
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "none", true, "admin", 4000, err, sizeof(err)), RR_ENOTFOUND);
  /* back to the shipped version: a stored row equal to the shipped template is not "modified" */
  ck_assert_int_eq(rr_templates_reset(&out, t, "ct-chest", "admin", 5000, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"title\":\"CT Chest\",\"revision\":5,\"builtin\":true,\"modified\":false"));
  free(out);
  ck_assert_int_eq(rr_templates_reset(&out, t, "ct-chest", "admin", 5000, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":5,")); /* nothing to do */
  free(out);
  ck_assert_int_eq(rr_templates_reset(&out, t, "t1", "admin", 5000, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_int_eq(rr_templates_reset(&out, t, "none", "admin", 5000, err, sizeof(err)), RR_ENOTFOUND);
  /* retiring an unchanged built-in stores it, but it is not "modified" */
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "ct-head", true, "admin", 6000, err, sizeof(err)), 0);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":2,\"builtin\":true,\"modified\":false,\"retired\":true"));
  free(out);
  /* the fallback cannot be retired: every study must get a template */
  ck_assert_int_eq(rr_templates_set_retired(&out, t, "generic", true, "admin", 4000, err, sizeof(err)), RR_ECONFLICT);
  ck_assert_ptr_null(out);
  ck_assert_str_eq(choose(t, "US", "", ""), "generic");
  rr_templates_free(t);

  /* kept across a restart */
  rr_store_free(s);
  s = rr_test_store_open(dir);
  ck_assert_int_eq(rr_templates_new(&t, s, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_templates_get(&out, &retired, t, "t1", err, sizeof(err)), 0);
  ck_assert(retired);
  free(out);
  ck_assert_int_eq(rr_templates_get(&out, &retired, t, "ct-chest", err, sizeof(err)), 0);
  ck_assert(!retired);
  ck_assert_ptr_nonnull(strstr(out, "\"revision\":5"));
  free(out);
  rr_templates_free(t);
  rr_store_free(s);
  rr_test_rmdir(dir);

  /* without a store: built-ins only, no writes */
  ck_assert_int_eq(rr_templates_new(&t, NULL, err, sizeof(err)), 0);
  ck_assert_int_eq(rr_templates_create(&out, t, mine, strlen(mine), "admin", 1, err, sizeof(err)), RR_ESTORE);
  rr_templates_free(t);
}
END_TEST

int main(void)
{
  Suite *s = suite_create("template");
  TCase *tc = tcase_create("template");

  tcase_add_test(tc, builtins_load_and_follow_the_outline);
  tcase_add_test(tc, validation_refusals);
  tcase_add_test(tc, check_fields_types_options_limits_dates);
  tcase_add_test(tc, missing_block_and_warn);
  tcase_add_test(tc, defaults_of_each_field);
  tcase_add_test(tc, render_sections_with_units_and_choices);
  tcase_add_test(tc, choose_by_modality_body_part_and_description);
  tcase_add_test(tc, registry_writes_over_the_store);
  suite_add_tcase(s, tc);
  return rr_test_run(s);
}
