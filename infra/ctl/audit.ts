/**
 * npm run ctl -- audit list [--hours N] [--limit N]
 *
 * The audit records of management changes (who, what, when, from where, outcome), oldest first.
 */
import { parseArgs } from 'node:util';
import { listAuditRecords } from '../../lib/audit.js';
import { print, UsageError, type CtlGroup } from './context.js';

export const auditGroup: CtlGroup = {
  usage: 'audit list [--hours N] [--limit N]',
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { hours: { type: 'string', default: '24' }, limit: { type: 'string', default: '200' } },
    });
    if (positionals[0] !== 'list' || positionals.length !== 1) throw new UsageError('expected: audit list');
    const hours = Number(values.hours);
    const limit = Number(values.limit);
    if (!(hours > 0) || !Number.isInteger(limit) || limit < 1) throw new UsageError('--hours and --limit must be positive numbers');
    const records = await listAuditRecords(context.runtime, { sinceMs: context.runtime.nowMs() - hours * 3_600_000, limit });
    print(context, records, (list) =>
      list.length === 0
        ? ['no audit records']
        : list.map((record) =>
            [new Date(record.timeMs).toISOString(), record.status.padEnd(7), record.event, record.objectId, `${record.actorName} (${record.origin})`].join('  '),
          ),
    );
    return 0;
  },
};
