// Admin endpoints of the plugin's API: users and the audit trail.
import { encodeQueryComponent, type Api } from './api';

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

export async function listUsers(api: Api, signal?: AbortSignal): Promise<UserRecord[]> {
  const body = await api.getJson<{ data?: unknown }>('users', signal);
  return Array.isArray(body.data) ? (body.data as UserRecord[]) : [];
}

export function createUser(api: Api, user: NewUser): Promise<unknown> {
  return api.request<unknown>('POST', 'users', { body: user, allowEmpty: true });
}

export function updateUser(api: Api, username: string, patch: UserPatch): Promise<unknown> {
  return api.request<unknown>('PUT', userPath(username), { body: patch, allowEmpty: true });
}

export function resetUserPassword(api: Api, username: string, password: string): Promise<unknown> {
  return api.request<unknown>('POST', `${userPath(username)}/password`, { body: { password }, allowEmpty: true });
}

export async function listAudit(api: Api, query: AuditQuery, signal?: AbortSignal): Promise<AuditPage> {
  const qs = auditQueryString(query);
  const body = await api.getJson<{ data?: unknown; nextBefore?: unknown }>(`audit${qs ? `?${qs}` : ''}`, signal);
  return {
    data: Array.isArray(body.data) ? (body.data as AuditRecord[]) : [],
    nextBefore: typeof body.nextBefore === 'number' ? body.nextBefore : null,
  };
}

export function verifyAudit(api: Api, signal?: AbortSignal): Promise<AuditVerification> {
  return api.getJson<AuditVerification>('audit/verify', signal);
}
