import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { newId, newSigningSecret } from '../../lib/ids.js';
import type { IncomingWebhook, OutgoingWebhook } from '../../lib/model.js';
import {
  assertValidIncomingWebhook,
  assertValidOutgoingWebhook,
  incomingUsernameProblem,
  incomingWebhookProblems,
  outgoingWebhookProblems,
  renderedListBytes,
} from '../../lib/integrations/webhook-validity.js';
import { activeSigningSecrets, signatureHeaders } from '../../lib/webhooks/signing.js';

const incoming = (fields: Partial<IncomingWebhook> = {}): IncomingWebhook => ({
  id: newId(),
  channel_id: newId(),
  team_id: newId(),
  user_id: newId(),
  display_name: '',
  description: '',
  username: '',
  icon_url: '',
  channel_locked: false,
  create_at: 1,
  update_at: 1,
  delete_at: 0,
  ...fields,
});

const outgoing = (fields: Partial<OutgoingWebhook> = {}): OutgoingWebhook => ({
  id: newId(),
  creator_id: newId(),
  channel_id: '',
  team_id: newId(),
  trigger_words: ['build'],
  trigger_when: 0,
  callback_urls: ['http://nowhere.com/'],
  display_name: '',
  description: '',
  content_type: '',
  username: '',
  icon_url: '',
  create_at: 1,
  update_at: 1,
  delete_at: 0,
  ...fields,
});

const token = newId();
const firstIncomingError = (hook: IncomingWebhook) => incomingWebhookProblems(hook)[0]?.error.id;
const firstOutgoingError = (hook: OutgoingWebhook, withToken = token) => outgoingWebhookProblems(hook, withToken)[0]?.error.id;
/** `n` bytes of UTF-8 made of 2-byte characters where possible, so a character count would pass where the byte count fails. */
const bytes = (n: number) => 'é'.repeat(Math.floor(n / 2)) + 'a'.repeat(n % 2);

describe('IncomingWebhook.IsValid', () => {
  it('accepts a complete hook and the longest fields, counted in UTF-8 bytes', () => {
    expect(incomingWebhookProblems(incoming())).toEqual([]);
    expect(incomingWebhookProblems(incoming({ display_name: bytes(64), description: bytes(500), username: bytes(64), icon_url: bytes(1024) }))).toEqual([]);
    // No URL syntax check on icon_url.
    expect(incomingWebhookProblems(incoming({ icon_url: 'icon' }))).toEqual([]);
  });

  it('refuses one byte more than each limit, with Mattermost\'s id', () => {
    expect(firstIncomingError(incoming({ display_name: bytes(65) }))).toBe('model.incoming_hook.display_name.app_error');
    expect(firstIncomingError(incoming({ display_name: 'é'.repeat(33) }))).toBe('model.incoming_hook.display_name.app_error');
    expect(firstIncomingError(incoming({ description: bytes(501) }))).toBe('model.incoming_hook.description.app_error');
    expect(firstIncomingError(incoming({ username: bytes(65) }))).toBe('model.incoming_hook.username.app_error');
    expect(firstIncomingError(incoming({ icon_url: bytes(1025) }))).toBe('model.incoming_hook.icon_url.app_error');
  });

  it('checks ids and times first, in Mattermost\'s order', () => {
    expect(firstIncomingError(incoming({ id: 'abc', display_name: bytes(65) }))).toBe('model.incoming_hook.id.app_error');
    expect(firstIncomingError(incoming({ create_at: 0 }))).toBe('model.incoming_hook.create_at.app_error');
    expect(firstIncomingError(incoming({ update_at: 0 }))).toBe('model.incoming_hook.update_at.app_error');
    expect(firstIncomingError(incoming({ user_id: '' }))).toBe('model.incoming_hook.user_id.app_error');
    expect(firstIncomingError(incoming({ channel_id: 'x'.repeat(27) }))).toBe('model.incoming_hook.channel_id.app_error');
    expect(firstIncomingError(incoming({ team_id: 'a-'.repeat(13) }))).toBe('model.incoming_hook.team_id.app_error');
    expect(() => assertValidIncomingWebhook(incoming({ description: bytes(501) }))).toThrow(expect.objectContaining({ statusCode: 400 }));
  });

  it('refuses an invalid default username (the app-level rule) and accepts none', () => {
    expect(incomingUsernameProblem(':invalid:')?.id).toBe('api.incoming_webhook.invalid_username.app_error');
    expect(incomingUsernameProblem('')).toBeUndefined();
    expect(incomingUsernameProblem('ci-bot')).toBeUndefined();
  });
});

