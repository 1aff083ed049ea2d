import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import type { Request } from 'express';
import { ApiErrors, ApiOtherErrors } from '../common/api-docs';
import type { Permission } from './permissions';
import { type Principal, principalOf } from './principal';

export const PERMISSION_KEY = 'threadbridge:permission';
export const AUDIT_EXPORT_KEY = 'threadbridge:audit-export';

/**
 * The permission a route needs. Put it on each handler (or on the controller class, for one
 * permission across all its handlers). A route without one is refused for every key, admin
 * included: forgetting it fails closed. The permission is shown in the API docs (`x-permission`),
 * with the errors every API route may answer (401, 403, 429, 503 and any other as ErrorResponse).
 */
export function RequirePermission(permission: Permission) {
  return applyDecorators(
    SetMetadata(PERMISSION_KEY, permission),
    ApiExtension('x-permission', permission),
    ApiErrors(401, { 403: `The key's role lacks the permission ${permission}` }, 429, 503),
    ApiOtherErrors(),
  );
}

/**
 * Marks a read that hands personal data out (an export): it is written to the audit log like a
 * mutation. Mutating routes (POST/PATCH/PUT/DELETE) are audited without it.
 */
export function AuditExport() {
  return SetMetadata(AUDIT_EXPORT_KEY, true);
}

/** The caller of the request (key id, name, role), e.g. to record who did something. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal | undefined =>
  principalOf(ctx.switchToHttp().getRequest<Request>()),
);
