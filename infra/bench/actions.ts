import { startGateway } from '../local/gateway.js';
import { answeringServer, countedRuntime, percentile, perOperation, seed, timed } from './support.js';

/**
 * The overhead of `POST /api/v4/posts/{id}/actions/{action_id}` over the integration's own round
 * trip (one click through the local API, then one request straight to the integration, per round),
 * with an integration that answers with an update; and DynamoDB requests per click.
 */
export async function benchActions(environment: Record<string, string>, clicks: number) {
  const integration = await answeringServer(JSON.stringify({ update: { message: 'clicked' } }));
  const integrationUrl = `${integration.url}/action`;
  const { counts, runtime } = countedRuntime(environment);
  const gateway = await startGateway({ runtime });
  const summary = await seed(
    runtime,
    'bench-actions.yaml',
    `teams: [{name: actbench}]
channels: [{team: actbench, name: town-square}]
users: [{username: clicker, token: benchclicker0000000000000000000000, teams: [actbench], channels: [actbench/town-square]}]
incoming_webhooks: [{team: actbench, channel: town-square, creator: clicker, display_name: buttons}]`,
  );
  const posted = await fetch(`${gateway.url}/hooks/${summary.incoming_webhooks[0]!.id}`, {
    method: 'POST',
    headers: { prefer: 'return=representation', 'content-type': 'application/json' },
    body: JSON.stringify({ attachments: [{ text: 'go?', actions: [{ id: 'go', name: 'Go', integration: { url: integrationUrl } }] }] }),
  });
  const postId = ((await posted.json()) as { post_id: string }).post_id;
  const clickOnce = () =>
    fetch(`${gateway.url}/api/v4/posts/${postId}/actions/go`, { method: 'POST', headers: { authorization: 'Bearer benchclicker0000000000000000000000' }, body: '{}' });
  const direct = () => fetch(integrationUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user_id":"x"}' });
  try {
    for (let i = 0; i < 20; i++) await timed(clickOnce);
    counts.clear();
    const overheads: number[] = [];
    for (let i = 0; i < clicks; i++) overheads.push((await timed(clickOnce)) - (await timed(direct)));
    const requests = perOperation(counts, clicks);
    return { p50Ms: percentile(overheads, 50), p95Ms: percentile(overheads, 95), dynamoPerClick: requests.total, breakdown: requests.breakdown };
  } finally {
    await gateway.close();
    integration.server.closeAllConnections();
    integration.server.close();
  }
}
