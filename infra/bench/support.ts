import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { loadConfig } from '../../lib/config.js';
import { createRuntime, type Runtime } from '../../lib/runtime.js';
import { applySeed, parseSeedFile, type SeedSummary } from '../../lib/seed/seed.js';
import { countRequests } from '../../lib/store/dynamo.js';

/** Shared pieces of the benchmarks. */
export const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

/** A runtime whose DynamoDB requests are counted, by command. Loopback integrations are allowed. */
export function countedRuntime(environment: Record<string, string>) {
  // Commands need a SITE_URL for their response_url; the benchmark never calls it.
  const config = loadConfig({ ...environment, SITE_URL: environment.SITE_URL || 'http://127.0.0.1', ALLOWED_UNTRUSTED_INTERNAL_CONNECTIONS: '127.0.0.0/8' });
  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: config.dynamodbEndpoint, region: config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
    { marshallOptions: { removeUndefinedValues: true } },
  );
  const counts = countRequests(db);
  const runtime: Runtime = createRuntime(config, new Logger({ serviceName: 'bench', logLevel: 'WARN' }), db);
  return { config, db, counts, runtime };
}

export function seed(runtime: Runtime, name: string, yaml: string): Promise<SeedSummary> {
  return applySeed(name, parseSeedFile(name, yaml), { store: runtime.entities, siteUrl: '' });
}

/** Requests per operation, as a total and by command (`GetItem 1.00, PutItem 1.00`). */
export function perOperation(counts: Map<string, number>, operations: number) {
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0) / operations;
  const breakdown = [...counts.entries()].map(([command, count]) => `${command.replace(/Command$/, '')} ${(count / operations).toFixed(2)}`).join(', ');
  return { total, breakdown };
}

/** A loopback integration that answers every request at once with `body` (JSON). */
export async function answeringServer(body: string): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Milliseconds for one HTTP exchange, body read; throws unless it answered 200. */
export async function timed(call: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const response = await call();
  await response.text();
  if (response.status !== 200) throw new Error(`answered ${response.status}`);
  return performance.now() - started;
}
