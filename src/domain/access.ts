import { z } from 'zod';

/** What an API key may do: each route names the roles it accepts; `admin` may do everything. */
export const ROLES = ['ingest', 'viewer', 'responder', 'approver', 'admin'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

/** Who calls: the API key a request carried, resolved to its tenant and roles (src/api/auth.ts). */
export interface Principal {
  keyId: string;
  keyName: string;
  tenantId: string;
  tenantSlug: string;
  roles: Role[];
}
