import { startGateway } from '../local/gateway.js';
import { answeringServer, countedRuntime, percentile, perOperation, seed, timed } from './support.js';

/**
 * The overhead `POST /api/v4/commands/execute` adds to the command server's own answer: each round
 * times one execution through the local API and one request straight to the command server (same
 * machine, same answer), and reports the difference; plus DynamoDB requests per execution.
 */
export async function benchCommands(environment: Record<string, string>, executions: number) {
  const commandServer = await answeringServer('{"response_type":"in_channel","text":"done"}');
  const commandUrl = `${commandServer.url}/command`;
  const { counts, runtime } = countedRuntime(environment);
  const gateway = await startGateway({ runtime });
  const summary = await seed(
    runtime,
    'bench-commands.yaml',
    `teams: [{name: cmdbench}]
channels: [{team: cmdbench, name: town-square}]
users: [{username: commander, token: benchcommander000000000000000000000, teams: [cmdbench], channels: [cmdbench/town-square]}]
commands: [{team: cmdbench, trigger: go, url: "${commandUrl}", creator: commander}]`,
  );
  const body = JSON.stringify({ command: '/go now', channel_id: summary.channels[0]!.id });
  const execute = () =>
    fetch(`${gateway.url}/api/v4/commands/execute`, { method: 'POST', headers: { authorization: 'Bearer benchcommander000000000000000000000' }, body });
  const direct = () => fetch(commandUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=x&text=now' });
  try {
    for (let i = 0; i < 20; i++) await timed(execute); // warm caches and connections
    counts.clear();
    const overheads: number[] = [];
    for (let i = 0; i < executions; i++) overheads.push((await timed(execute)) - (await timed(direct)));
    const requests = perOperation(counts, executions);
    return { p50Ms: percentile(overheads, 50), p95Ms: percentile(overheads, 95), dynamoPerExecution: requests.total, breakdown: requests.breakdown };
  } finally {
    await gateway.close();
    commandServer.server.closeAllConnections();
    commandServer.server.close();
  }
}
