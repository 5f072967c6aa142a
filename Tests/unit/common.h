/*
 * common.h - helpers shared by the unit tests: temporary directories, a
 * store of the backend under test (store_fixture.h), and a runner main().
 */
#ifndef RR_TEST_COMMON_H
#define RR_TEST_COMMON_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "store/store_sqlite.h"
#include "store_fixture.h"

/* A fresh temporary directory (mkdtemp); removed by rr_test_rmdir. */
static inline void rr_test_tmpdir(char *out, size_t size)
{
  const char *base = getenv("TMPDIR");
  snprintf(out, size, "%s/rr-unit-XXXXXX", base && *base ? base : "/tmp");
  ck_assert_ptr_nonnull(mkdtemp(out));
}

static inline void rr_test_rmdir(const char *dir)
{
  char cmd[4200];
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "could not remove %s\n", dir);
}

/* Open the backend named by RR_TEST_STORE (default: the first one the build
 * has, sqlite; see store_fixture.c) in `dir`. */
static inline rr_store *rr_test_store_open(const char *dir)
{
  return rr_fx_open_named(getenv("RR_TEST_STORE"), dir);
}

static inline int rr_test_run(Suite *suite)
{
  SRunner *sr = srunner_create(suite);
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
