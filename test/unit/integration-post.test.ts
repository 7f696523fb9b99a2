import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integrationPost, type IntegrationReply, type ReplyPath } from '../../lib/posts/integration-post.js';
import { buildPost, RESERVED_PROPS } from '../../lib/posts/rules.js';
import { decodeAttachments } from '../../lib/slack.js';
import { value } from '../support/fuzz-inputs.js';

const allowed = { enablePostUsernameOverride: true, enablePostIconOverride: true };
const forbidden = { enablePostUsernameOverride: false, enablePostIconOverride: false };
const posing = { from_webhook: 'false', override_username: 'evil', override_icon_url: 'evil', override_icon_emoji: 'evil', webhook_display_name: 'evil' };
const reply = (overrides: Partial<IntegrationReply> = {}): IntegrationReply => ({ text: '', type: '', props: {}, attachments: null, ...overrides });
const webhook = (overrides: Partial<Extract<ReplyPath, { path: 'webhook' }>> = {}): ReplyPath => ({
  path: 'webhook',
  overrides: { username: '', iconUrl: '', iconEmoji: '' },
  displayName: 'Builds',
  priority: null,
  origin: { kind: 'incoming_webhook', id: 'hook1' },
  ...overrides,
});
const command = (username = '', iconUrl = '', skipSlackParsing = false): ReplyPath => ({
  path: 'command',
  overrides: { username, iconUrl },
  skipSlackParsing,
  origin: { kind: 'command', id: 'cmd1' },
});
const post = (props: Record<string, unknown>, message = 'old') =>
  buildPost({ userId: 'u1', channelId: 'c1', rootId: '', message, type: 'custom_kind', props, origin: { kind: 'user', id: 'u1' } }, 1);

describe('integrationPost, new posts (CreateWebhookPost, HandleCommandResponsePost)', () => {
  it('sets the server-owned props itself, whatever the reply sends under their names', () => {
    const fromHook = integrationPost(allowed, reply({ props: { ...posing, k: 'v' } }), webhook({ overrides: { username: 'ci', iconUrl: 'https://i/x.png', iconEmoji: 'tada' } }));
    expect(fromHook.props).toEqual({ k: 'v', from_webhook: 'true', override_username: 'ci', override_icon_url: 'https://i/x.png', override_icon_emoji: 'tada', webhook_display_name: 'Builds' });
    const fromCommand = integrationPost(allowed, reply({ props: { ...posing, k: 'v' } }), command('deployer', 'https://i/d.png'));
    expect(fromCommand.props).toEqual({ k: 'v', from_webhook: 'true', override_username: 'deployer', override_icon_url: 'https://i/d.png' });
  });

  it('gives the overrides as configuration allows and as each path defaults them', () => {
    expect(integrationPost(forbidden, reply(), webhook({ overrides: { username: 'ci', iconUrl: 'x', iconEmoji: 'y' } })).props).toEqual({ from_webhook: 'true', webhook_display_name: 'Builds' });
    // A webhook posts as `webhook` when it names nobody, and sets icons only when given.
    expect(integrationPost(allowed, reply(), webhook()).props).toEqual({ from_webhook: 'true', override_username: 'webhook', webhook_display_name: 'Builds' });
    // A command sets no username when it has none, and always the icon URL, empty when it has none.
    expect(integrationPost(allowed, reply(), command()).props).toEqual({ from_webhook: 'true', override_icon_url: '' });
  });

  it('stores typed attachments as props, making an untyped post slack_attachment; a raw props.attachments only a command keeps', () => {
    const attachments = decodeAttachments([{ text: 'see <https://x.io|x>', actions: [{ name: 'Go', integration: { url: 'https://i/go' } }] }])!;
    const mapped = integrationPost(allowed, reply({ attachments: structuredClone(attachments) }), webhook());
    expect(mapped.type).toBe('slack_attachment');
    const [stored] = mapped.props.attachments as Array<{ text: string; actions: Array<{ id: string }> }>;
    expect(stored!.text).toBe('see [x](https://x.io)');
    expect(stored!.actions[0]!.id).toMatch(/^[a-z0-9]{26}$/);
    expect(integrationPost(allowed, reply({ type: 'custom_kind', attachments: structuredClone(attachments) }), command()).type).toBe('custom_kind');

    const raw = [{ text: 'raw' }];
    expect(integrationPost(allowed, reply({ props: { attachments: raw } }), webhook()).props.attachments).toBeUndefined();
    expect(integrationPost(allowed, reply({ props: { attachments: raw } }), command()).props.attachments).toEqual(raw);
  });

  it('refuses a system type and a priority without its level; keeps priority and origin', () => {
    expect(() => integrationPost(allowed, reply({ type: 'system_join_channel' }), webhook())).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => integrationPost(allowed, reply({ type: 'system_join_channel' }), command())).toThrow(expect.objectContaining({ statusCode: 400 }));
    expect(() => integrationPost(allowed, reply(), webhook({ priority: { requested_ack: true } }))).toThrow(/webhook\.priority\.priority/);
    const urgent = integrationPost(allowed, reply(), webhook({ priority: { priority: 'urgent' } }));
    expect(urgent).toMatchObject({ metadata: { priority: { priority: 'urgent' } }, origin: { kind: 'incoming_webhook', id: 'hook1' } });
    expect(integrationPost(allowed, reply(), command()).metadata).toBeUndefined();
  });

  it("converts links with each path's pattern, and not when the command says skip_slack_parsing", () => {
    const text = 'a <https://x.io|x> b';
    expect(integrationPost(allowed, reply({ text }), webhook()).message).toBe('a [x](https://x.io) b');
    expect(integrationPost(allowed, reply({ text }), command()).message).toBe('a [x](https://x.io) b');
    expect(integrationPost(allowed, reply({ text }), command('', '', true)).message).toBe(text);
    // The webhook pattern stops at a newline inside the link; the model's does not.
    const multiline = '<https://x.io|two\nlines>';
    expect(integrationPost(allowed, reply({ text: multiline }), webhook()).message).toBe(multiline);
    expect(integrationPost(allowed, reply({ text: multiline }), command()).message).toBe('[two\nlines](https://x.io)');
  });

  it('never takes a server-owned prop from any reply props', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...RESERVED_PROPS, 'k', 'attachments'), value, { maxKeys: 7 }), fc.boolean(), (props, viaCommand) => {
        const mapped = integrationPost(allowed, reply({ props }), viaCommand ? command() : webhook());
        for (const key of RESERVED_PROPS) {
          if (mapped.props[key] !== undefined) expect(['true', 'webhook', '', 'Builds']).toContain(mapped.props[key]);
        }
      }),
    );
  });
});

