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
 * The overhead `POST /api/v4/commands/execute` adds to the command server's own answer: each round
 * times one execution through the local API and one request straight to the command server (same
 * machine, same answer), and reports the difference; plus DynamoDB requests per execution.
 */
export async function benchCommands(environment: Record<string, string>, executions: number) {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"response_type":"in_channel","text":"done"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const commandUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/command`;
  const config = loadConfig({ ...environment, ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const counts = countRequests(db);
  const runtime = createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'WARN' }), db);
  const gateway = await startGateway({ runtime });
  const seed = await applySeed(
    'bench-commands.yaml',
    parseSeedFile(
      'bench-commands.yaml',
      `teams: [{name: cmdbench}]
channels: [{team: cmdbench, name: town-square}]
users: [{username: commander, token: benchcommander000000000000000000000, teams: [cmdbench], channels: [cmdbench/town-square]}]
commands: [{team: cmdbench, trigger: go, url: "${commandUrl}", creator: commander}]`,
    ),
    { store: runtime.entities, siteUrl: '' },
  );
  const body = JSON.stringify({ command: '/go now', channel_id: seed.channels[0]!.id });
  const timed = async (call: () => Promise<Response>) => {
    const started = performance.now();
    const response = await call();
    await response.text();
    if (response.status !== 200) throw new Error(`answered ${response.status}`);
    return performance.now() - started;
  };
  const execute = () =>
    fetch(`${gateway.url}/api/v4/commands/execute`, { method: 'POST', headers: { authorization: 'Bearer benchcommander000000000000000000000' }, body });
  const direct = () => fetch(commandUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x&text=now' });
  try {
    for (let i = 0; i < 20; i++) await timed(execute); // warm caches and connections
    counts.clear();
    const overheads: number[] = [];
    for (let i = 0; i < executions; i++) overheads.push((await timed(execute)) - (await timed(direct)));
    const perExecution = [...counts.entries()].map(([command, count]) => `${command.replace(/Command$/, '')} ${(count / executions).toFixed(2)}`).join(', ');
    const total = [...counts.values()].reduce((sum, count) => sum + count, 0) / executions;
    return { p50Ms: percentile(overheads, 50), p95Ms: percentile(overheads, 95), dynamoPerExecution: total, breakdown: perExecution };
  } finally {
    await gateway.close();
    server.closeAllConnections();
    server.close();
  }
}
