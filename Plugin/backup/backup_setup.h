/*
 * backup_setup.h - the off-site backup as ReadingRoom.Backup configures it:
 * the key loaded (Key, KeyFile or the environment variable) and checked,
 * the targets' options (S3 or Cloudinary; secrets from the configuration or
 * the named environment variables), and the queue made (backup_queue.h).
 *
 * Called once from OrthancPluginInitialize. *out is NULL when backup is
 * off. The configuration is borrowed for the queue's life (the targets'
 * options point into it); it must outlive the queue (the plugin's is
 * static). Errors: RR_EINVAL with a sentence naming the option (a bad key:
 * Orthanc should not start), RR_ENOMEM.
 */
#ifndef RR_BACKUP_BACKUP_SETUP_H
#define RR_BACKUP_BACKUP_SETUP_H

#include <stddef.h>

#include "backup/backup_queue.h"
#include "config.h"

int rr_backup_setup(rr_backup_queue **out, const rr_config *c, rr_store *store, rr_rest_source source,
                    rr_rest_poster poster, char *err, size_t errsize);

#endif
