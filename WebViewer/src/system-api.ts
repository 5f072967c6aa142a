// Health and ingestion endpoints of the plugin's API (administrators' System page):
//   GET health                 {status, version, accessControl, store {...}, ingest {...}, audit {...}, backup {...}}; 503 when the
//                              store is unavailable (the body is then the same document, not an error object)
//   GET admin/ingest           the "ingest" object of health alone
//   POST admin/ingest/resync   202 {"accepted": true}
//
// parseHealth() only guarantees types; every string is untrusted and shown as text only.
import { ApiError, type Api } from './api';
import { bool, fields, isRecord, num, str, strOrNull, type JsonObject } from './decode';
import { parseVolumes, type StorageVolumes } from './system-storage';
import { parseBackupStatus, type BackupStatus } from './system-backup-api';

export interface IngestState {
  /** null when the server did not say. */
  running: boolean | null;
  reconciling: boolean | null;
  cursor: number | null;
  lastSeq: number | null;
  backlog: number | null;
  instancesIngested: number | null;
  deletionsApplied: number | null;
  reconciliations: number | null;
  /** This node holds the ingestion lease and follows Orthanc's change log (null: not said). */
  leader: boolean | null;
  errors: number | null;
  /** '' when none. */
  lastError: string;
  lastErrorAt: string | null;
  lastSuccessAt: string | null;
}

export interface AuditWriterState {
  written: number | null;
  queued: number | null;
  dropped: number | null;
  failures: number | null;
  lastError: string;
  /** The trail's head kept apart from the chain (null without one). */
  anchor: AuditAnchorState | null;
}

export interface AuditAnchorState {
  /** Records the anchor vouches for (sequence number of the newest). */
  records: number | null;
  headHash: string;
  /** "head missing: N records deleted after #M" ('' when fine). */
  problem: string;
  /** The anchor file cannot be written ('' when fine). */
  error: string;
}

export interface StoreState {
  backend: string;
  /** "ok" or "unavailable" (other values shown as received). */
  status: string;
  schemaVersion: number | null;
  studies: number | null;
  series: number | null;
  instances: number | null;
  /** Why the store is unavailable ('' otherwise). */
  error: string;
}

export interface Health {
  /** HTTP status of the answer: 200, or 503 (store unavailable). */
  httpStatus: number;
  /** "ok" | "degraded" (other values shown as received). */
  status: string;
  version: string;
  accessControl: boolean | null;
  store: StoreState;
  ingest: IngestState | null;
  audit: AuditWriterState | null;
  /** Free space of Orthanc's folders (null when the server does not say). */
  storage: StorageVolumes | null;
  /** The off-site backup's status without its dead letters (null when the backup is off). */
  backup: BackupStatus | null;
}

export interface ResyncAnswer {
  accepted: boolean;
}

export function parseIngest(v: unknown): IngestState {
  const r = fields(v);
  return {
    running: bool(r.running),
    reconciling: bool(r.reconciling),
    cursor: num(r.cursor),
    lastSeq: num(r.lastSeq),
    backlog: num(r.backlog),
    instancesIngested: num(r.instancesIngested),
    deletionsApplied: num(r.deletionsApplied),
    reconciliations: num(r.reconciliations),
    leader: bool(r.leader),
    errors: num(r.errors),
    lastError: str(r.lastError),
    lastErrorAt: strOrNull(r.lastErrorAt),
    lastSuccessAt: strOrNull(r.lastSuccessAt),
  };
}

function parseAuditWriter(v: unknown): AuditWriterState {
  const r = fields(v);
  const a = isRecord(r.anchor) ? r.anchor : null;
  return {
    written: num(r.written),
    queued: num(r.queued),
    dropped: num(r.dropped),
    failures: num(r.failures),
    lastError: str(r.lastError),
    anchor: a ? { records: num(a.records), headHash: str(a.headHash), problem: str(a.problem), error: str(a.error) } : null,
  };
}

