import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/stack.js';
import { projectRoot } from '../../infra/local/serverless-definition.js';
import { startCallbackServer } from '../support/callback-server.js';

/**
 * `npm start` as a user runs it: the stack comes up with the demo seed, serves the API, stops every
 * process on Ctrl-C (SIGINT), and keeps its data across a restart.
 */
const dataDir = mkdtempSync(path.join(tmpdir(), 'hookline-start-'));
const running: ChildProcess[] = [];

afterAll(() => {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** The demo integration's port per API port: its default (PORT + 1) is not checked free, and another process may hold it. */
const demoIntegrationPorts = new Map<number, number>();

async function start(port: number, directory = dataDir): Promise<{ child: ChildProcess; output: () => string }> {
  // A restart keeps it, as the demo seed's stored URLs name it.
  const demoIntegrationPort = demoIntegrationPorts.get(port) ?? (await freePort());
  demoIntegrationPorts.set(port, demoIntegrationPort);
  const child = spawn('npm', ['start'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: String(port), DEMO_INTEGRATION_PORT: String(demoIntegrationPort), HOOKLINE_DATA_DIR: directory },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a terminal's foreground job, so Ctrl-C can be sent to the group.
    detached: true,
  });
  running.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 90_000;
  while (!output.includes('Hookline is running')) {
    if (child.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`npm start did not come up:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return { child, output: () => output };
}

async function stop(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Ctrl-C in a terminal signals the whole foreground process group.
  process.kill(-child.pid!, 'SIGINT');
  return exited;
}

describe('npm start', () => {
  it('serves the demo, stops everything on Ctrl-C, and keeps data across a restart', async () => {
    const port = await freePort();
    const first = await start(port);
    const text = first.output();
    const hookUrl = /CI\s+(http:\/\/\S+\/hooks\/[a-z0-9]{26})/.exec(text)?.[1];
    const token = /Demo user token \(alice\): (\S+)/.exec(text)?.[1];
    const channelsUrl = /(http:\/\/\S+\/api\/v4\/channels\/[a-z0-9]{26}\/posts)/.exec(text)?.[1];
    const dynamoEndpoint = /DynamoDB Local\s+(http:\/\/\S+)/.exec(text)?.[1];
    expect(hookUrl && token && channelsUrl && dynamoEndpoint, text).toBeTruthy();

    expect((await fetch(`http://127.0.0.1:${port}/api/v4/system/ping`)).status).toBe(200);
    // Live events on the printed websocket URL, the API's own port: alice hears of the hook's post.
    const websocketUrl = /Live events\s+(ws:\/\/\S+)/.exec(text)?.[1];
    expect(websocketUrl).toBe(`ws://127.0.0.1:${port}/api/v4/websocket`);
    const socket = new WebSocket(websocketUrl!);
    const events: Array<{ event?: string; data?: { post?: string } }> = [];
    socket.onmessage = (message) => events.push(JSON.parse(String(message.data)));
    await new Promise((resolve) => (socket.onopen = resolve));
    socket.send(JSON.stringify({ seq: 1, action: 'authentication_challenge', data: { token } }));
    const until = async (predicate: () => boolean) => {
      const limit = Date.now() + 10_000;
      while (!predicate() && Date.now() < limit) await new Promise((resolve) => setTimeout(resolve, 50));
      return predicate();
    };
    expect(await until(() => events.some((event) => event.event === 'hello'))).toBe(true);
    const posted = await fetch(hookUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"survives restarts"}' });
    expect(await posted.text()).toBe('ok');
    expect(await until(() => events.some((event) => event.event === 'posted' && JSON.parse(event.data!.post!).message === 'survives restarts'))).toBe(true);
    await new Promise((resolve) => ((socket.onclose = resolve), socket.close()));

    // The whole outgoing loop: alice says "build api", the demo integration answers in the thread.
    const channelId = /channels\/([a-z0-9]{26})\/posts/.exec(channelsUrl!)![1];
    const build = await fetch(`http://127.0.0.1:${port}/api/v4/posts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel_id: channelId, message: 'build api' }),
    });
    const buildPost = (await build.json()) as { id: string };
    const deadline = Date.now() + 15_000;
    let reply: { message: string; root_id: string; id: string } | undefined;
    while (!reply && Date.now() < deadline) {
      const list = (await (await fetch(channelsUrl!, { headers: { authorization: `Bearer ${token}` } })).json()) as { posts: Record<string, { message: string; root_id: string; id: string }> };
      reply = Object.values(list.posts).find((post) => post.root_id === buildPost.id);
      if (!reply) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(reply?.message).toMatch(/Build of \*\*api\*\* queued by @alice \(signature verified/);

    // Its buttons call the demo integration, which updates the post.
    const replyId = reply!.id;
    const clicked = await fetch(`http://127.0.0.1:${port}/api/v4/posts/${replyId}/actions/environment`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ selected_option: 'staging' }),
    });
    expect(clicked.status).toBe(200);
    const updated = (await (await fetch(`http://127.0.0.1:${port}/api/v4/posts/${replyId}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { message: string };
    expect(updated.message).toBe('Build of **api** sent to staging by @alice.');

    // The demo slash command: an ephemeral answer at once, then one in the channel via response_url.
    const executed = await fetch(`http://127.0.0.1:${port}/api/v4/commands/execute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel_id: channelId, command: '/deploy web' }),
    });
    expect(((await executed.json()) as { text: string }).text).toMatch(/Deploying \*\*web\*\*/);
    let deployed: { message: string } | undefined;
    while (!deployed && Date.now() < deadline + 15_000) {
      const list = (await (await fetch(channelsUrl!, { headers: { authorization: `Bearer ${token}` } })).json()) as { posts: Record<string, { message: string }> };
      deployed = Object.values(list.posts).find((post) => post.message.includes('**web** deployed by @alice'));
      if (!deployed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(deployed).toBeDefined();

    // The child runs npm, which runs tsx, which runs the stack; SIGINT to npm must stop all of them.
    await stop(first.child);
    // Every process it started is gone: its process group (npm, tsx, the stack, DynamoDB Local's
    // JVM) is empty. Not checked through the ports: once freed, another test running beside this
    // one may be given the same port number, and answer on it.
    const groupAlive = () => {
      try {
        process.kill(-first.child.pid!, 0);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
        throw error;
      }
    };
    const groupDeadline = Date.now() + 10_000;
    while (groupAlive() && Date.now() < groupDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(groupAlive()).toBe(false);

    const second = await start(port);
    try {
      expect(second.output()).toContain(hookUrl!);
      const list = (await (await fetch(channelsUrl!, { headers: { authorization: `Bearer ${token}` } })).json()) as { posts: Record<string, { message: string }> };
      const messages = Object.values(list.posts).map((post) => post.message);
      expect(messages).toContain('survives restarts');
    } finally {
      await stop(second.child);
    }
  }, 240_000);

  it('loses no queued delivery to a kill -9: what was queued or in flight is delivered after the restart', async () => {
    const port = await freePort();
    const directory = mkdtempSync(path.join(tmpdir(), 'hookline-kill-'));
    // While the stack runs the first time, the integration never answers: deliveries stay in flight
    // (received, invisible for the queue's 180 s) or queued behind them.
    let answering = false;
    const callbacks = await startCallbackServer((_request, _index, response) => {
      if (answering) response.end('{}');
    });
    const posts = 30;
    try {
      const first = await start(port, directory);
      const seedFile = path.join(directory, 'durable.yaml');
      writeFileSync(
        seedFile,
        `teams: [{ name: durable }]
channels: [{ team: durable, name: town-square }]
users: [{ username: durabot, token: durabottoken0000000000000000000000, teams: [durable], channels: [durable/town-square] }]
outgoing_webhooks:
  - { team: durable, channel: town-square, creator: durabot, trigger_words: [load], callback_urls: ['${callbacks.url}/load'], content_type: application/json }
`,
      );
      const seeded = await runCommand(['tsx', 'infra/seed/cli.ts', seedFile], { HOOKLINE_DATA_DIR: directory });
      const channelId = (JSON.parse(seeded) as { channels: Array<{ id: string }> }).channels[0]!.id;
      const postIds: string[] = [];
      for (let i = 0; i < posts; i++) {
        const response = await fetch(`http://127.0.0.1:${port}/api/v4/posts`, {
          method: 'POST',
          headers: { authorization: 'Bearer durabottoken0000000000000000000000', 'content-type': 'application/json' },
          body: JSON.stringify({ channel_id: channelId, message: `load ${i}` }),
        });
        expect(response.status).toBe(201);
        postIds.push(((await response.json()) as { id: string }).id);
      }
      await callbacks.waitFor(1, 15_000);
      // Give the dispatcher time to enqueue every post, then kill everything without warning.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const killed = new Promise((resolve) => first.child.once('exit', resolve));
      process.kill(-first.child.pid!, 'SIGKILL');
      await killed;

      answering = true;
      const restartedAt = Date.now();
      const second = await start(port, directory);
      try {
        const delivered = new Set<string>();
        const deadline = Date.now() + 60_000;
        while (delivered.size < posts && Date.now() < deadline) {
          for (const request of callbacks.received) delivered.add((JSON.parse(request.body) as { post_id: string }).post_id);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(postIds.filter((id) => !delivered.has(id))).toEqual([]);
        // Within a minute of the restart, not after the queue's visibility timeout.
        expect(Date.now() - restartedAt).toBeLessThan(60_000);
      } finally {
        await stop(second.child);
      }
    } finally {
      await callbacks.close();
    }
  }, 240_000);
});

/** Runs `npx ARGS` in the project with extra environment; resolves with its stdout. */
function runCommand(args: string[], env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('npx', args, { cwd: projectRoot, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
    ),
  );
}
