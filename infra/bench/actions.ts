import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config.js';
import { createRuntime } from '../../lib/runtime.js';
import { applySeed, parseSeedFile } from '../../lib/seed/seed.js';
import { countRequests } from '../../lib/store/dynamo.js';
import { startGateway } from '../local/gateway.js';

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/**
 * The overhead of `POST /api/v4/posts/{id}/actions/{action_id}` over the integration's own round
 * trip (one click through the local API, then one request straight to the integration, per round),
 * with an integration that answers with an update; and DynamoDB requests per click.
 */
export async function benchActions(environment: Record<string, string>, clicks: number) {
  const answer = JSON.stringify({ update: { message: 'clicked' } });
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const integrationUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/action`;
  const config = loadConfig({ ...environment, ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const counts = countRequests(db);
  const runtime = createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'WARN' }), db);
  const gateway = await startGateway({ runtime });
  const seed = await applySeed(
    'bench-actions.yaml',
    parseSeedFile(
      'bench-actions.yaml',
      `teams: [{name: actbench}]
channels: [{team: actbench, name: town-square}]
users: [{username: clicker, token: benchclicker0000000000000000000000, teams: [actbench], channels: [actbench/town-square]}]
incoming_webhooks: [{team: actbench, channel: town-square, creator: clicker, display_name: buttons}]`,
    ),
    { store: runtime.entities, siteUrl: '' },
  );
  const posted = await fetch(`${gateway.url}/hooks/${seed.incoming_webhooks[0]!.id}`, {
    method: 'POST',
    headers: { prefer: 'return=representation', 'content-type': 'application/json' },
    body: JSON.stringify({ attachments: [{ text: 'go?', actions: [{ id: 'go', name: 'Go', integration: { url: integrationUrl } }] }] }),
  });
  const postId = ((await posted.json()) as { post_id: string }).post_id;
  const timed = async (call: () => Promise<Response>) => {
    const started = performance.now();
    const response = await call();
    await response.text();
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    return performance.now() - started;
  };
  const clickOnce = () =>
    fetch(`${gateway.url}/api/v4/posts/${postId}/actions/go`, { method: 'POST', headers: { authorization: 'Bearer benchclicker0000000000000000000000' }, body: '{}' });
  const direct = () => fetch(integrationUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_id":"x"}' });
  try {
    for (let i = 0; i < 20; i++) await timed(clickOnce);
    counts.clear();
    const overheads: number[] = [];
    for (let i = 0; i < clicks; i++) overheads.push((await timed(clickOnce)) - (await timed(direct)));
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0) / clicks;
    const breakdown = [...counts.entries()].map(([command, count]) => `${command.replace(/Command$/, '')} ${(count / clicks).toFixed(2)}`).join(', ');
    return { p50Ms: percentile(overheads, 50), p95Ms: percentile(overheads, 95), dynamoPerClick: total, breakdown };
  } finally {
    await gateway.close();
    server.closeAllConnections();
    server.close();
  }
}
