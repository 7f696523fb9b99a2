/**
 * Audit records of management changes (Mattermost's `MakeAuditRecord`/`LogAuditRec`): who, what,
 * when, from where, and whether it succeeded. Each is an item of the entities table that expires
 * after AUDIT_LOG_TTL_DAYS, and a log line. Callers pass no secrets: `detail` holds names and ids.
 */
import { AppError } from './errors.js';
import { newId } from './ids.js';
import type { Caller } from './permissions.js';
import type { Runtime } from './runtime.js';

export interface AuditEntry {
  /** Mattermost's audit event name in camelCase: `createIncomingHook`, `regenCommandToken`, ... */
  event: string;
  /** The hook, command or token the change is about. */
  objectId: string;
  status: 'success' | 'fail';
  detail?: Record<string, string | number | boolean>;
}

export interface AuditRecord extends AuditEntry {
  id: string;
  timeMs: number;
  actorId: string;
  actorName: string;
  origin: string;
}

export async function recordAudit(runtime: Runtime, caller: Caller, entry: AuditEntry): Promise<void> {
  const timeMs = runtime.nowMs();
  const record: AuditRecord = {
    id: newId(),
    timeMs,
    actorId: caller.user.id,
    actorName: caller.user.username,
    origin: caller.origin,
    ...entry,
  };
  runtime.logger.info('audit', { audit: record });
  await runtime.entities.putAuditRecord({
    id: record.id,
    time_ms: timeMs,
    event: record.event,
    object_id: record.objectId,
    status: record.status,
    actor_id: record.actorId,
    actor_name: record.actorName,
    origin: record.origin,
    detail: record.detail ?? {},
    expires_at: Math.floor(timeMs / 1000) + runtime.config.auditLogTtlSeconds,
  });
}

/** Where a listing goes on after `record`: the next page holds the records older than it. */
export function auditCursor(record: Pick<AuditRecord, 'timeMs' | 'id'>): string {
  return `${record.timeMs}-${record.id}`;
}

/** The record a cursor names, or undefined when it is not one `auditCursor` makes. */
export function parseAuditCursor(cursor: string): { timeMs: number; id: string } | undefined {
  const match = /^(\d{1,15})-([0-9a-z]{1,64})$/.exec(cursor);
  return match ? { timeMs: Number(match[1]), id: match[2]! } : undefined;
}

/**
 * Audit records from `sinceMs` on, newest first, at most `limit`; with `before` (a cursor from
 * `auditCursor`), only those older than that record: the next page.
 */
export async function listAuditRecords(
  runtime: Runtime,
  options: { sinceMs: number; limit: number; before?: { timeMs: number; id: string } },
): Promise<AuditRecord[]> {
  const items = await runtime.entities.auditRecordsNewestFirst({ ...options, untilMs: runtime.nowMs() });
  return items.map((item) => ({
    id: String(item.id),
    timeMs: Number(item.time_ms),
    event: String(item.event),
    objectId: String(item.object_id),
    status: item.status === 'success' ? 'success' : 'fail',
    actorId: String(item.actor_id),
    actorName: String(item.actor_name),
    origin: String(item.origin),
    detail: (item.detail ?? {}) as AuditRecord['detail'],
  }));
}

type AuditDetail = NonNullable<AuditEntry['detail']>;

/**
 * Runs a management change and records its audit entry, Mattermost's way: `fail` with the error's
 * id and status when it throws, else `success`. `setObjectId` lets the change name what it created.
 * The success record is written outside the `try`, so a change that succeeded is never audited as failed.
 */
export async function audited<T>(
  runtime: Runtime,
  caller: Caller,
  entry: { event: string; objectId: string; detail?: AuditDetail; successDetail?: (result: T) => AuditDetail },
  change: (setObjectId: (id: string) => void) => Promise<T>,
): Promise<T> {
  let objectId = entry.objectId;
  let result: T;
  try {
    result = await change((id) => (objectId = id));
  } catch (error) {
    const failure: AuditDetail = error instanceof AppError ? { error_id: error.id, status_code: error.statusCode } : { error_id: 'internal' };
    await recordAudit(runtime, caller, { event: entry.event, objectId, status: 'fail', detail: { ...entry.detail, ...failure } });
    throw error;
  }
  await recordAudit(runtime, caller, { event: entry.event, objectId, status: 'success', detail: { ...entry.detail, ...entry.successDetail?.(result) } });
  return result;
}
