import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Pool } from '../db/pool';
import { principalForKey } from './services/keys';
import { Principal, Role } from '../domain/access';
import { HttpProblem } from './problem';

export const READ_ROLES: Role[] = ['viewer', 'responder', 'approver', 'admin'];

/** Reads `Authorization: Bearer <key>` and resolves it to a tenant and roles. */
export function requireKey(pool: Pool): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (key === undefined) {
      throw new HttpProblem(401, 'Unauthorized', 'send an API key as "Authorization: Bearer <key>"', undefined, { 'WWW-Authenticate': 'Bearer' });
    }
    const principal = await principalForKey(pool, key);
    if (!principal) throw new HttpProblem(401, 'Unauthorized', 'the API key is unknown or revoked', undefined, { 'WWW-Authenticate': 'Bearer' });
    res.locals.principal = principal;
    next();
  };
}

export function principalOf(res: Response): Principal {
  return res.locals.principal as Principal;
}

/** Allows the request when the key has one of `roles`; `admin` may do everything. */
export function requireRole(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (principal.roles.includes('admin') || principal.roles.some((r) => roles.includes(r))) return next();
    throw new HttpProblem(403, 'Forbidden', `this needs one of the roles: ${roles.join(', ')}`);
  };
}

/** How an API key appears as an actor in the audit trail. */
export const actorOf = (principal: Principal): string => `key:${principal.keyName}`;
