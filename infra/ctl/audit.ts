/**
 * npm run ctl -- audit list [--hours N] [--limit N] [--before CURSOR]
 *
 * The audit records of management changes (who, what, when, from where, outcome), newest first.
 * A full page ends with the cursor of the next, older one (`--before`); a cursor is the last
 * record's `timeMs-id`, so a script reading `--json` makes it from the last element.
 */
import { parseArgs } from 'node:util';
import { auditCursor, listAuditRecords, parseAuditCursor } from '../../lib/audit.js';
import { print, UsageError, type CtlGroup } from './context.js';

export const auditGroup: CtlGroup = {
  usage: 'audit list [--hours N] [--limit N] [--before CURSOR]',
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { hours: { type: 'string', default: '24' }, limit: { type: 'string', default: '200' }, before: { type: 'string' } },
    });
    if (positionals[0] !== 'list' || positionals.length !== 1) throw new UsageError('expected: audit list');
    const hours = Number(values.hours);
    const limit = Number(values.limit);
    if (!(hours > 0) || !Number.isInteger(limit) || limit < 1) throw new UsageError('--hours and --limit must be positive numbers');
    const before = values.before === undefined ? undefined : parseAuditCursor(values.before);
    if (values.before !== undefined && !before) throw new UsageError(`--before: "${values.before}" is not a cursor this command printed`);
    const records = await listAuditRecords(context.runtime, { sinceMs: context.runtime.nowMs() - hours * 3_600_000, limit, before });
    print(context, records, (list) => {
      if (list.length === 0) return ['no audit records'];
      const lines = list.map((record) =>
        [new Date(record.timeMs).toISOString(), record.status.padEnd(7), record.event, record.objectId, `${record.actorName} (${record.origin})`].join('  '),
      );
      // A full page may have older records after it; a short one is the last.
      if (list.length === limit) lines.push(`older: --before ${auditCursor(list.at(-1)!)}`);
      return lines;
    });
    return 0;
  },
};
