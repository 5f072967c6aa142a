/*
 * fill_store - write N synthetic studies (one series, one instance each)
 * straight into a Reading Room store, for the worklist benchmark.
 *   fill_store <database-path> <studies>            (SQLite)
 *   fill_store --pg <libpq-conninfo> <studies>      (PostgreSQL)
 * Names, dates and modalities are drawn from small tables with a fixed seed,
 * so every run builds the same store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_pg.h"
#include "store/store_sqlite.h"
#include "util/str.h"

static const char *const family[] = {"SMITH", "MÜLLER", "GARCÍA", "NGUYEN", "IVANOV", "YAMADA", "OKAFOR", "ROSSI",
                                     "DUBOIS", "KOWALSKI", "JOHANSSON", "PAPADOPOULOS", "SILVA", "KIM", "COHEN", "HASSAN"};
static const char *const given[] = {"JOHN", "ANNA", "LUCAS", "MEI", "OMAR", "SOFIA", "PIOTR", "INGRID", "RENÉE", "TARO"};
static const char *const modality[] = {"CT", "MR", "CR", "DX", "US", "MG", "PT", "NM"};
static const char *const description[] = {"CT THORAX", "MR BRAIN", "CHEST PA", "ABDOMEN US", "MAMMO SCREENING",
                                          "PET CT WHOLE BODY", "KNEE MR", "CT HEAD WITHOUT CONTRAST"};

static unsigned long long rng = 42;
static unsigned next(unsigned n)
{
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((rng >> 33) % n);
}

int main(int argc, char **argv)
{
  rr_sqlite_options opts;
  rr_pg_options pg;
  rr_store *store = NULL;
  rr_ingest_item *items;
  char err[512] = "";
  long total, i, done = 0;
  int batch = 1000, rc = 1;

  int use_pg = argc == 4 && strcmp(argv[1], "--pg") == 0;

  if ((argc != 3 && !use_pg) || (total = strtol(argv[argc - 1], NULL, 10)) <= 0) {
    fprintf(stderr, "usage: fill_store <database-path> <studies>\n       fill_store --pg <conninfo> <studies>\n");
    return 2;
  }
  opts.path = argv[1];
  opts.reader_count = 1;
  opts.busy_timeout_ms = 10000;
  memset(&pg, 0, sizeof(pg));
  pg.conninfo = argv[2];
  pg.pool_size = 1;
  pg.connect_timeout_s = 10;
  if ((use_pg ? rr_store_pg_open(&store, &pg, err, sizeof(err)) : rr_store_sqlite_open(&store, &opts, err, sizeof(err))) < 0) {
    fprintf(stderr, "fill_store: %s\n", err);
    return 1;
  }
  items = calloc((size_t)batch, sizeof(*items));
  if (items == NULL)
    goto out;
  while (done < total) {
    int n = (int)(total - done < batch ? total - done : batch);
    rr_ingest_batch b = {items, (size_t)n, NULL, NULL, 1700000000 + done};
    for (i = 0; i < n; i++) {
      rr_ingest_item *it = &items[i];
      long k = done + i;
      char name[128];
      memset(it, 0, sizeof(*it));
      snprintf(it->study.orthanc_id, RR_OID_SIZE, "bench-study-%08ld", k);
      snprintf(it->study.patient_orthanc_id, RR_OID_SIZE, "bench-patient-%08ld", k / 3);
      snprintf(it->study.study_uid, RR_UID_SIZE, "1.2.826.0.1.3680043.9.7777.%ld", k + 1);
      snprintf(name, sizeof(name), "%s^%s", family[next(16)], given[next(10)]);
      rr_str_copy(it->study.patient_name, RR_PN_SIZE, name);
      snprintf(it->study.patient_id, RR_LO_SIZE, "PID%07ld", k / 3);
      snprintf(it->study.study_date, RR_DA_SIZE, "%04u%02u%02u", 2000 + next(26), 1 + next(12), 1 + next(28));
      snprintf(it->study.study_time, RR_TM_SIZE, "%02u%02u00", next(24), next(60));
      rr_str_copy(it->study.study_description, RR_LO_SIZE, description[next(8)]);
      snprintf(it->study.accession_number, RR_LO_SIZE, "ACC%08ld", k);
      snprintf(it->series.orthanc_id, RR_OID_SIZE, "bench-series-%08ld", k);
      rr_str_copy(it->series.study_orthanc_id, RR_OID_SIZE, it->study.orthanc_id);
      snprintf(name, sizeof(name), "%s.1", it->study.study_uid);
      rr_str_copy(it->series.series_uid, RR_UID_SIZE, name);
      rr_str_copy(it->series.modality, RR_CS_SIZE, modality[next(8)]);
      it->series.has_series_number = true;
      it->series.series_number = 1;
      snprintf(it->instance.orthanc_id, RR_OID_SIZE, "bench-instance-%08ld", k);
      rr_str_copy(it->instance.series_orthanc_id, RR_OID_SIZE, it->series.orthanc_id);
      snprintf(name, sizeof(name), "%s.1.1", it->study.study_uid);
      rr_str_copy(it->instance.sop_instance_uid, RR_UID_SIZE, name);
      it->instance.number_of_frames = 1;
    }
    if (rr_store_apply_batch(store, &b, err, sizeof(err)) < 0) {
      fprintf(stderr, "fill_store: %s\n", err);
      goto out;
    }
    done += n;
  }
  rc = 0;
out:
  free(items);
  rr_store_free(store);
  return rc;
}
