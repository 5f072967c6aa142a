#include "embedded.h"

#include <string.h>

const rr_embedded_file *rr_embedded_find(const rr_embedded_file *table, size_t count, const char *path)
{
  size_t i;

  for (i = 0; i < count; i++)
    if (strcmp(table[i].path, path) == 0)
      return &table[i];
  return NULL;
}