describe('OutgoingWebhook.IsValid', () => {
  it('accepts a complete hook, a channel hook without trigger words, and the longest fields', () => {
    expect(outgoingWebhookProblems(outgoing(), token)).toEqual([]);
    expect(outgoingWebhookProblems(outgoing({ channel_id: newId(), trigger_words: [] }), token)).toEqual([]);
    expect(
      outgoingWebhookProblems(outgoing({ display_name: bytes(64), description: bytes(500), content_type: bytes(128), username: bytes(64), icon_url: bytes(1024) }), token),
    ).toEqual([]);
    // A negative trigger_when passes Mattermost's check.
    expect(outgoingWebhookProblems(outgoing({ trigger_when: -1 as 0 }), token)).toEqual([]);
  });

  it('refuses one byte more than each limit, with Mattermost\'s id', () => {
    expect(firstOutgoingError(outgoing({ display_name: bytes(65) }))).toBe('model.outgoing_hook.is_valid.display_name.app_error');
    expect(firstOutgoingError(outgoing({ description: bytes(501) }))).toBe('model.outgoing_hook.is_valid.description.app_error');
    expect(firstOutgoingError(outgoing({ content_type: bytes(129) }))).toBe('model.outgoing_hook.is_valid.content_type.app_error');
    expect(firstOutgoingError(outgoing({ username: bytes(65) }))).toBe('model.outgoing_hook.username.app_error');
    expect(firstOutgoingError(outgoing({ icon_url: bytes(1025) }))).toBe('model.outgoing_hook.icon_url.app_error');
    // trigger_when above 1 reuses the content_type id.
    expect(firstOutgoingError(outgoing({ trigger_when: 2 as 1 }))).toBe('model.outgoing_hook.is_valid.content_type.app_error');
  });

  it('measures trigger words and callback URLs as Go renders the lists: [a b c]', () => {
    expect(renderedListBytes([])).toBe(2);
    expect(renderedListBytes(['a', 'bc', 'é'])).toBe(2 + 1 + 2 + 2 + 2);
    const words = (total: number) => [bytes(total - 2)];
    expect(firstOutgoingError(outgoing({ trigger_words: words(1024) }))).toBeUndefined();
    expect(firstOutgoingError(outgoing({ trigger_words: words(1025) }))).toBe('model.outgoing_hook.is_valid.words.app_error');
    expect(firstOutgoingError(outgoing({ trigger_words: ['a', ''] }))).toBe('model.outgoing_hook.is_valid.trigger_words.app_error');
    const url = (total: number) => [`http://h.io/${'a'.repeat(total - 2 - 'http://h.io/'.length)}`];
    expect(firstOutgoingError(outgoing({ callback_urls: url(1024) }))).toBeUndefined();
    expect(firstOutgoingError(outgoing({ callback_urls: url(1025) }))).toBe('model.outgoing_hook.is_valid.callback.app_error');
    expect(firstOutgoingError(outgoing({ callback_urls: [] }))).toBe('model.outgoing_hook.is_valid.callback.app_error');
  });

  it('requires http(s) callback URLs with a host', () => {
    expect(firstOutgoingError(outgoing({ callback_urls: ['nowhere.com/'] }))).toBe('model.outgoing_hook.is_valid.url.app_error');
    expect(firstOutgoingError(outgoing({ callback_urls: ['http://nowhere.com/', 'ftp://x.io'] }))).toBe('model.outgoing_hook.is_valid.url.app_error');
    expect(firstOutgoingError(outgoing({ callback_urls: ['https:////example.com'] }))).toBe('model.outgoing_hook.is_valid.url.app_error');
    expect(firstOutgoingError(outgoing({ callback_urls: ['HTTPS://example.com/x'] }))).toBeUndefined();
  });

  it('checks id, token (26 bytes), times, creator, channel (empty or an id) and team first', () => {
    expect(firstOutgoingError(outgoing(), '123')).toBe('model.outgoing_hook.is_valid.token.app_error');
    expect(firstOutgoingError(outgoing(), 'é'.repeat(26))).toBe('model.outgoing_hook.is_valid.token.app_error');
    expect(firstOutgoingError(outgoing(), 'a'.repeat(26))).toBeUndefined();
    expect(firstOutgoingError(outgoing({ id: 'junk' }), '123')).toBe('model.outgoing_hook.is_valid.id.app_error');
    expect(firstOutgoingError(outgoing({ create_at: 0 }))).toBe('model.outgoing_hook.is_valid.create_at.app_error');
    expect(firstOutgoingError(outgoing({ update_at: 0 }))).toBe('model.outgoing_hook.is_valid.update_at.app_error');
    expect(firstOutgoingError(outgoing({ creator_id: 'x' }))).toBe('model.outgoing_hook.is_valid.user_id.app_error');
    expect(firstOutgoingError(outgoing({ channel_id: 'junk' }))).toBe('model.outgoing_hook.is_valid.channel_id.app_error');
    expect(firstOutgoingError(outgoing({ team_id: '' }))).toBe('model.outgoing_hook.is_valid.team_id.app_error');
    expect(() => assertValidOutgoingWebhook(outgoing({ callback_urls: [] }), token)).toThrow(expect.objectContaining({ statusCode: 400 }));
  });
});

describe('signatureHeaders during a signing-secret rotation', () => {
  const now = new Date();
  const current = newSigningSecret();
  const previous = newSigningSecret();

  it('signs with both secrets, current first, while the previous one is in its window; each verifies alone', () => {
    const keys = { signing_secret: current, previous_signing_secret: previous, previous_signing_secret_expires_at: now.getTime() + 1000 };
    expect(activeSigningSecrets(keys, now.getTime())).toEqual([current, previous]);
    const headers = signatureHeaders(keys, 'msg_1', '{"a":1}', now);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
    for (const secret of [current, previous]) expect(() => new Webhook(secret).verify('{"a":1}', headers)).not.toThrow();
    expect(() => new Webhook(newSigningSecret()).verify('{"a":1}', headers)).toThrow();
  });

  it('signs with the current secret only once the window has passed', () => {
    const keys = { signing_secret: current, previous_signing_secret: previous, previous_signing_secret_expires_at: now.getTime() };
    const headers = signatureHeaders(keys, 'msg_2', 'x', now);
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(previous).verify('x', headers)).toThrow();
    expect(signatureHeaders(current, 'msg_2', 'x', now)).toEqual(headers);
  });
});