describe('integrationPost, action answers (DoPostActionWithCookie)', () => {
  it("keeps the retained props of the post and lets an update change no other server-owned prop of a user's post", () => {
    const usersPost = post({ keep: 'me' });
    const mapped = integrationPost(allowed, reply({ text: 'new <https://x.io|x>', type: 'ignored', props: { ...posing, A: 'AA' } }), { path: 'action_update', original: usersPost });
    expect(mapped).toMatchObject({ message: 'new <https://x.io|x>', type: 'custom_kind', origin: { kind: 'user', id: 'u1' } });
    expect(mapped.props).toEqual({ A: 'AA' });
  });

  it("keeps a hook post's retained props, and takes its other server-owned props from the update as Mattermost does", () => {
    const hookPost = post({ from_webhook: 'true', override_username: 'ci', webhook_display_name: 'Builds', override_icon_emoji: 'tada' });
    const mapped = integrationPost(allowed, reply({ props: { ...posing, A: 'AA' } }), { path: 'action_update', original: hookPost });
    expect(mapped.props).toEqual({ A: 'AA', from_webhook: 'true', override_username: 'ci', override_icon_emoji: 'evil', webhook_display_name: 'evil' });
    // Props the update leaves out are gone, but for the retained ones.
    expect(integrationPost(allowed, reply({ props: {} }), { path: 'action_update', original: hookPost }).props).toEqual({ from_webhook: 'true', override_username: 'ci' });
  });

  it('makes the ephemeral text a system message with the post\'s retained props', () => {
    const hookPost = post({ from_webhook: 'true', override_icon_url: 'https://i/x.png', webhook_display_name: 'Builds', other: 1 });
    const mapped = integrationPost(allowed, reply({ text: 'done <https://x.io|x>' }), { path: 'action_ephemeral', original: hookPost, skipSlackParsing: false });
    expect(mapped).toEqual({ message: 'done [x](https://x.io)', type: 'system_ephemeral', props: { from_webhook: 'true', override_icon_url: 'https://i/x.png' } });
    expect(integrationPost(allowed, reply({ text: '<a|b>' }), { path: 'action_ephemeral', original: hookPost, skipSlackParsing: true }).message).toBe('<a|b>');
  });
});
