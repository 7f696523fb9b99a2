import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';

/**
 * The small integration `npm start` runs next to the stack, so a newcomer sees the whole loop: it
 * receives the demo outgoing webhook, checks its Standard Webhooks signature, and answers in the
 * thread of the triggering post.
 */
export async function startDemoIntegration(options: { port: number; host: string; outgoingSecrets: () => string[] }): Promise<Server> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (request.method !== 'POST' || request.url !== '/outgoing') {
      response.writeHead(404).end();
      return;
    }
    const verified = options.outgoingSecrets().some((secret) => {
      try {
        new Webhook(secret).verify(body, request.headers as Record<string, string>);
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) {
      response.writeHead(401).end();
      return;
    }
    const fields = request.headers['content-type']?.startsWith('application/json')
      ? (JSON.parse(body) as Record<string, string>)
      : Object.fromEntries(new URLSearchParams(body));
    const service = (fields.text ?? '').split(/\s+/)[1] || 'everything';
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        text: `Build of **${service}** queued by @${fields.user_name} (signature verified, delivery ${request.headers['webhook-id']}).`,
        response_type: 'comment',
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host, resolve));
  return server;
}
