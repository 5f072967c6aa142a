#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "str.h"

typedef struct entry {
  char key[64];
  int64_t value;
  unsigned char used, marked;
} entry;

struct rr_strmap {
  entry *slots;
  size_t cap, count, max;
};

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ULL;

  while (*s)
    h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
  return h;
}

int rr_strmap_new(rr_strmap **out, size_t max_entries)
{
  rr_strmap *m = calloc(1, sizeof(*m));

  *out = NULL;
  if (m == NULL)
    return RR_ENOMEM;
  m->cap = 64;
  m->max = max_entries;
  m->slots = calloc(m->cap, sizeof(entry));
  if (m->slots == NULL) {
    free(m);
    return RR_ENOMEM;
  }
  *out = m;
  return 0;
}

void rr_strmap_free(rr_strmap *map)
{
  if (map == NULL)
    return;
  free(map->slots);
  free(map);
}

static entry *find(const rr_strmap *m, const char *key)
{
  size_t i = hash(key) & (m->cap - 1);

  while (m->slots[i].used) {
    if (strcmp(m->slots[i].key, key) == 0)
      return &m->slots[i];
    i = (i + 1) & (m->cap - 1);
  }
  return &m->slots[i];
}

static int grow(rr_strmap *m)
{
  entry *old = m->slots;
  size_t oldcap = m->cap, i;

  m->slots = calloc(oldcap * 2, sizeof(entry));
  if (m->slots == NULL) {
    m->slots = old;
    return RR_ENOMEM;
  }
  m->cap = oldcap * 2;
  for (i = 0; i < oldcap; i++)
    if (old[i].used)
      *find(m, old[i].key) = old[i];
  free(old);
  return 0;
}

int rr_strmap_put(rr_strmap *m, const char *key, int64_t value)
{
  entry *e;
  int error;

  e = find(m, key);
  if (!e->used) {
    if (m->count >= m->max)
      return RR_EFULL;
    if ((m->count + 1) * 2 > m->cap) {
      if ((error = grow(m)) < 0)
        return error;
      e = find(m, key);
    }
    rr_str_copy(e->key, sizeof(e->key), key);
    e->used = 1;
    m->count++;
  }
  e->value = value;
  return 0;
}

bool rr_strmap_get(const rr_strmap *m, const char *key, int64_t *value)
{
  const entry *e = find(m, key);

  if (!e->used)
    return false;
  if (value)
    *value = e->value;
  return true;
}

void rr_strmap_mark(rr_strmap *m, const char *key)
{
  entry *e = find(m, key);

  if (e->used)
    e->marked = 1;
}

bool rr_strmap_next(const rr_strmap *m, size_t *pos, const char **key, int64_t *value)
{
  while (*pos < m->cap) {
    const entry *e = &m->slots[(*pos)++];
    if (e->used && !e->marked) {
      *key = e->key;
      *value = e->value;
      return true;
    }
  }
  return false;
}

size_t rr_strmap_count(const rr_strmap *m)
{
  return m->count;
}
