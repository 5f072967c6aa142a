// Roles and what the UI shows to each. The server enforces access; this only hides what a role may not use.

export type Role = 'admin' | 'radiologist' | 'technician' | 'physician';

/** The app's sections (one or more routes each). */
export type Section = 'worklist' | 'study' | 'upload' | 'users' | 'audit' | 'system';

export const ROLES: readonly Role[] = ['admin', 'radiologist', 'technician', 'physician'];

const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  radiologist: 'Radiologist',
  technician: 'Technician',
  physician: 'Physician',
};

const ACCESS: Record<Role, readonly Section[]> = {
  admin: ['worklist', 'study', 'upload', 'users', 'audit', 'system'],
  radiologist: ['worklist', 'study'],
  technician: ['worklist', 'upload'],
  physician: ['worklist', 'study'],
};

/**
 * The "role" of a server without access control (GET /api/auth/me answers 404): the app as it was before
 * logins existed. The plugin's own API then answers everyone, so worklist, study page and upload are shown.
 */
export const OPEN_MODE = 'open';
const OPEN_ACCESS: readonly Section[] = ['worklist', 'study', 'upload'];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** "Radiologist"; unknown roles are shown as received (text only). */
export function roleLabel(role: string): string {
  return isRole(role) ? ROLE_LABELS[role] : role;
}

/** Sections a role may use. Unknown roles get the worklist only (least privilege). */
export function sectionsFor(role: string): readonly Section[] {
  if (role === OPEN_MODE) return OPEN_ACCESS;
  return isRole(role) ? ACCESS[role] : ['worklist'];
}

export function canAccess(role: string, section: Section): boolean {
  return sectionsFor(role).includes(section);
}

export interface NavItem {
  id: Section;
  label: string;
  href: string;
}

const NAV: readonly NavItem[] = [
  { id: 'worklist', label: 'Worklist', href: '#/' },
  { id: 'upload', label: 'Upload', href: '#/upload' },
  { id: 'users', label: 'Users', href: '#/users' },
  { id: 'audit', label: 'Audit', href: '#/audit' },
  { id: 'system', label: 'System', href: '#/system' },
];

/** Main navigation of a role (the study page has no entry of its own). */
export function navFor(role: string): NavItem[] {
  return NAV.filter((item) => canAccess(role, item.id));
}

/** Only admins get the link to Orthanc Explorer. */
export function showsExplorer(role: string): boolean {
  return role === 'admin';
}

/**
 * Roles that see the AI analysis panel (and the AI / review columns of the worklist): radiologists and
 * administrators, as the server's role matrix allows ai/* to them only. A server without access control
 * answers everyone, so the open mode shows them too. Technicians, physicians and unknown roles do not.
 */
const AI_ROLES: readonly string[] = ['admin', 'radiologist', OPEN_MODE] satisfies readonly (Role | typeof OPEN_MODE)[];

export function canUseAi(role: string): boolean {
  return AI_ROLES.includes(role);
}
