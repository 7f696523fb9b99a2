import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBusinessMetrics, METRICS_NAMESPACE } from '../../lib/metrics.js';
import { startCallbackServer, type CallbackServer } from '../support/callback-server.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/**
 * Business metrics in CloudWatch's embedded metric format: JSON lines on stdout, read back here as
 * CloudWatch Logs would read them. The suite runs with POWERTOOLS_METRICS_DISABLED=true; this file
 * builds its own enabled instance.
 */
interface EmfLine {
  _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
}

function enabledMetrics() {
  const previous = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  try {
    return createBusinessMetrics(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hookline' }));
  } finally {
    process.env.POWERTOOLS_METRICS_DISABLED = previous;
  }
}

/** Runs `act` while collecting the EMF lines written to stdout. */
async function emfLinesOf(act: () => Promise<void>): Promise<EmfLine[]> {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    await act();
  } finally {
    spy.mockRestore();
  }
  return written
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

const named = (lines: EmfLine[], metric: string) =>
  lines.filter((line) => line._aws.CloudWatchMetrics.some((entry) => entry.Metrics.some((m) => m.Name === metric)));

let api: Api;
let server: CallbackServer;
let world: World;

beforeAll(async () => {
  api = await startApi({ ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' }, undefined, enabledMetrics());
  server = await startCallbackServer((_request, _index, response) => {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ response_type: 'in_channel', text: 'deployed' }));
  });
  world = await seedWorld(api.runtime, (names) => ({
    commands: [{ team: names.team, trigger: 'ship', url: `${server.url}/ship`, creator: names.creator }],
  }));
});
afterAll(async () => {
  await server.close();
  await api.close();
});

describe('business metrics (EMF)', () => {
  it('counts posts by the path that created them, in the Hookline namespace', async () => {
    const auth = { authorization: `Bearer ${world.user('creator').token}` };
    const lines = await emfLinesOf(async () => {
      expect((await api.postJson(world.hook('main').url, { text: 'from a hook' })).status).toBe(200);
      expect((await api.postJson('/api/v4/posts', { channel_id: world.channel('town-square').id, message: 'by hand' }, auth)).status).toBe(201);
    });
    const posts = named(lines, 'PostsCreated');
    expect(posts.map((line) => [line.source, line.PostsCreated])).toEqual([
      ['incoming_webhook', 1],
      ['user', 1],
    ]);
    for (const line of posts) {
      expect(line._aws.CloudWatchMetrics[0]!.Namespace).toBe('Hookline');
      expect(line._aws.CloudWatchMetrics[0]!.Dimensions[0]).toEqual(expect.arrayContaining(['service', 'source']));
      expect(line.service).toBe('hookline');
    }
  });

  it('records a command call with its integration latency and the answer it posted', async () => {
    const lines = await emfLinesOf(async () => {
      const response = await api.postJson(
        '/api/v4/commands/execute',
        { command: '/ship api', channel_id: world.channel('town-square').id },
        { authorization: `Bearer ${world.user('creator').token}` },
      );
      expect(response.status).toBe(200);
    });
    const [call] = named(lines, 'IntegrationCalls');
    expect(call).toMatchObject({ kind: 'command', outcome: 'answered', IntegrationCalls: 1 });
    expect(call!.IntegrationLatency).toBeGreaterThanOrEqual(0);
    expect(call!._aws.CloudWatchMetrics[0]!.Metrics).toContainEqual({ Name: 'IntegrationLatency', Unit: 'Milliseconds' });
    expect(named(lines, 'PostsCreated').map((line) => line.source)).toEqual(['command']);
  });

  it('counts delivery attempts by outcome, with latency only when a callback answered', async () => {
    const metrics = enabledMetrics();
    const lines = await emfLinesOf(async () => {
      metrics.deliveryAttempt('succeeded', 42);
      metrics.deliveryAttempt('dead_lettered');
    });
    expect(lines.map((line) => [line.outcome, line.DeliveryAttempts, line.DeliveryLatency])).toEqual([
      ['succeeded', 1, 42],
      ['dead_lettered', 1, undefined],
    ]);
  });

  it('writes nothing when POWERTOOLS_METRICS_DISABLED is true', async () => {
    const silent = createBusinessMetrics(new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hookline' }));
    expect(process.env.POWERTOOLS_METRICS_DISABLED).toBe('true');
    expect(await emfLinesOf(async () => silent.postsCreated('user', 1))).toEqual([]);
  });
});
