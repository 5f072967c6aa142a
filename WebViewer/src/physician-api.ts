// The reports routes the physicians' portal calls (README "REST API", Reports):
//   GET  {api}reports?state=&q=&patientId=&limit=&offset=   {"data": [row], "total"}
//   GET  {api}reports/{id}                                   the report object
//   POST {api}reports/{id}/acknowledge                       the report object (critical result acknowledged)
//   GET  {api}reports/{id}/pdf[?version=n]                   application/pdf (a link: the browser downloads it)
//   GET  {api}dicom/studies/{uid}/priors                     the patient's other studies (history)
import type { Api } from './api';
import { decodeReport, decodeReportList, patientQuery, type Report, type ReportList } from './physician-wire';
import { decodePriors, type Prior } from './viewer-priors-model';

export function listReports(api: Api, query: string, signal?: AbortSignal): Promise<ReportList> {
  return api.getJson(`reports${query ? `?${query}` : ''}`, decodeReportList, signal);
}

export function getReport(api: Api, reportId: string, signal?: AbortSignal): Promise<Report> {
  return api.getJson(`reports/${encodeURIComponent(reportId)}`, decodeReport, signal);
}

export function acknowledgeReport(api: Api, reportId: string): Promise<Report> {
  return api.decoded('POST', `reports/${encodeURIComponent(reportId)}/acknowledge`, decodeReport, { body: {} });
}

/** The patient's finalized reports (newest first, as the server orders them). */
export function patientReports(api: Api, patientId: string, signal?: AbortSignal): Promise<ReportList> {
  return listReports(api, patientQuery(patientId), signal);
}

export function studyPriors(api: Api, studyInstanceUid: string, signal?: AbortSignal): Promise<Prior[]> {
  return api.getJson(`dicom/studies/${encodeURIComponent(studyInstanceUid)}/priors`, decodePriors, signal);
}

/** URL of the PDF of a report (the prevailing version, or `version`). */
export function pdfUrl(apiRoot: string, reportId: string, version?: number): string {
  const base = `${apiRoot}reports/${encodeURIComponent(reportId)}/pdf`;
  return version === undefined ? base : `${base}?version=${version}`;
}
