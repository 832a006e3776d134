import { z } from 'zod';
import { SlugSchema } from './incident';
import { RunbookSchema } from './runbook';
import { SeveritySchema } from './severity';

/**
 * Incident command: what people change on an incident while it runs (its fields, who holds which
 * role, what stakeholders are told, which runbook runs next). Each is a Workflow Update to the
 * incident (src/workflows/incident/command.ts), so the workflow orders concurrent changes and the
 * audit trail records each one with old → new.
 */

const reason = z.string().trim().min(1, 'say why').max(2_000);

export const ImpactSchema = z
  .object({
    usersAffected: z.number().int().min(0).max(1e12).optional(),
    servicesDegraded: z.array(z.string().trim().min(1).max(200)).max(100).optional(),
    dataExposure: z.boolean().optional(),
  })
  .strict();
export type Impact = z.infer<typeof ImpactSchema>;

/** The fields of an incident people may change while it is open. */
export const EditableFieldsSchema = z
  .object({
    title: z.string().trim().min(1).max(300),
    summary: z.string().max(10_000),
    severity: SeveritySchema,
    category: z.string().trim().min(1).max(100),
    affectedServices: z.array(z.string().trim().min(1).max(200)).max(100),
    impact: ImpactSchema,
    /** The confirmed root cause, distinct from the automatic hypothesis. */
    rootCause: z.string().trim().min(1).max(10_000),
    labels: z.record(z.string().max(100), z.string().max(500)),
  })
  .partial()
  .strict();
export type EditableFields = z.infer<typeof EditableFieldsSchema>;
export type EditableField = keyof EditableFields;

/** PATCH /api/incidents/:id: the fields to change; a severity change says why. */
export const IncidentEditBody = EditableFieldsSchema.extend({ reason: reason.optional() })
  .strict()
  .superRefine((body, ctx) => {
    const { reason: why, ...fields } = body;
    if (Object.keys(fields).length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'change at least one field' });
    if (fields.severity !== undefined && why === undefined) ctx.addIssue({ code: 'custom', path: ['reason'], message: 'a severity change needs a reason' });
  });
export type IncidentEdit = z.infer<typeof IncidentEditBody>;

export interface EditMessage {
  actor: string;
  incidentId?: string;
  changes: EditableFields;
  reason?: string;
}

/** Roles on an incident: one commander, communications lead and scribe; any number of assignees. */
export const INCIDENT_ROLES = ['commander', 'assignee', 'comms', 'scribe'] as const;
export const IncidentRoleSchema = z.enum(INCIDENT_ROLES);
export type IncidentRole = z.infer<typeof IncidentRoleSchema>;

/** A person: a name from the tenant's roster (settings `people`), or an API key as `key:<name>`. */
export const PersonSchema = z.string().trim().min(1).max(200);

export const RoleBody = z
  .object({
    role: IncidentRoleSchema,
    person: PersonSchema,
    /** Take the role away instead (an assignee, or whoever holds a single role). */
    unassign: z.boolean().default(false),
  })
  .strict();
export type RoleChange = z.infer<typeof RoleBody>;

export interface RoleMessage extends RoleChange {
  actor: string;
  incidentId?: string;
}

export interface IncidentRoles {
  commander?: string;
  assignees: string[];
  comms?: string;
  scribe?: string;
}

export const IncidentRolesSchema = z.object({
  commander: z.string().optional(),
  assignees: z.array(z.string()),
  comms: z.string().optional(),
  scribe: z.string().optional(),
});

export const STATUS_AUDIENCES = ['internal', 'external'] as const;

export const StatusUpdateBody = z
  .object({
    message: z.string().trim().min(1, 'write the update').max(4_000),
    /** When the next milestone (or the fix) is expected. */
    eta: z.iso.datetime({ offset: true }).optional(),
    audience: z.enum(STATUS_AUDIENCES).default('internal'),
  })
  .strict();
export type StatusUpdate = z.infer<typeof StatusUpdateBody>;

export interface StatusUpdateMessage extends StatusUpdate {
  actor: string;
  incidentId?: string;
}

export const PostedStatusUpdateSchema = StatusUpdateBody.extend({ at: z.string(), actor: z.string() });
export type PostedStatusUpdate = z.infer<typeof PostedStatusUpdateSchema>;

export const RunRunbookBody = z.object({ runbookId: SlugSchema, version: z.number().int().min(1).optional() }).strict();

/** The runbook to run next on the incident, as the API found it for the tenant. */
export interface RunRunbookMessage {
  actor: string;
  incidentId?: string;
  runbook: z.infer<typeof RunbookSchema>;
  version: number;
}
