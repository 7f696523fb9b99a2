/**
 * Makes the local SQS emulator as durable as SQS: the emulator (local-aws-sqs) keeps messages in
 * memory only, so `npm start` puts a small proxy in front of it that journals, before it answers,
 * every message sent and every message deleted, to an append-only file. On the next start the
 * messages that were sent and never deleted (waiting, in flight, delayed, or in a dead-letter
 * queue) are sent again to their queues, visible at once: what was in flight when the stack died is
 * delivered within seconds of the restart, instead of being lost.
 *
 * Limits, acceptable locally: a retry delay (visibility change) is not journaled, so a delayed
 * message comes back early after a restart; a message the emulator itself moves to a dead-letter
 * queue (its redrive) would come back in its source queue, which the worker never lets happen
 * (it dead-letters deliveries itself, well before the local redrive threshold).
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn } from './listen.js';

type JournalEntry =
  | { op: 'send'; queue: string; id: string; body: string }
  | { op: 'delete'; queue: string; id: string }
  | { op: 'purge'; queue: string };

interface LiveMessage {
  queue: string;
  id: string;
  body: string;
}

const queueName = (queueUrl: unknown) => String(queueUrl ?? '').split('/').pop() ?? '';

/** The messages a journal says are still in their queues, in the order they were sent. */
export function liveMessages(journalFile: string): LiveMessage[] {
  if (!existsSync(journalFile)) return [];
  const live = new Map<string, LiveMessage>();
  for (const line of readFileSync(journalFile, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let entry: JournalEntry;
    try {
      entry = JSON.parse(line) as JournalEntry;
    } catch {
      // The last line of a journal cut by a kill may be partial; everything before it stands.
      continue;
    }
    if (entry.op === 'send') live.set(`${entry.queue}/${entry.id}`, { queue: entry.queue, id: entry.id, body: entry.body });
    else if (entry.op === 'delete') live.delete(`${entry.queue}/${entry.id}`);
    else for (const key of [...live.keys()]) if (key.startsWith(`${entry.queue}/`)) live.delete(key);
  }
  return [...live.values()];
}

/**
 * A journaling proxy on `port` in front of the emulator at `emulatorEndpoint`. `restore` sends the
 * journal's live messages again (call it once the queues exist) and starts a fresh journal.
 */
export async function startJournalingProxy(options: { emulatorEndpoint: string; journalFile: string; port?: number }) {
  const leftover = liveMessages(options.journalFile);
  // Receipt handles of received messages, to journal a delete by message id (handles die with the process).
  const received = new Map<string, { queue: string; id: string }>();
  let journaling = false;
  const journal = (entries: JournalEntry[]) => {
    if (!journaling || entries.length === 0) return;
    // Synchronous, before the caller gets its answer: once SQS said "sent", the message is on disk.
    appendFileSync(options.journalFile, entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
  };

  const record = (action: string, request: Record<string, any>, response: Record<string, any>) => {
    const queue = queueName(request.QueueUrl);
    switch (action) {
      case 'SendMessage':
        if (response.MessageId) journal([{ op: 'send', queue, id: response.MessageId, body: request.MessageBody }]);
        break;
      case 'SendMessageBatch': {
        const bodies = new Map<string, string>((request.Entries ?? []).map((entry: any) => [entry.Id, entry.MessageBody]));
        journal((response.Successful ?? []).map((sent: any) => ({ op: 'send', queue, id: sent.MessageId, body: bodies.get(sent.Id) ?? '' })));
        break;
      }
      case 'ReceiveMessage':
        for (const message of response.Messages ?? []) received.set(message.ReceiptHandle, { queue, id: message.MessageId });
        break;
      case 'DeleteMessage': {
        const message = received.get(request.ReceiptHandle);
        if (message) journal([{ op: 'delete', ...message }]);
        received.delete(request.ReceiptHandle);
        break;
      }
      case 'DeleteMessageBatch': {
        const deleted = new Set((response.Successful ?? []).map((entry: any) => entry.Id));
        const entries: JournalEntry[] = [];
        for (const entry of request.Entries ?? []) {
          const message = received.get(entry.ReceiptHandle);
          if (message && deleted.has(entry.Id)) entries.push({ op: 'delete', ...message });
          received.delete(entry.ReceiptHandle);
        }
        journal(entries);
        break;
      }
      case 'PurgeQueue':
        journal([{ op: 'purge', queue }]);
        break;
    }
  };

  const server: Server = createServer(async (request: IncomingMessage, response: ServerResponse) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (value !== undefined && name !== 'host' && name !== 'content-length') headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const answer = await fetch(`${options.emulatorEndpoint}${request.url ?? '/'}`, {
        method: request.method ?? 'POST',
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      const answerBody = Buffer.from(await answer.arrayBuffer());
      // The JSON protocol names the action in X-Amz-Target ("AmazonSQS.SendMessage").
      const action = String(request.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
      if (answer.ok && action) record(action, JSON.parse(body.toString('utf8') || '{}'), JSON.parse(answerBody.toString('utf8') || '{}'));
      const responseHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (name !== 'content-length' && name !== 'transfer-encoding' && name !== 'connection') responseHeaders[name] = value;
      });
      response.writeHead(answer.status, { ...responseHeaders, 'content-length': answerBody.length });
      response.end(answerBody);
    } catch (error) {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ __type: 'InternalFailure', message: String(error) }));
    }
  });
  await listenOn(server, options.port ?? 0, '127.0.0.1');
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  return {
    endpoint,
    server,
    /**
     * Sends the previous run's live messages to their queues (by name, through this proxy, so they
     * are journaled anew), then journals from here on. Each old entry is closed only once its copy is
     * journaled, so a restore cut short by another kill loses nothing either; the file is then
     * compacted to the live messages.
     */
    async restore(queueUrls: Record<string, string>): Promise<number> {
      const urlByName = new Map(Object.values(queueUrls).map((url) => [queueName(url), url]));
      journaling = true;
      let restored = 0;
      for (const message of leftover) {
        const queueUrl = urlByName.get(message.queue);
        if (!queueUrl) continue;
        const answer = await fetch(endpoint, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' },
          body: JSON.stringify({ QueueUrl: queueUrl, MessageBody: message.body }),
        });
        if (!answer.ok) throw new Error(`could not restore a message to ${message.queue}: ${await answer.text()}`);
        journal([{ op: 'delete', queue: message.queue, id: message.id }]);
        restored++;
      }
      const compacted = liveMessages(options.journalFile).map((message) => `${JSON.stringify({ op: 'send', ...message })}\n`).join('');
      writeFileSync(`${options.journalFile}.tmp`, compacted);
      renameSync(`${options.journalFile}.tmp`, options.journalFile);
      return restored;
    },
  };
}
