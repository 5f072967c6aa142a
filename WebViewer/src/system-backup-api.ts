// Off-site backup endpoints of the plugin's API (administrators' System page) and the pure formatting of
// their answers:
//   GET  admin/backup                {enabled, target, endpoint, bucket, running, workers, queued, inProgress, done, failed,
//                                    oldestWaitingSeconds, copiedLastHour, lastCopiedAt, lastError, lastErrorAt,
//                                    copiedSinceStart, bytesSinceStart, deadLetters [{id, objectKey, kind,
//                                    studyInstanceUid, sopInstanceUid, orthancId, day, state, attempts, lastError,
//                                    updatedAt}]}   ({"enabled": false} when the backup is off)
//   POST admin/backup/{id}/redrive   {redriven}   (404 not_found, 409 conflict: not a dead letter)
//   POST admin/backup/redrive        {redriven}   (every dead letter)
//   POST admin/backup/restore        {studyInstanceUid} | {since: "YYYY-MM-DD"} -> {complete, studies, objects,
//                                    restored (already stored included), alreadyStored, refused, failed, bytes,
//                                    errors [{objectKey, message}]}
//
// The parsers only guarantee types; every string is untrusted and shown as text only.
import type { Api } from './api';
import { bool, fields, isRecord, list, num, str, strOrNull } from './decode';
import { groupDigits } from './ai-format';

export interface DeadLetter {
  /** The queue item's id (0 when the server sent none: such a row cannot be re-driven). */
  id: number;
  objectKey: string;
  kind: string;
  studyInstanceUid: string;
  sopInstanceUid: string;
  attempts: number | null;
  lastError: string;
  updatedAt: string | null;
}

export interface BackupStatus {
  enabled: boolean;
  /** "s3" | "cloudinary" (other values shown as received). */
  target: string;
  /** S3 endpoint or Cloudinary API base, without credentials ('' when not said). */
  endpoint: string;
  /** S3 bucket[/prefix] or Cloudinary cloud/folder ('' when not said). */
  bucket: string;
  running: boolean | null;
  workers: number | null;
  queued: number | null;
  inProgress: number | null;
  done: number | null;
  failed: number | null;
  oldestWaitingSeconds: number | null;
  copiedLastHour: number | null;
  lastCopiedAt: string | null;
  lastError: string;
  lastErrorAt: string | null;
  deadLetters: DeadLetter[];
}

export interface RestoreResult {
  complete: boolean;
  studies: number | null;
  objects: number | null;
  restored: number | null;
  alreadyStored: number | null;
  refused: number | null;
  failed: number | null;
  bytes: number | null;
  errors: { objectKey: string; message: string }[];
}

/** What to restore: one study, or every study copied since a day. */
export type RestoreRequest = { studyInstanceUid: string } | { since: string };

function parseDeadLetter(v: unknown): DeadLetter {
  const r = fields(v);
  const id = num(r.id);
  return {
    id: id !== null && id > 0 && Number.isInteger(id) ? id : 0,
    objectKey: str(r.objectKey),
    kind: str(r.kind),
    studyInstanceUid: str(r.studyInstanceUid),
    sopInstanceUid: str(r.sopInstanceUid),
    attempts: num(r.attempts),
    lastError: str(r.lastError),
    updatedAt: strOrNull(r.updatedAt),
  };
}

/** Typed copy of GET admin/backup (or of health's "backup" member, which has no dead letters). */
export function parseBackupStatus(body: unknown): BackupStatus {
  const r = fields(body);
  return {
    enabled: bool(r.enabled) === true,
    target: str(r.target),
    endpoint: str(r.endpoint),
    bucket: str(r.bucket),
    running: bool(r.running),
    workers: num(r.workers),
    queued: num(r.queued),
    inProgress: num(r.inProgress),
    done: num(r.done),
    failed: num(r.failed),
    oldestWaitingSeconds: num(r.oldestWaitingSeconds),
    copiedLastHour: num(r.copiedLastHour),
    lastCopiedAt: strOrNull(r.lastCopiedAt),
    lastError: str(r.lastError),
    lastErrorAt: strOrNull(r.lastErrorAt),
    deadLetters: list(r.deadLetters).filter(isRecord).map(parseDeadLetter),
  };
}

