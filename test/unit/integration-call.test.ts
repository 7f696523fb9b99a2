import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AllowList } from '../../lib/http/ssrf.js';
import {
  callIntegration,
  callTimeoutMs,
  IntegrationCallError,
  MAX_SYNCHRONOUS_TIMEOUT_MS,
  type CallerRuntime,
  type IntegrationCall,
} from '../../lib/integrations/call.js';

const secret = `whsec_${Buffer.from('a test signing secret, 32 bytes!').toString('base64')}`;

/** A real loopback integration: `/status/{code}` answers that status, `/hang` never answers; every request is kept. */
let server: Server;
let base: string;
const received: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      if (request.url === '/hang') return;
      const status = Number(/^\/status\/(\d+)/.exec(request.url ?? '')?.[1] ?? 200);
      response.writeHead(status, { 'content-type': 'application/json' }).end('{"text":"hi"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

function runtime(timeoutMs = 2_000, allow = ['127.0.0.0/8']) {
  const calls: Array<[string, string, number]> = [];
  const rt: CallerRuntime = {
    config: { outgoingRequestsTimeoutMs: timeoutMs },
    allowList: new AllowList(allow),
    metrics: { integrationCall: (kind, outcome, latencyMs) => calls.push([kind, outcome, latencyMs]) },
    nowMs: Date.now,
  };
  return { rt, calls };
}

const call = (overrides: Partial<IntegrationCall>): IntegrationCall => ({
  kind: 'command',
  url: `${base}/status/200`,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: '{"a":1}',
  signingSecret: secret,
  messageId: 'msg_1',
  ...overrides,
});

describe('callIntegration', () => {
  it('signs the body with Standard Webhooks headers under the given message id, or not at all without a secret', async () => {
    const { rt } = runtime();
    const response = await callIntegration(rt, call({}));
    expect(response.body.toString()).toBe('{"text":"hi"}');
    const signed = received.at(-1)!;
    expect(signed.headers['webhook-id']).toBe('msg_1');
    expect(signed.headers.accept).toBe('application/json');
    expect(() => new Webhook(secret).verify(signed.body, signed.headers as Record<string, string>)).not.toThrow();

    await callIntegration(rt, call({ signingSecret: undefined }));
    expect(received.at(-1)!.headers['webhook-signature']).toBeUndefined();

    // A GET sends no body and signs the empty one.
    await callIntegration(rt, call({ method: 'GET', url: `${base}/status/200?text=x`, body: '' }));
    const get = received.at(-1)!;
    expect(get.method).toBe('GET');
    expect(() => new Webhook(secret).verify('', get.headers as Record<string, string>)).not.toThrow();
  });

  it('accepts 200 only from a command or an action, any 2xx from an outgoing webhook, keeping a refused answer', async () => {
    const { rt, calls } = runtime();
    await expect(callIntegration(rt, call({ kind: 'action', url: `${base}/status/204` }))).rejects.toMatchObject({ failure: 'status', message: 'status=204' });
    expect((await callIntegration(rt, call({ kind: 'outgoing_webhook', url: `${base}/status/204` }))).status).toBe(204);
    const refused = await callIntegration(rt, call({ kind: 'outgoing_webhook', url: `${base}/status/410` })).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(IntegrationCallError);
    expect((refused as IntegrationCallError).response?.status).toBe(410);
    // The integration-call metric counts the calls a user waits on; a delivery's outcome is the worker's.
    expect(calls.map(([kind, outcome]) => `${kind}:${outcome}`)).toEqual(['action:failed']);
  });

  it('maps the outbound failures: a refused address, an invalid URL, a timeout', async () => {
    const { rt: closed, calls } = runtime(2_000, []);
    await expect(callIntegration(closed, call({}))).rejects.toMatchObject({ failure: 'forbidden' });
    await expect(callIntegration(closed, call({ url: 'ftp://127.0.0.1/' }))).rejects.toMatchObject({ failure: 'invalid_url' });
    expect(calls.map(([kind, outcome]) => `${kind}:${outcome}`)).toEqual(['command:failed', 'command:failed']);
    const { rt: quick } = runtime(300);
    const timedOut = await callIntegration(quick, call({ url: `${base}/hang` })).catch((error: unknown) => error);
    expect(timedOut).toMatchObject({ failure: 'timeout' });
    expect((timedOut as IntegrationCallError).latencyMs).toBeGreaterThanOrEqual(250);
  });

  it('caps the timeout of the calls a user waits on, not of a delivery', () => {
    expect(callTimeoutMs('command', 60_000)).toBe(MAX_SYNCHRONOUS_TIMEOUT_MS);
    expect(callTimeoutMs('action', 60_000)).toBe(MAX_SYNCHRONOUS_TIMEOUT_MS);
    expect(callTimeoutMs('action', 10_000)).toBe(10_000);
    expect(callTimeoutMs('outgoing_webhook', 60_000)).toBe(60_000);
  });
});