/** Typed copy of a health document; missing or mistyped fields get neutral values. */
export function parseHealth(body: unknown, httpStatus = 200): Health {
  const r = fields(body);
  const s = fields(r.store);
  return {
    httpStatus,
    status: str(r.status) || (httpStatus === 200 ? 'unknown' : 'degraded'),
    version: str(r.version),
    accessControl: bool(r.accessControl),
    store: {
      backend: str(s.backend),
      status: str(s.status) || (httpStatus === 503 ? 'unavailable' : ''),
      schemaVersion: num(s.schemaVersion),
      studies: num(s.studies),
      series: num(s.series),
      instances: num(s.instances),
      error: str(s.error),
    },
    ingest: isRecord(r.ingest) ? parseIngest(r.ingest) : null,
    audit: isRecord(r.audit) ? parseAuditWriter(r.audit) : null,
    storage: isRecord(r.storage) ? parseVolumes(r.storage) : null,
    backup: isRecord(r.backup) ? parseBackupStatus(r.backup) : null,
  };
}

/** A 503 of GET health carries the health document (store unavailable), not an {"error": …} object. */
function isHealthDocument(body: unknown): boolean {
  return isRecord(body) && body.error === undefined && (isRecord(body.store) || typeof body.status === 'string');
}

/** GET health. A 503 with the health document resolves (httpStatus 503); other failures reject with ApiError. */
export async function getHealth(api: Api, signal?: AbortSignal): Promise<Health> {
  try {
    return await api.getJson('health', (body) => parseHealth(body, 200), signal);
  } catch (err) {
    if (err instanceof ApiError && err.status === 503 && isHealthDocument(err.body)) return parseHealth(err.body, 503);
    throw err;
  }
}

/** GET admin/ingest: the ingestion state alone (the same object as health's "ingest"). */
export function getIngest(api: Api, signal?: AbortSignal): Promise<IngestState> {
  return api.getJson('admin/ingest', parseIngest, signal);
}

export function parseResync(body: JsonObject | null): ResyncAnswer {
  return { accepted: fields(body).accepted === true };
}

/** POST admin/ingest/resync: schedules a full re-synchronisation (202 {"accepted": true}). */
export function requestResync(api: Api): Promise<ResyncAnswer> {
  return api.decoded('POST', 'admin/ingest/resync', parseResync, { allowEmpty: true });
}

/** How a store that can be read but not written is described (the rest: "is <status>"). */
const STORE_STATES: Record<string, string> = {
  'read-only': 'is read-only (ingestion waits)',
  full: 'is full (ingestion waits)',
  'io-error': 'cannot be written (ingestion waits)',
};

/** Why the server says "degraded", in words (empty when nothing is wrong). */
export function healthProblems(h: Health): string[] {
  const problems: string[] = [];
  if (h.store.status !== 'ok') {
    const state = STORE_STATES[h.store.status] ?? `is ${h.store.status || 'unavailable'}`;
    problems.push(`The store ${state}${h.store.error ? `: ${h.store.error}` : '.'}`);
  }
  if (h.ingest) {
    if (h.ingest.running === false) problems.push('The ingestion worker is not running.');
    if (h.ingest.lastError) problems.push(`Ingestion's last step failed (it retries by itself): ${h.ingest.lastError}`);
  }
  if (h.audit) {
    if (h.audit.dropped !== null && h.audit.dropped > 0) {
      problems.push(`${h.audit.dropped} audit ${h.audit.dropped === 1 ? 'record was' : 'records were'} dropped (queue full).`);
    }
    if (h.audit.lastError) problems.push(`The audit writer failed: ${h.audit.lastError}`);
    if (h.audit.anchor?.problem) problems.push(`The audit trail's newest records are missing (${h.audit.anchor.problem}).`);
    if (h.audit.anchor?.error) problems.push(`The audit trail's anchor cannot be written: ${h.audit.anchor.error}`);
  }
  if (h.backup && h.backup.failed !== null && h.backup.failed > 0) {
    problems.push(`${h.backup.failed} off-site backup ${h.backup.failed === 1 ? 'copy is a dead letter' : 'copies are dead letters'} (see "Off-site backup").`);
  }
  if (h.storage?.warning) problems.push(`Low disk space: ${h.storage.warning}.`);
  return problems;
}
