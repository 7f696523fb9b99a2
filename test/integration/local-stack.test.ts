import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/stack.js';
import { projectRoot } from '../../infra/local/serverless-definition.js';

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

async function start(port: number): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('npm', ['start'], {
    cwd: projectRoot,
    env: { ...process.env, PORT: String(port), HOOKLINE_DATA_DIR: dataDir },
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
    const posted = await fetch(hookUrl!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"survives restarts"}' });
    expect(await posted.text()).toBe('ok');

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
    await expect(fetch(dynamoEndpoint!, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${port}/api/v4/system/ping`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();

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
});
