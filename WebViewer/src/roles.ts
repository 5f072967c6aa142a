// Role names for display. What each role may use comes from the server (capabilities.ts): the role matrix
// lives in the plugin only.

export type Role = 'admin' | 'radiologist' | 'technician' | 'physician';

/** The roles an administrator may give (user form), in display order. */
export const ROLES: readonly Role[] = ['admin', 'radiologist', 'technician', 'physician'];

const ROLE_LABELS: Record<Role, string> = {
  admin: 'Admin',
  radiologist: 'Radiologist',
  technician: 'Technician',
  physician: 'Physician',
};

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** "Radiologist"; unknown roles are shown as received (text only). */
export function roleLabel(role: string): string {
  return isRole(role) ? ROLE_LABELS[role] : role;
}
