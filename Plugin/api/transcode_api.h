/*
 * transcode_api.h - the study viewer's transcoding route under the API root
 * (see README.md, "REST API"):
 *
 *   GET {root}dicom/instances/{orthancId}/transcoded
 *       200 application/dicom: the instance's file transcoded by Orthanc
 *       (OrthancPluginTranscodeDicomInstance: DCMTK, and orthanc-gdcm when
 *       loaded) to Explicit VR Little Endian, a syntax every browser
 *       decoder reads; 400 malformed id, 404 unknown instance, 415 a file
 *       Orthanc cannot decode.
 *
 * The web app uses it for the transfer syntaxes its decoder lacks
 * (WebViewer/src/viewer-prefetch-syntax.ts holds that table). Nothing is
 * stored: the transcoded file lives for the answer only. Who may call it
 * (the roles with the "study" capability, each study checked) is the role
 * matrix's decision, made by the HTTP filter.
 *
 * Registration must happen in OrthancPluginInitialize; the handler runs
 * concurrently (NoLock route) and keeps no state besides the context.
 */
#ifndef RR_API_TRANSCODE_API_H
#define RR_API_TRANSCODE_API_H

#include <orthanc/OrthancCPlugin.h>

/* The transfer syntax the route answers in: Explicit VR Little Endian. */
#define RR_TRANSCODE_TARGET_SYNTAX "1.2.840.10008.1.2.1"

/* Registers the route; `root` is the API root as a regex (api.c). Returns
 * 0, or RR_EFULL when the route table is full. */
int rr_transcode_api_register(OrthancPluginContext *ctx, const char *root);

#endif
