#include "transcode_api.h"

#include <stdio.h>
#include <string.h>

#include "api/reply.h"
#include "api/route.h"
#include "util/big_stack.h"
#include "util/errors.h"
#include "util/str.h"

static OrthancPluginContext *ctx;

/* What the transcoding thread reads and writes. */
typedef struct transcode_job {
  const OrthancPluginMemoryBuffer *file;
  OrthancPluginMemoryBuffer answer; /* the serialised result; data NULL on failure */
  int failure;                      /* 0, or 1 cannot decode, 2 cannot serialise */
} transcode_job;

/* Orthanc's transcoder (DCMTK, or the GDCM plugin for JPEG 2000, JPEG-LS and
 * 12-bit JPEG) runs here, on a large stack: on a civetweb worker's stack GDCM
 * overflowed after a few requests and took Orthanc down (util/big_stack.h). */
static void transcode(void *arg)
{
  transcode_job *j = arg;
  OrthancPluginDicomInstance *dicom;

  dicom = OrthancPluginTranscodeDicomInstance(ctx, j->file->data, j->file->size, RR_TRANSCODE_TARGET_SYNTAX);
  if (dicom == NULL) {
    j->failure = 1;
    return;
  }
  if (OrthancPluginSerializeDicomInstance(ctx, &j->answer, dicom) != OrthancPluginErrorCode_Success) {
    j->answer.data = NULL;
    j->failure = 2;
  }
  OrthancPluginFreeDicomInstance(ctx, dicom);
}

static OrthancPluginErrorCode on_transcoded(OrthancPluginRestOutput *out, const char *url,
                                            const OrthancPluginHttpRequest *req)
{
  OrthancPluginMemoryBuffer file = {0};
  transcode_job job = {0};
  OrthancPluginErrorCode code;
  const char *id = req->groups[0];

  (void)url;
  RR_REPLY_REQUIRE_METHOD(ctx, out, req, OrthancPluginHttpMethod_Get, "GET");
  if (!rr_orthanc_id_valid(id)) {
    rr_reply_error(ctx, out, RR_API_INVALID_ARGUMENT, "an Orthanc instance identifier is expected");
    return OrthancPluginErrorCode_Success;
  }
  code = OrthancPluginGetDicomForInstance(ctx, &file, id);
  if (code == OrthancPluginErrorCode_UnknownResource || code == OrthancPluginErrorCode_InexistentItem) {
    rr_reply_error(ctx, out, RR_API_NOT_FOUND, "no such instance");
    goto out;
  }
  if (code != OrthancPluginErrorCode_Success) {
    rr_reply_failure(ctx, out, RR_EUPSTREAM, "transcoding", "Orthanc cannot read the instance's file");
    goto out;
  }
  job.file = &file;
  if (rr_big_stack_run(transcode, &job, 0) < 0) {
    rr_reply_failure(ctx, out, RR_ENOMEM, "transcoding", "cannot start the transcoding thread");
    goto out;
  }
  if (job.failure == 1) {
    rr_reply_error(ctx, out, RR_API_UNSUPPORTED, "Orthanc cannot decode this instance's transfer syntax");
    goto out;
  }
  if (job.failure == 2) {
    rr_reply_failure(ctx, out, RR_EUPSTREAM, "transcoding", "Orthanc cannot write the transcoded instance");
    goto out;
  }
  OrthancPluginSetHttpHeader(ctx, out, "Cache-Control", "private, no-store");
  OrthancPluginSetHttpHeader(ctx, out, "X-Content-Type-Options", "nosniff");
  rr_reply_security_headers(ctx, out);
  OrthancPluginAnswerBuffer(ctx, out, job.answer.data, job.answer.size, "application/dicom");
out:
  if (job.answer.data != NULL)
    OrthancPluginFreeMemoryBuffer(ctx, &job.answer);
  if (file.data != NULL)
    OrthancPluginFreeMemoryBuffer(ctx, &file);
  return OrthancPluginErrorCode_Success;
}

int rr_transcode_api_register(OrthancPluginContext *context, const char *root)
{
  char regex[512];

  ctx = context;
  if (snprintf(regex, sizeof(regex), "%s/dicom/instances/([^/]+)/transcoded", root) >= (int)sizeof(regex))
    return RR_EFULL;
  return rr_api_route(context, regex, on_transcoded);
}
