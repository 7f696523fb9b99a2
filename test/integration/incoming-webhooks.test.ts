import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { directChannelName } from '../../lib/store/keys.js';
import { seedWorld, startApi, type Api, type World } from '../support/harness.js';

/**
 * Mattermost's incoming-webhook cases (IW-01 to IW-42, numbered after the cases of Mattermost's own tests), black-box over HTTP
 * against the real handlers and DynamoDB Local.
 */
let api: Api;
let world: World;

beforeAll(async () => {
  api = await startApi();
  world = await seedWorld(api.runtime, (names) => ({
    incoming_webhooks: [
      { team: names.team, channel: 'town-square', creator: names.creator, display_name: 'locked', channel_locked: true },
      { team: names.team, channel: 'town-square', creator: names.other, display_name: 'by-other' },
      { team: names.team, channel: 'private', creator: names.creator, display_name: 'private-hook' },
    ],
  }));
});
afterAll(() => api.close());

const JSON_TYPE = { 'content-type': 'application/json' };
const FORM_TYPE = { 'content-type': 'application/x-www-form-urlencoded' };
const WANT_POSTS = { prefer: 'return=representation' };

async function post(api: Api, hookPath: string, body: unknown, headers: Record<string, string> = {}) {
  return api.request('POST', hookPath, {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { ...JSON_TYPE, ...WANT_POSTS, ...headers },
  });
}

async function readPost(api: Api, postId: string, token = world.user('creator').token) {
  const response = await api.request('GET', `/api/v4/posts/${postId}`, { headers: { authorization: `Bearer ${token}` } });
  expect(response.status).toBe(200);
  return response.json();
}

/** Posts through the hook and returns the stored posts it created. */
async function postAndRead(api: Api, hookPath: string, body: unknown, token?: string) {
  const response = await post(api, hookPath, body);
  expect(response.status, response.text).toBe(200);
  const { post_ids } = response.json<{ post_ids: string[] }>();
  return Promise.all(post_ids.map((id) => readPost(api, id, token)));
}

