import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { listenOn } from './listen.js';

/**
 * The small integration `npm start` runs next to the stack, so a newcomer sees the whole loop: it
 * receives the demo outgoing webhook, checks its Standard Webhooks signature, and answers in the
 * thread of the triggering post.
 */
export async function startDemoIntegration(options: {
  port: number;
  host: string;
  outgoingSecrets: () => string[];
  commandSecrets: () => string[];
  actionSecret: () => string;
}): Promise<Server> {
  const base = `http://${options.host}:${options.port}`;
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '';
    if (request.method !== 'POST' || (path !== '/outgoing' && path !== '/command' && path !== '/action')) {
      response.writeHead(404).end();
      return;
    }
    // Standard Webhooks: the signature over "id.timestamp.body" with one of the integration's secrets.
    const id = String(request.headers['webhook-id'] ?? '');
    const timestamp = new Date(Number(request.headers['webhook-timestamp']) * 1000);
    // A click on the buttons of the demo's build reply is signed with the outgoing hook's own secret
    // (the hook made the post); clicks on other posts with the deployment's action secret.
    const secrets =
      path === '/command' ? options.commandSecrets() : path === '/action' ? [...options.outgoingSecrets(), options.actionSecret()] : options.outgoingSecrets();
    const signatures = String(request.headers['webhook-signature'] ?? '').split(' ');
    if (!secrets.some((secret) => signatures.includes(new Webhook(secret).sign(id, timestamp, body)))) {
      response.writeHead(401).end();
      return;
    }
    if (path === '/action') {
      // A click: the decision replaces the buttons; the clicker alone gets a confirmation.
      const click = JSON.parse(body) as { user_name: string; context?: { decision?: string; service?: string; selected_option?: string } };
      const decision = click.context?.selected_option ? `sent to ${click.context.selected_option}` : click.context?.decision ?? 'handled';
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          update: { message: `Build of **${click.context?.service}** ${decision} by @${click.user_name}.`, props: {} },
          ephemeral_text: `You chose: ${decision}.`,
        }),
      );
      return;
    }
    if (path === '/command') {
      const form = new URLSearchParams(body);
      const service = form.get('text')?.trim() || 'everything';
      const responseUrl = form.get('response_url');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ response_type: 'ephemeral', text: `Deploying **${service}**… (only you see this)` }));
      // A second answer later, for the channel, through the response_url.
      if (responseUrl) {
        setTimeout(() => {
          fetch(responseUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ response_type: 'in_channel', text: `:rocket: **${service}** deployed by @${form.get('user_name')}` }),
          }).catch(() => undefined);
        }, 500);
      }
      return;
    }
    const fields = request.headers['content-type']?.startsWith('application/json')
      ? (JSON.parse(body) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(body));
    const service = (fields.text ?? '').split(/\s+/)[1] || 'everything';
    response.writeHead(200, { 'content-type': 'application/json' });
    const integration = (context: Record<string, string>) => ({ url: `${base}/action`, context: { service, ...context } });
    response.end(
      JSON.stringify({
        text: `Build of **${service}** queued by @${fields.user_name} (signature verified, delivery ${request.headers['webhook-id']}).`,
        response_type: 'comment',
        attachments: [
          {
            text: 'Release it?',
            actions: [
              { id: 'approve', name: 'Approve', style: 'primary', integration: integration({ decision: 'approved' }) },
              { id: 'reject', name: 'Reject', style: 'danger', integration: integration({ decision: 'rejected' }) },
              {
                id: 'environment',
                name: 'Environment',
                type: 'select',
                options: [
                  { text: 'Staging', value: 'staging' },
                  { text: 'Production', value: 'production' },
                ],
                integration: integration({}),
              },
            ],
          },
        ],
      }),
    );
  });
  await listenOn(server, options.port, options.host);
  return server;
}
