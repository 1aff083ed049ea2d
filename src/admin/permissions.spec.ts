import { describe, expect, it } from '@jest/globals';
import { isRole, PERMISSIONS, type Permission, type Role, ROLE_PERMISSIONS, roleAllows, ROLES } from './permissions';

/** The whole table, written out: a change to who may do what must change this test too. */
const TABLE: Record<Permission, Record<Role, boolean>> = {
  'contacts:read': { admin: true, agent: true, auditor: true, integrator: false },
  'contacts:export': { admin: true, agent: false, auditor: false, integrator: false },
  'contacts:erase': { admin: true, agent: false, auditor: false, integrator: false },
  'conversations:read': { admin: true, agent: true, auditor: true, integrator: false },
  'conversations:write': { admin: true, agent: true, auditor: false, integrator: false },
  'replies:send': { admin: true, agent: true, auditor: false, integrator: false },
  'consent:read': { admin: true, agent: true, auditor: true, integrator: false },
  'consent:write': { admin: true, agent: false, auditor: false, integrator: false },
  'connections:read': { admin: true, agent: false, auditor: true, integrator: true },
  'connections:manage': { admin: true, agent: false, auditor: false, integrator: true },
  'dead-letters:read': { admin: true, agent: false, auditor: true, integrator: false },
  'dead-letters:manage': { admin: true, agent: false, auditor: false, integrator: false },
  'quarantine:read': { admin: true, agent: false, auditor: true, integrator: false },
  'templates:read': { admin: true, agent: true, auditor: true, integrator: false },
  'templates:manage': { admin: true, agent: false, auditor: false, integrator: false },
  'service-policy:manage': { admin: true, agent: false, auditor: false, integrator: false },
  'reports:read': { admin: true, agent: true, auditor: true, integrator: false },
  'audit:read': { admin: true, agent: false, auditor: true, integrator: false },
  'api-keys:manage': { admin: true, agent: false, auditor: false, integrator: false },
};

describe('roles and permissions', () => {
  it('covers every permission in the table', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...PERMISSIONS].sort());
    expect(new Set(PERMISSIONS).size).toBe(PERMISSIONS.length);
  });

  const cells = PERMISSIONS.flatMap((permission) => ROLES.map((role) => [role, permission, TABLE[permission][role]] as const));
  it.each(cells)('%s may %s: %s', (role, permission, allowed) => {
    expect(roleAllows(role, permission)).toBe(allowed);
    expect(ROLE_PERMISSIONS[role].includes(permission)).toBe(allowed);
  });

  it('gives the auditor reads only, and the integrator connections only', () => {
    expect(ROLE_PERMISSIONS.auditor.every((p) => p.endsWith(':read'))).toBe(true);
    expect(ROLE_PERMISSIONS.integrator.every((p) => p.startsWith('connections:'))).toBe(true);
    expect(ROLE_PERMISSIONS.agent.filter((p) => !p.endsWith(':read')).sort()).toEqual(['conversations:write', 'replies:send']);
  });

  it('grants nothing to a role it does not know', () => {
    for (const permission of PERMISSIONS) {
      expect(roleAllows('superuser', permission)).toBe(false);
      expect(roleAllows('', permission)).toBe(false);
      expect(roleAllows('__proto__', permission)).toBe(false);
    }
    expect(ROLES.every(isRole)).toBe(true);
    expect([undefined, 'Admin', 'root', 42].some(isRole)).toBe(false);
  });
});