describe('body formats and media types', () => {
  it('IW-01 accepts a form payload and answers ok as text/plain', async () => {
    const response = await api.request('POST', world.hook('main').url, {
      body: `payload=${encodeURIComponent('{"text": "test text"}')}`,
      headers: FORM_TYPE,
    });
    expect(response.status).toBe(200);
    expect(response.text).toBe('ok');
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  });

  it('IW-02 refuses a form payload with empty text', async () => {
    const response = await api.request('POST', world.hook('main').url, { body: 'payload={"text": ""}', headers: FORM_TYPE });
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ id: 'web.incoming_webhook.text.app_error', status_code: 400 });
  });

  it('IW-03 answers 404 for an unknown channel override', async () => {
    const response = await api.request('POST', world.hook('main').url, {
      body: 'payload={"text": "test text", "channel": "junk"}',
      headers: FORM_TYPE,
    });
    expect(response.status).toBe(404);
    expect(response.json().id).toBe('web.incoming_webhook.channel.app_error');
  });

  it('IW-04 answers 400 invalid webhook for an unknown hook id', async () => {
    const response = await post(api, '/hooks/abc123', { text: 'hello' });
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('web.incoming_webhook.invalid.app_error');
  });

  it('IW-05 accepts JSON and stores the post as from_webhook', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, { text: 'this is a test' });
    expect(stored.message).toBe('this is a test');
    expect(stored.channel_id).toBe(world.channel('town-square').id);
    expect(stored.user_id).toBe(world.user('creator').id);
    expect(stored.props.from_webhook).toBe('true');
  });

  it('IW-06 accepts raw newlines and tabs inside JSON strings', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, '{"text":"this is a \\"test\\"\n\tthat contains a newline and a tab"}');
    expect(stored.message).toBe('this is a "test"\n\tthat contains a newline and a tab');
  });

  it('IW-08 and IW-09 parse the media type case-insensitively and with parameters', async () => {
    for (const contentType of [
      'AppLicaTion/x-www-Form-urlencoded',
      'application/x-www-form-urlencoded;charset=utf-8',
      'application/x-www-form-urlencoded; charset=utf-8',
    ]) {
      const response = await api.request('POST', world.hook('main').url, {
        body: 'payload={"text":"typed"}',
        headers: { 'content-type': contentType },
      });
      expect(response.status, contentType).toBe(200);
    }
  });

  it('IW-10 refuses a malformed media type', async () => {
    const response = await api.request('POST', world.hook('main').url, {
      body: 'payload={"text":"x"}',
      headers: { 'content-type': 'application/x-www-form-urlencoded wrongtext' },
    });
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('api.webhook.incoming.error');
  });

  it('IW-11 stores 8200 characters as exactly one post', async () => {
    const posts = await postAndRead(api, world.hook('main').url, { text: 'a'.repeat(8200) });
    expect(posts).toHaveLength(1);
    expect(posts[0].message).toHaveLength(8200);
  });

  it('IW-12 refuses a form request whose body is raw JSON', async () => {
    const response = await api.request('POST', world.hook('main').url, { body: `{"text":"${'a'.repeat(8200)}"}`, headers: FORM_TYPE });
    expect(response.status).toBe(400);
  });

  it('IW-13 refuses a JSON request whose body is a form payload', async () => {
    const response = await api.request('POST', world.hook('main').url, { body: 'payload={"text":"x"}', headers: JSON_TYPE });
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('model.incoming_hook.parse_data.app_error');
  });

  it('IW-14 accepts multipart form fields', async () => {
    const boundary = '----WebKitFormBoundary7MA4YWxkTrZu0gW';
    const body = [
      `--${boundary}`,
      'Content-Disposition: form-data; name="username"',
      '',
      'webhook-bot',
      `--${boundary}`,
      'Content-Disposition: form-data; name="text"',
      '',
      'this is a test :tada:',
      `--${boundary}--`,
      '',
    ].join('\r\n');
    const response = await api.request('POST', world.hook('main').url, {
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...WANT_POSTS },
    });
    expect(response.status, response.text).toBe(200);
    const stored = await readPost(api, response.json().post_id);
    expect(stored.message).toBe('this is a test :tada:');
  });

  it('refuses multipart forms with unknown fields, as gorilla/schema does', async () => {
    const boundary = 'xyz';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="props"\r\n\r\n{}\r\n--${boundary}\r\nContent-Disposition: form-data; name="text"\r\n\r\nhi\r\n--${boundary}--\r\n`;
    const response = await api.request('POST', world.hook('main').url, {
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(response.status).toBe(400);
  });

  it('IW-15 refuses an unknown media type with a form body', async () => {
    const response = await api.request('POST', world.hook('main').url, { body: 'payload={"text":"x"}', headers: { 'content-type': 'mimetype/wrong' } });
    expect(response.status).toBe(400);
  });

  it('IW-16 reads JSON when no Content-Type is given', async () => {
    const response = await api.request('POST', world.hook('main').url, { body: Buffer.from('{"text":"no type"}') });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(response.status).toBe(200);
  });

  it('IW-37 ignores bytes after the first JSON value', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, '{"text":"a"} trailing-garbage');
    expect(stored.message).toBe('a');
  });

  it('IW-38 matches keys case-insensitively', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, '{"TEXT":"hi"}');
    expect(stored.message).toBe('hi');
  });
});

describe('hook and channel resolution', () => {
  it('IW-07 posts to a channel by name, by #name, and to a direct channel by @username', async () => {
    const [byName] = await postAndRead(api, world.hook('main').url, { text: 'to name', channel: 'off-topic' });
    expect(byName.channel_id).toBe(world.channel('off-topic').id);
    const [byHash] = await postAndRead(api, world.hook('main').url, { text: 'to hash', channel: '#off-topic' });
    expect(byHash.channel_id).toBe(world.channel('off-topic').id);

    const other = world.user('other');
    const [direct] = await postAndRead(api, world.hook('main').url, { text: 'to dm', channel: `@${other.username}` }, other.token);
    const dm = await api.runtime.entities.getChannelByName('', directChannelName(world.user('creator').id, other.id));
    expect(dm?.type).toBe('D');
    expect(direct.channel_id).toBe(dm?.id);
    // The direct channel is created once and reused.
    const [again] = await postAndRead(api, world.hook('main').url, { text: 'to dm again', channel: `@${other.username}` }, other.token);
    expect(again.channel_id).toBe(dm?.id);
  });

  it('IW-18 lets a locked hook post only to its own channel', async () => {
    const locked = world.hook('locked').url;
    expect((await post(api, locked, { text: 'own' })).status).toBe(200);
    expect((await post(api, locked, { text: 'own by name', channel: 'town-square' })).status).toBe(200);
    const refused = await post(api, locked, { text: 'elsewhere', channel: 'off-topic' });
    expect(refused.status).toBe(403);
    expect(refused.json().id).toBe('web.incoming_webhook.channel_locked.app_error');
  });

  it('IW-20 checks for empty text before looking up the hook', async () => {
    const response = await post(api, '/hooks/doesnotexist00000000000000', { text: '' });
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('web.incoming_webhook.text.app_error');
  });

  it('IW-21 reports unknown users and channels for a locked hook', async () => {
    const locked = world.hook('locked').url;
    const unknownUser = await post(api, locked, { text: 'x', channel: '@nonexistentuser' });
    expect(unknownUser.status).toBe(400);
    expect(unknownUser.json().id).toBe('web.incoming_webhook.user.app_error');
    const unknownChannel = await post(api, locked, { text: 'x', channel: '#nonexistentchannel' });
    expect(unknownChannel.status).toBe(404);
  });

  it('IW-18 also refuses a locked hook posting to a direct channel, creating no channel', async () => {
    const response = await post(api, world.hook('locked').url, { text: 'x', channel: `@${world.user('other').username}` });
    expect(response.status).toBe(403);
    // Nothing half-done: a refused request leaves no new direct channel behind.
    const target = world.user('outsider');
    const refused = await post(api, world.hook('locked').url, { text: 'x', channel: `@${target.username}` });
    expect(refused.status).toBe(403);
    expect(refused.json().id).toBe('web.incoming_webhook.channel_locked.app_error');
    expect(await api.runtime.entities.getChannelByName('', directChannelName(world.user('creator').id, target.id))).toBeUndefined();
  });

  it('IW-42 refuses a private channel its creator cannot read', async () => {
    const response = await post(api, world.hook('by-other').url, { text: 'x', channel: 'private' });
    expect(response.status).toBe(403);
    expect(response.json().id).toBe('web.incoming_webhook.permissions.app_error');
  });

  it('posts to a private channel its creator belongs to', async () => {
    const [stored] = await postAndRead(api, world.hook('private-hook').url, { text: 'secret' });
    expect(stored.channel_id).toBe(world.channel('private').id);
  });

  it('IW-41 treats hooks of an archived channel as deleted', async () => {
    const archivedWorld = await seedWorld(api.runtime);
    const hook = archivedWorld.hook('main').url;
    expect((await post(api, hook, { text: 'before' })).status).toBe(200);
    await api.runtime.entities.archiveChannel(archivedWorld.channel('town-square').id, Date.now());
    const fresh = await startApi(); // a new instance: no cached copy of the hook
    try {
      const response = await post(fresh, hook, { text: 'after' });
      expect(response.status).toBe(400);
      expect(response.json().id).toBe('web.incoming_webhook.invalid.app_error');
      const stored = await fresh.runtime.entities.getIncomingWebhook(archivedWorld.hook('main').id);
      expect(stored?.delete_at).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });
});

describe('Slack compatibility', () => {
  it('IW-17 stores a full Slack attachment, and one with long text', async () => {
    const attachment = {
      fallback: 'Required plain-text summary of the attachment.',
      color: '#36a64f',
      pretext: 'Optional text that appears above the attachment block',
      author_name: 'Bobby Tables',
      author_link: 'http://flickr.com/bobby/',
      author_icon: 'http://flickr.com/icons/bobby.jpg',
      title: 'Slack API Documentation',
      title_link: 'https://api.slack.com/',
      text: 'Optional text that appears within the attachment',
      fields: [{ title: 'Priority', value: 'High', short: false }],
      image_url: 'http://my-website.com/path/to/image.jpg',
      thumb_url: 'http://example.com/path/to/thumb.png',
    };
    const [stored] = await postAndRead(api, world.hook('main').url, { attachments: [attachment] });
    expect(stored.type).toBe('slack_attachment');
    expect(stored.props.attachments[0]).toMatchObject({ ...attachment, id: 0, footer: '', ts: null });
    const [long] = await postAndRead(api, world.hook('main').url, { attachments: [{ ...attachment, text: 'a'.repeat(8200) }] });
    expect(long.props.attachments[0].text).toHaveLength(8200);
  });

  it('IW-22 drops null attachments and null fields', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, {
      attachments: [{ fields: [{ title: 'foo', value: 'bar', short: true }, null] }, null],
    });
    expect(stored.props.attachments).toHaveLength(1);
    expect(stored.props.attachments[0].fields).toEqual([{ title: 'foo', value: 'bar', short: true }]);
  });

  it('IW-23 parses raw control characters in every escapable field', async () => {
    const texts = [
      'this is a test',
      'this is a test\n\t\t\tthat contains a newline and tabs',
      'this is a test \\"foo\n\t\t\tthat contains a newline and tabs',
    ];
    for (const raw of texts) {
      const body = `{"text":"${raw}","attachments":[{"fallback":"${raw}","pretext":"${raw}","author_name":"${raw}","title":"${raw}","text":"${raw}","fields":[{"title":"${raw}","value":"${raw}","short":false}]}]}`;
      const [stored] = await postAndRead(api, world.hook('main').url, body);
      const expected = raw.replaceAll('\\"', '"');
      expect(stored.message).toBe(expected);
      const attachment = stored.props.attachments[0];
      for (const field of ['fallback', 'pretext', 'author_name', 'title', 'text']) expect(attachment[field], field).toBe(expected);
      expect(attachment.fields[0]).toEqual({ title: expected, value: expected, short: false });
    }
  });

  it('IW-24 expands announcements and user-id mentions in text', async () => {
    const creator = world.user('creator');
    const cases: Array<[string, string]> = [
      ['<!channel> foo <!channel>', '@channel foo @channel'],
      ['<!here> bar <!here>', '@here bar @here'],
      ['<!all> bar <!all>', '@all bar @all'],
      [`<@${creator.id}> hello`, `@${creator.username} hello`],
      ['<@unknownuserid> hello', '<@unknownuserid> hello'],
    ];
    for (const [text, expected] of cases) {
      const [stored] = await postAndRead(api, world.hook('main').url, { text });
      expect(stored.message).toBe(expected);
    }
  });

  it('IW-25 expands announcements and mentions inside attachments', async () => {
    const creator = world.user('creator');
    const [stored] = await postAndRead(api, world.hook('main').url, {
      attachments: [
        {
          pretext: '<!channel> pretext <!here>',
          text: '<!channel> text <!here>',
          title: '<!channel> title <!here>',
          fields: [{ title: 'foo', value: '<!channel> bar <!here>', short: true }],
        },
        { pretext: `<@${creator.id}> pretext`, text: `<@${creator.id}> text`, title: `<@${creator.id}> title` },
      ],
    });
    const [first, second] = stored.props.attachments;
    expect(first.pretext).toBe('@channel pretext @here');
    expect(first.text).toBe('@channel text @here');
    expect(first.title).toBe('@channel title @here');
    expect(first.fields[0].value).toBe('@channel bar @here');
    expect(second.pretext).toBe(`@${creator.username} pretext`);
    expect(second.title).toBe(`@${creator.username} title`);
  });

  it('IW-26 converts Slack links and leaves look-alikes alone', async () => {
    const [link] = await postAndRead(api, world.hook('main').url, { text: '<https://mattermost.com|Mattermost>' });
    expect(link.message).toBe('[Mattermost](https://mattermost.com)');
    const code = '`if(status_int < QUERY_UNKNOWN || status_int >= QUERY_STATUS_MAX)`';
    const [unchanged] = await postAndRead(api, world.hook('main').url, { text: code });
    expect(unchanged.message).toBe(code);
  });

  it('IW-27 leaves texts with angle brackets and pipes unchanged', async () => {
    const gitLog = 'commit 1234\nAuthor: Foo Bar <foo@example.org>\nDate: today\n\n    message | with pipe\n\n file.go | 2 +-';
    for (const text of ['`<>|<>|`', '< | \n|\n>', gitLog]) {
      const [stored] = await postAndRead(api, world.hook('main').url, { text });
      expect(stored.message).toBe(text);
    }
  });

  it('IW-39 stringifies field values as Go prints them', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, {
      attachments: [{ fields: [{ title: 'n', value: 42 }, { title: 'l', value: [] }, { title: 'f', value: 1.5 }, { title: 'b', value: true }, { title: 'm', value: { a: 1 } }, { title: 'big', value: 1000000 }] }],
    });
    expect(stored.props.attachments[0].fields.map((field: { value: unknown }) => field.value)).toEqual([
      '42',
      '[]',
      '1.5',
      'true',
      'map[a:1]',
      '1e+06',
    ]);
  });

  it('IW-40 accepts Slack booleans and refuses other strings', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, { attachments: [{ fields: [{ title: 'x', value: 'y', short: 'TRUE' }] }] });
    expect(stored.props.attachments[0].fields[0].short).toBe(true);
    const refused = await post(api, world.hook('main').url, { attachments: [{ fields: [{ title: 'x', value: 'y', short: 'yes' }] }] });
    expect(refused.status).toBe(400);
  });
});

describe('post rules', () => {
  it('IW-28 refuses system_ post types', async () => {
    const response = await post(api, world.hook('main').url, { text: 'x', type: 'system_generic' });
    expect(response.status).toBe(400);
    expect(response.json().id).toBe('api.context.invalid_param.app_error');
  });

  it('IW-29 records from_webhook, the hook display name and attachments, forcing the attachment type', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, { text: 'x', type: 'custom_type', attachments: [{ text: 'att' }] });
    expect(stored.props.from_webhook).toBe('true');
    expect(stored.props.webhook_display_name).toBe('main');
    expect(stored.props.attachments[0].text).toBe('att');
    expect(stored.type).toBe('slack_attachment');
    const [plain] = await postAndRead(api, world.hook('main').url, { text: 'x', type: 'custom_type' });
    expect(plain.type).toBe('custom_type');
  });

  it('IW-31 keeps server-owned props from being spoofed', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, {
      text: 'x',
      props: { from_webhook: 'false', override_username: 'evil', webhook_display_name: 'evil', k: 'v', attachments: [{ text: 'raw' }] },
    });
    expect(stored.props.from_webhook).toBe('true');
    expect(stored.props.override_username).toBeUndefined();
    expect(stored.props.webhook_display_name).toBe('main');
    expect(stored.props.k).toBe('v');
    // Raw props.attachments are dropped; only top-level attachments count.
    expect(stored.props.attachments).toBeUndefined();
    expect(stored.type).toBe('');
  });

  it('IW-32 records priority and refuses one without a priority key', async () => {
    const [stored] = await postAndRead(api, world.hook('main').url, {
      text: 'urgent',
      priority: { priority: 'urgent', requested_ack: false, persistent_notifications: true },
    });
    expect(stored.metadata.priority).toEqual({ priority: 'urgent', requested_ack: false, persistent_notifications: true });
    const refused = await post(api, world.hook('main').url, { text: 'x', priority: { requested_ack: true } });
    expect(refused.status).toBe(400);
    expect(refused.json().id).toBe('api.context.invalid_param.app_error');
  });

  it('IW-33 splits long text into posts of 16383 runes', async () => {
    const posts = await postAndRead(api, world.hook('main').url, { text: 'a'.repeat(20_000) });
    expect(posts.map((stored) => stored.message.length)).toEqual([16_383, 3_617]);
    // In order when read back, newest first.
    const list = await api.request('GET', `/api/v4/channels/${world.channel('town-square').id}/posts?per_page=2`, {
      headers: { authorization: `Bearer ${world.user('creator').token}` },
    });
    expect(list.json().order).toEqual([posts[1].id, posts[0].id]);
  });

  it('splits by runes, not UTF-16 units', async () => {
    const posts = await postAndRead(api, world.hook('main').url, { text: '😀'.repeat(16_384) });
    expect(posts.map((stored) => [...stored.message].length)).toEqual([16_383, 1]);
  });

  it('IW-35 refuses props too large to split', async () => {
    const roomy = await startApi({ MAXIMUM_PAYLOAD_SIZE_BYTES: '2000000' });
    try {
      const response = await post(roomy, world.hook('main').url, { text: 'x', props: { foo: 'x'.repeat(1_520_000) } });
      expect(response.status).toBe(400);
      expect(response.json().id).toBe('web.incoming_webhook.split_props_length.app_error');
    } finally {
      await roomy.close();
    }
  });

  it('IW-36 needs text or attachments; empty attachments and props.attachments do not count', async () => {
    for (const body of [{ text: '', attachments: [] }, { attachments: [null] }, { props: { attachments: [{ text: 'x' }] } }, {}]) {
      const response = await post(api, world.hook('main').url, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.json().id).toBe('web.incoming_webhook.text.app_error');
    }
  });

  it('replies in a thread with root_id, only to a root post of the same channel', async () => {
    const [root] = await postAndRead(api, world.hook('main').url, { text: 'root' });
    const [reply] = await postAndRead(api, world.hook('main').url, { text: 'reply', root_id: root.id });
    expect(reply.root_id).toBe(root.id);
    const toReply = await post(api, world.hook('main').url, { text: 'nested', root_id: reply.id });
    expect(toReply.status).toBe(400);
    expect(toReply.json().id).toBe('api.post.create_post.root_id.app_error');
    const otherChannel = await post(api, world.hook('main').url, { text: 'x', root_id: root.id, channel: 'off-topic' });
    expect(otherChannel.status).toBe(400);
    const unknown = await post(api, world.hook('main').url, { text: 'x', root_id: 'a'.repeat(26) });
    expect(unknown.status).toBe(400);
  });

  it('answers with the created post ids on request, and ok otherwise', async () => {
    const withIds = await post(api, world.hook('main').url, { text: 'a'.repeat(20_000) });
    expect(withIds.headers.get('content-type')).toMatch(/^application\/json/);
    expect(withIds.headers.get('preference-applied')).toBe('return=representation');
    const body = withIds.json();
    expect(body.post_ids).toHaveLength(2);
    expect(body.post_id).toBe(body.post_ids[0]);
    const plain = await api.request('POST', world.hook('main').url, { body: '{"text":"x"}', headers: JSON_TYPE });
    expect(plain.text).toBe('ok');
    const configured = await startApi({ INCOMING_WEBHOOK_RETURN_POSTS: 'true' });
    try {
      const response = await configured.request('POST', world.hook('main').url, { body: '{"text":"x"}', headers: JSON_TYPE });
      expect(response.json().post_ids).toHaveLength(1);
    } finally {
      await configured.close();
    }
  });
});

describe('configuration switches', () => {
  it('IW-19 answers 501 when incoming webhooks are disabled, after parsing the body', async () => {
    const disabled = await startApi({ ENABLE_INCOMING_WEBHOOKS: 'false' });
    try {
      const response = await post(disabled, world.hook('main').url, { text: 'x' });
      expect(response.status).toBe(501);
      expect(response.json().id).toBe('web.incoming_webhook.disabled.app_error');
      // Mattermost parses first: a malformed body is still a 400.
      expect((await post(disabled, world.hook('main').url, '{"text":')).status).toBe(400);
    } finally {
      await disabled.close();
    }
  });

  it('IW-30 gates username and icon overrides on configuration', async () => {
    const hookWorld = await seedWorld(api.runtime, (names) => ({
      incoming_webhooks: [{ team: names.team, channel: 'town-square', creator: names.creator, display_name: 'named', username: 'h', icon_url: 'http://hook/icon' }],
    }));
    const [off] = await postAndRead(api, hookWorld.hook('main').url, { text: 'x', username: 'x', icon_url: 'http://x/icon' }, hookWorld.user('creator').token);
    expect(off.props.override_username).toBeUndefined();
    expect(off.props.override_icon_url).toBeUndefined();

    const on = await startApi({ ENABLE_POST_USERNAME_OVERRIDE: 'true', ENABLE_POST_ICON_OVERRIDE: 'true' });
    try {
      const token = hookWorld.user('creator').token;
      const [fallback] = await postAndRead(on, hookWorld.hook('main').url, { text: 'x' }, token);
      expect(fallback.props.override_username).toBe('webhook');
      const [fromRequest] = await postAndRead(on, hookWorld.hook('named').url, { text: 'x', username: 'x', icon_url: 'http://x/icon' }, token);
      expect(fromRequest.props.override_username).toBe('x');
      expect(fromRequest.props.override_icon_url).toBe('http://x/icon');
      const [fromHook] = await postAndRead(on, hookWorld.hook('named').url, { text: 'x' }, token);
      expect(fromHook.props.override_username).toBe('h');
      expect(fromHook.props.override_icon_url).toBe('http://hook/icon');
      const [emoji] = await postAndRead(on, hookWorld.hook('main').url, { text: 'x', icon_emoji: 'basketball' }, token);
      expect(emoji.props.override_icon_emoji).toBe('basketball');
      // Rendered on read, as Mattermost's PreparePostForClient does; colons and case do not matter.
      expect(emoji.props.override_icon_url).toBe('/static/emoji/1f3c0.png');
      const [colons] = await postAndRead(on, hookWorld.hook('main').url, { text: 'x', icon_emoji: ':Basketball:', icon_url: 'http://x/icon' }, token);
      expect(colons.props.override_icon_url).toBe('/static/emoji/1f3c0.png');
      const [unknown] = await postAndRead(on, hookWorld.hook('main').url, { text: 'x', icon_emoji: 'no-such-emoji', icon_url: 'http://x/icon' }, token);
      expect(unknown.props.override_icon_url).toBe('http://x/icon');
      // With icon overrides off, both props come back as stored.
      expect((await readPost(api, colons.id, token)).props.override_icon_url).toBe('http://x/icon');
    } finally {
      await on.close();
    }
  });
});

describe('per-hook rate limit', () => {
  it('answers 429 limit exceeded with Retry-After past the burst, with the X-RateLimit headers on every answer', async () => {
    const limited = await startApi({ INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '1', INCOMING_WEBHOOK_RATE_LIMIT_BURST: '3' });
    try {
      const hookWorld = await seedWorld(limited.runtime);
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await post(limited, hookWorld.hook('main').url, { text: `burst ${i}` }));
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
      expect(answers[0]!.headers.get('x-ratelimit-limit')).toBe('3');
      expect(answers[2]!.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(answers[3]!.text).toBe('limit exceeded');
      expect(Number(answers[3]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another hook has its own limit; an unknown hook gets no bucket and Mattermost's 400.
      const unknown = await post(limited, '/hooks/doesnotexist00000000000000', { text: 'x' });
      expect(unknown.status).toBe(400);
      expect(unknown.headers.get('x-ratelimit-limit')).toBeNull();
    } finally {
      await limited.close();
    }
  });

  it('is off with INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND=0', async () => {
    const unlimited = await startApi({ INCOMING_WEBHOOK_RATE_LIMIT_PER_SECOND: '0', INCOMING_WEBHOOK_RATE_LIMIT_BURST: '1' });
    try {
      const hookWorld = await seedWorld(unlimited.runtime);
      for (let i = 0; i < 3; i++) expect((await post(unlimited, hookWorld.hook('main').url, { text: `free ${i}` })).status).toBe(200);
    } finally {
      await unlimited.close();
    }
  });
});
