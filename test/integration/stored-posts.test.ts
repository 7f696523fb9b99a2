import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lib/store/dynamo.js';
import { keys } from '../../lib/store/keys.js';
import { withApiAndWorlds, type Api, type World } from '../support/harness.js';

/**
 * Posts stored before the write caps (or written by hand) can hold props no read can handle:
 * nesting thousands of levels deep, JSON that does not parse, gzip that does not inflate. Reading
 * their channel, the post itself and `since` must still answer 200, with such props read as {}.
 */
let api: Api;
let world: World;

withApiAndWorlds(1, (started, [seeded]) => ([api, world] = [started, seeded!]));

const auth = () => ({ authorization: `Bearer ${world.user('creator').token}` });

function nested(levels: number): string {
  return `{"deep":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;
}

/** Posts through the hook, then rewrites the stored item's attributes directly in the posts table. */
async function storeBroken(text: string, attributes: Record<string, unknown>, removed: string[] = []): Promise<string> {
  const response = await api.postJson(world.hook('main').url, { text, props: { kept: 'yes' } }, { prefer: 'return=representation' });
  expect(response.status).toBe(200);
  const postId = response.json().post_id as string;
  const db = documentClient({ endpoint: api.runtime.config.dynamodbEndpoint, region: api.runtime.config.region });
  const table = api.runtime.config.tables.posts;
  const { Item } = await db.send(new GetCommand({ TableName: table, Key: keys.post(postId) }));
  expect(Item).toBeDefined();
  const item: Record<string, unknown> = { ...Item, ...attributes };
  for (const name of removed) delete item[name];
  await db.send(new PutCommand({ TableName: table, Item: item }));
  return postId;
}

describe('reads survive unreadable stored posts', () => {
  let sinceMs: number;
  const broken: Record<string, string> = {};
  let healthy: string;

  beforeAll(async () => {
    sinceMs = Date.now() - 1;
    broken.deep = await storeBroken('deep props', { props_json: nested(4_000) });
    broken.deeper = await storeBroken('deeper props', { props_json: nested(50_000) });
    broken.unparsable = await storeBroken('bad JSON', { props_json: '{"a":' });
    broken.notObject = await storeBroken('props not an object', { props_json: '[1,2]' });
    broken.badGzip = await storeBroken('bad gzip', { props_gz: Buffer.from('not gzip at all') }, ['props_json']);
    broken.badMetadata = await storeBroken('bad metadata', { metadata_json: '{{' });
    const response = await api.postJson(world.hook('main').url, { text: 'healthy', props: { kept: 'yes' } }, { prefer: 'return=representation' });
    healthy = response.json().post_id;
  });

  it('lists the channel with the unreadable props read as {}', async () => {
    const response = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?per_page=200`, { headers: auth() });
    expect(response.status).toBe(200);
    const list = response.json();
    for (const name of ['deep', 'deeper', 'unparsable', 'notObject', 'badGzip']) {
      expect(list.order).toContain(broken[name]);
      expect(list.posts[broken[name]!].props).toEqual({});
    }
    expect(list.posts[broken.badMetadata!]).toMatchObject({ metadata: {}, props: { kept: 'yes' } });
    expect(list.posts[healthy].props).toMatchObject({ kept: 'yes', from_webhook: 'true' });
  });

  it('reads each post and the changes since before them', async () => {
    for (const postId of Object.values(broken)) {
      const response = await api.request('GET', `/api/v4/posts/${postId}`, { headers: auth() });
      expect(response.status).toBe(200);
      expect(response.json().id).toBe(postId);
    }
    const since = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?since=${sinceMs}`, { headers: auth() });
    expect(since.status).toBe(200);
    expect(since.json().order).toEqual(expect.arrayContaining([...Object.values(broken), healthy]));
  });
});

describe('writes refuse what reads could not handle', () => {
  it('refuses props nested past the cap on every JSON route with a 400', async () => {
    const deep = nested(4_000);
    const channelId = world.channel('town-square').id;
    const hook = await api.request('POST', world.hook('main').url, { body: `{"text":"x","props":${deep}}`, headers: { 'content-type': 'application/json' } });
    expect(hook.status).toBe(400);
    const post = await api.request('POST', '/api/v4/posts', { body: `{"channel_id":"${channelId}","message":"x","props":${deep}}`, headers: auth() });
    expect(post.status).toBe(400);
    const shallow = await api.request('POST', '/api/v4/posts', { body: `{"channel_id":"${channelId}","message":"x","props":${nested(40)}}`, headers: auth() });
    expect(shallow.status).toBe(201);
  });
});
