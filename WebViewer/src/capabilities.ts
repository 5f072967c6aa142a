// What the caller may use, as the server decides: GET auth/me answers "capabilities", the subset of
// CAPABILITIES (in this order) that the caller's role may use, computed from the server's role matrix. The
// app only hides what is not listed; the server enforces access on every request.
//
//   worklist, study, upload, users, audit, system   the app's sections (routes and navigation)
//   ai                                              AI panel of the study page, AI / Review worklist columns
//   explorer                                        link to Orthanc Explorer
//   annotate                                        the viewer's tools that write (measurements, key images)
//   templates                                       the report templates page (administrators)
//   report                                          writing reports (the study page's Report tab, the worklist's report column)
//   reports                                         reading reports: the reports list "#/reports" and a report "#/reports/{id}"
//
// A server without access control (GET auth/me answers 404) answers everyone: OPEN_CAPABILITIES.
// An unknown name is ignored (a newer server); a missing or malformed list means LEAST_PRIVILEGE.

export const CAPABILITIES = ['worklist', 'study', 'upload', 'users', 'audit', 'system', 'ai', 'explorer', 'annotate', 'templates', 'report', 'reports'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** The app's sections (one or more routes each). */
export type Section = Exclude<Capability, 'ai' | 'explorer' | 'annotate' | 'report'>;

/** The "role" of a server without access control: the app as it was before logins existed. */
export const OPEN_MODE = 'open';
export const OPEN_CAPABILITIES: readonly Capability[] = ['worklist', 'study', 'upload', 'ai', 'annotate'];

/**
 * The start page of a role: "#/reports" for those who read reports without writing them (referring
 * physicians: the physicians' home), "#/" (the worklist) for everyone else.
 */
export function homeHashOf(capabilities: readonly Capability[]): string {
  return capabilities.includes('reports') && !capabilities.includes('report') ? '#/reports' : '#/';
}

/** What a caller whose list is missing or malformed may use. */
export const LEAST_PRIVILEGE: readonly Capability[] = ['worklist'];

/** The capabilities of an answer's "capabilities" field: known names in CAPABILITIES order. */
export function parseCapabilities(value: unknown): readonly Capability[] {
  if (!Array.isArray(value) || !value.every((x) => typeof x === 'string')) return LEAST_PRIVILEGE;
  return CAPABILITIES.filter((c) => value.includes(c));
}
