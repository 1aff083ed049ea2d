/**
 * Who may do what, as data. A route declares the one permission it needs
 * (`@RequirePermission('conversations:read')`); an API key has one role; a role is a set of
 * permissions. Reads and writes are separate permissions so the auditor can see everything an
 * operator can, and change nothing.
 */
export const PERMISSIONS = [
  'contacts:read',
  /** Hand a customer's personal data out (data-subject export). */
  'contacts:export',
  /** Erase a customer here and in every connected system. */
  'contacts:erase',
  'conversations:read',
  /** Change a conversation (close it, which sends its transcript). */
  'conversations:write',
  /** Send a message to a customer on WhatsApp. */
  'replies:send',
  'consent:read',
  'consent:write',
  'connections:read',
  /** Create, change and delete connections (their credentials included). */
  'connections:manage',
  'dead-letters:read',
  'dead-letters:manage',
  'quarantine:read',
  'templates:read',
  'templates:manage',
  'audit:read',
  'api-keys:manage',
  /** Read and change the customer-service policy (hours, auto-replies, triage, routing). */
  'service-policy:manage',
  /** Response-time reports (aggregates: no customer's data). */
  'reports:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export const ROLES = ['admin', 'agent', 'auditor', 'integrator'] as const;

export type Role = (typeof ROLES)[number];

/** Every role's permissions. Admin has every permission, including ones added later. */
export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  admin: PERMISSIONS,
  /** A support or sales agent: reads conversations and answers customers. */
  agent: ['contacts:read', 'conversations:read', 'conversations:write', 'replies:send', 'consent:read', 'templates:read', 'reports:read'],
  /**
   * Reads everything an operator sees, the audit log included, and changes nothing. Export is not
   * a plain read: it hands a customer's whole record out, so it stays with admin.
   */
  auditor: ['contacts:read', 'conversations:read', 'consent:read', 'connections:read', 'dead-letters:read', 'quarantine:read', 'templates:read', 'audit:read', 'reports:read'],
  /** Whoever wires CRMs in: connections only (never a customer's data). */
  integrator: ['connections:read', 'connections:manage'],
};

const GRANTS: ReadonlyMap<string, ReadonlySet<Permission>> = new Map(ROLES.map((role) => [role, new Set(ROLE_PERMISSIONS[role])]));

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` grants `permission`. An unknown role (e.g. one a newer version removed) grants nothing. */
export function roleAllows(role: string, permission: Permission): boolean {
  return GRANTS.get(role)?.has(permission) ?? false;
}
