import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { liveMessages } from '../../infra/local/sqs-journal.js';

describe('the local SQS journal', () => {
  it('keeps what was sent and not deleted, per queue, and survives a last line cut by a kill', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'journal-')), 'sqs.jsonl');
    writeFileSync(
      file,
      [
        { op: 'send', queue: 'outgoing', id: 'a', body: 'A' },
        { op: 'send', queue: 'outgoing', id: 'b', body: 'B' },
        { op: 'send', queue: 'outgoing-dlq', id: 'c', body: 'C' },
        { op: 'delete', queue: 'outgoing', id: 'a' },
        { op: 'send', queue: 'failures', id: 'd', body: 'D' },
        { op: 'purge', queue: 'failures' },
      ]
        .map((entry) => JSON.stringify(entry))
        .join('\n') + '\n{"op":"send","queue":"outgo',
    );
    expect(liveMessages(file)).toEqual([
      { queue: 'outgoing', id: 'b', body: 'B' },
      { queue: 'outgoing-dlq', id: 'c', body: 'C' },
    ]);
    expect(liveMessages(path.join(path.dirname(file), 'absent.jsonl'))).toEqual([]);
  });
});
