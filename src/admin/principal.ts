import type { Request } from 'express';
import type { Permission, Role } from './permissions';

/** The actor name of the bootstrap key (ADMIN_API_KEY, or the one generated into DATA_DIR). */
export const ENV_ADMIN = 'env-admin';

/** Who is calling: the API key the request presented, resolved. */
export interface Principal {
  /** The api_keys row; null for the bootstrap key, which has no row. */
  keyId: string | null;
  /** The key's name, or 'env-admin' for the bootstrap key. */
  name: string;
  role: Role;
}

/** What the access guard learned about a request, for the audit interceptor and the handlers. */
export interface RequestAccess {
  principal: Principal;
  /** The route pattern, e.g. /api/v1/conversations/:id/close (never the concrete URL). */
  route: string;
  /** The permission the route declares (undefined: it declares none and was refused). */
  permission?: Permission;
  /** Whether this call goes into the audit log (mutations, and reads marked as exports). */
  audited: boolean;
  /** Set once the audit row is scheduled, so a request is never recorded twice. */
  recorded?: boolean;
  /** The id a create returned, kept as the audit row's target when the route has no :id. */
  createdId?: string;
}

type RequestWithAccess = Request & { access?: RequestAccess };

/** The access context the guard put on the request; undefined on public routes (health, webhooks). */
export function accessOf(req: Request): RequestAccess | undefined {
  return (req as RequestWithAccess).access;
}

export function setAccess(req: Request, access: RequestAccess): void {
  (req as RequestWithAccess).access = access;
}

/** The caller of an authenticated request; undefined on public routes. */
export function principalOf(req: Request): Principal | undefined {
  return accessOf(req)?.principal;
}