export function parseRestoreResult(body: unknown): RestoreResult {
  const r = fields(body);
  return {
    complete: bool(r.complete) === true,
    studies: num(r.studies),
    objects: num(r.objects),
    restored: num(r.restored),
    alreadyStored: num(r.alreadyStored),
    refused: num(r.refused),
    failed: num(r.failed),
    bytes: num(r.bytes),
    errors: list(r.errors)
      .filter(isRecord)
      .map((e) => ({ objectKey: str(e.objectKey), message: str(e.message) })),
  };
}

export function getBackupStatus(api: Api, signal?: AbortSignal): Promise<BackupStatus> {
  return api.getJson('admin/backup', parseBackupStatus, signal);
}

/** Re-drives one dead letter (id > 0) or every one (id 0); resolves the number queued again. */
export function redriveBackup(api: Api, id: number): Promise<number> {
  const path = id > 0 ? `admin/backup/${id}/redrive` : 'admin/backup/redrive';
  return api.decoded('POST', path, (b) => num(fields(b).redriven) ?? 0, { body: {} });
}

export function restoreBackup(api: Api, req: RestoreRequest): Promise<RestoreResult> {
  return api.decoded('POST', 'admin/backup/restore', parseRestoreResult, { body: req });
}

// ---- formatting (pure) ------------------------------------------------------------

const TARGETS: Record<string, string> = { s3: 'S3-compatible object store', cloudinary: 'Cloudinary' };

/** "S3-compatible object store (s3)"; unknown names as received; '' -> "—". */
export function formatTarget(target: string): string {
  if (!target) return '—';
  const name = TARGETS[target];
  return name ? `${name} (${target})` : target;
}

/** "http://minio:9000, bucket rr/prefix" (S3) or "https://api.cloudinary.com, cloud/folder rr/x"; '' when neither is known. */
export function formatLocation(target: string, endpoint: string, bucket: string): string {
  const where = bucket ? `${target === 'cloudinary' ? 'cloud/folder' : 'bucket'} ${bucket}` : '';
  return [endpoint, where].filter((x) => x).join(', ');
}

/** 0 -> "none waiting"; 42 -> "42 s"; 125 -> "2 min 5 s"; 7260 -> "2 h 1 min"; 90000 -> "1 d 1 h"; null -> "—". */
export function formatWaitingAge(seconds: number | null, waiting: number | null = null): string {
  if (seconds === null || seconds < 0) return '—';
  if (seconds === 0 && (waiting === null || waiting === 0)) return 'none waiting';
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const d = Math.floor(h / 24);
  return `${d} d${h % 24 ? ` ${h % 24} h` : ''}`;
}

const count = (n: number | null): string => (n === null ? '—' : groupDigits(n));

/** The restore's outcome in one sentence. */
export function formatRestoreSummary(r: RestoreResult): string {
  const n = (v: number | null, one: string, many: string): string => `${count(v)} ${v === 1 ? one : many}`;
  // "restored" counts every object Orthanc accepted, those it already had ("alreadyStored") included.
  const parts = [
    `${n(r.restored, 'object', 'objects')} restored into Orthanc (${count(r.alreadyStored)} of them already there)`,
    `${count(r.refused)} refused`,
    `${count(r.failed)} failed`,
  ];
  const head = `${n(r.objects, 'object', 'objects')} of ${n(r.studies, 'study', 'studies')} found in the backup`;
  return `${r.complete ? 'Restore complete' : 'Restore incomplete'}: ${head}; ${parts.join(', ')}.`;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The restore request from the form's fields (exactly one of them filled), or the sentence saying what is wrong.
 */
export function restoreRequestOf(studyUid: string, since: string): RestoreRequest | string {
  const uid = studyUid.trim();
  const day = since.trim();
  if (uid && day) return 'Give either a Study Instance UID or a date, not both.';
  if (!uid && !day) return 'Give a Study Instance UID or a date.';
  if (uid) return UID.test(uid) && uid.length <= 64 ? { studyInstanceUid: uid } : 'A Study Instance UID is digits separated by dots (at most 64 characters).';
  if (!DAY.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) return 'The date must be YYYY-MM-DD.';
  return { since: day };
}

/** What the confirmation says will be restored. */
export function describeRestore(req: RestoreRequest): string {
  return 'studyInstanceUid' in req ? `the study ${req.studyInstanceUid}` : `every study copied since ${req.since}`;
}
