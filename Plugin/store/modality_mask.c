#include "modality_mask.h"

#include <string.h>

static const char *const mask_modalities[] = {
  "CT", "MR", "CR", "DX", "US", "MG", "PT", "NM", "XA", "RF", "OT", "SR", "SEG", "RTSTRUCT", "RTPLAN", "RTDOSE",
  "RTIMAGE", "PR", "KO", "DOC", "ECG", "IO", "PX", "ES", "XC", "OP", "OPT", "BMD", "HD", "DG", "SM"};
#define MASK_MODALITY_COUNT ((int)(sizeof(mask_modalities) / sizeof(mask_modalities[0])))

int64_t rr_modality_bit(const char *modality, size_t len)
{
  int i;

  for (i = 0; i < MASK_MODALITY_COUNT; i++)
    if (strlen(mask_modalities[i]) == len && strncmp(mask_modalities[i], modality, len) == 0)
      return (int64_t)1 << i;
  return 0;
}

int64_t rr_modality_mask(const char *mods)
{
  int64_t mask = 0;
  size_t len;

  while (*mods) {
    len = strcspn(mods, "\\");
    mask |= rr_modality_bit(mods, len);
    mods += len;
    if (*mods)
      mods++;
  }
  return mask;
}
