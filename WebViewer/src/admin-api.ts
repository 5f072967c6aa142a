// Admin endpoints of the plugin's API: users and the audit trail.
import { encodeQueryComponent, type Api } from './api';
import { arrayOf, bool, fields, num, object, requiredBool, requiredStr, str, strOrNull, type JsonObject } from './decode';

/** GET users item. Strings untrusted; times ISO 8601 or null. */
export interface UserRecord {
  username: string;
  displayName: string;
  role: string;
  enabled: boolean;
  createdAt: string | null;
  lastLoginAt: string | null;
  lockedUntil: string | null;
}

export interface NewUser {
  username: string;
  displayName: string;
  role: string;
  password: string;
}

export interface UserPatch {
  displayName?: string;
  role?: string;
  enabled?: boolean;
}

/** One audit record. Every string is untrusted (usernames, resources and details come from requests). */
export interface AuditRecord {
  seq: number;
  at: string;
  username: string;
  role: string;
  source: string;
  action: string;
  resource: string;
  outcome: string;
  detail: string;
}

export interface AuditPage {
  data: AuditRecord[];
  nextBefore: number | null;
}

export interface AuditVerification {
  intact: boolean;
  records: number;
  firstBroken: number | null;
  reason: string | null;
}

/** Filters of GET audit (empty values are left out). from / to: ISO 8601 instants. */
export interface AuditQuery {
  user?: string;
  action?: string;
  resource?: string;
  from?: string;
  to?: string;
  before?: number | null;
  limit?: number;
}

export function auditQueryString(query: AuditQuery): string {
  const keys: (keyof AuditQuery)[] = ['user', 'action', 'resource', 'from', 'to', 'before', 'limit'];
  const parts: string[] = [];
  for (const key of keys) {
    const value = query[key];
    if (value === undefined || value === null) continue;
    const text = String(value).trim();
    if (text !== '') parts.push(`${key}=${encodeQueryComponent(text)}`);
  }
  return parts.join('&');
}

const userPath = (username: string): string => `users/${encodeURIComponent(username)}`;

/** One item of GET users: the username is required (it names the row's actions), the rest reads leniently. */
export function decodeUser(v: unknown, path: string): UserRecord {
  const r = object(v, path);
  return {
    username: requiredStr(r.username, `${path}.username`),
    displayName: str(r.displayName),
    role: str(r.role),
    enabled: bool(r.enabled) ?? false,
    createdAt: strOrNull(r.createdAt),
    lastLoginAt: strOrNull(r.lastLoginAt),
    lockedUntil: strOrNull(r.lockedUntil),
  };
}

/** Answer of GET users: {"data": [user…]}. */
export function decodeUserList(body: JsonObject | null): UserRecord[] {
  return arrayOf(fields(body).data, 'data', decodeUser);
}

export function listUsers(api: Api, signal?: AbortSignal): Promise<UserRecord[]> {
  return api.getJson('users', decodeUserList, signal);
}

export function createUser(api: Api, user: NewUser): Promise<unknown> {
  return api.request('POST', 'users', { body: user, allowEmpty: true });
}

export function updateUser(api: Api, username: string, patch: UserPatch): Promise<unknown> {
  return api.request('PUT', userPath(username), { body: patch, allowEmpty: true });
}

export function resetUserPassword(api: Api, username: string, password: string): Promise<unknown> {
  return api.request('POST', `${userPath(username)}/password`, { body: { password }, allowEmpty: true });
}

function decodeAuditRecord(v: unknown, path: string): AuditRecord {
  const r = object(v, path);
  return {
    seq: num(r.seq) ?? 0,
    at: str(r.at),
    username: str(r.username),
    role: str(r.role),
    source: str(r.source),
    action: str(r.action),
    resource: str(r.resource),
    outcome: str(r.outcome),
    detail: str(r.detail),
  };
}

/** Answer of GET audit: {"data": [record…], "nextBefore": seq or null}. */
export function decodeAuditPage(body: JsonObject | null): AuditPage {
  const r = fields(body);
  return { data: arrayOf(r.data, 'data', decodeAuditRecord), nextBefore: num(r.nextBefore) };
}

/** Answer of GET audit/verify; "intact" is required (the page must not say "intact" by default). */
export function decodeAuditVerification(body: JsonObject | null): AuditVerification {
  const r = fields(body);
  return { intact: requiredBool(r.intact, 'intact'), records: num(r.records) ?? 0, firstBroken: num(r.firstBroken), reason: strOrNull(r.reason) };
}

export function listAudit(api: Api, query: AuditQuery, signal?: AbortSignal): Promise<AuditPage> {
  const qs = auditQueryString(query);
  return api.getJson(`audit${qs ? `?${qs}` : ''}`, decodeAuditPage, signal);
}

export function verifyAudit(api: Api, signal?: AbortSignal): Promise<AuditVerification> {
  return api.getJson('audit/verify', decodeAuditVerification, signal);
}
