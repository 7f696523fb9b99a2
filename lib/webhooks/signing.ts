import { Webhook } from 'standardwebhooks';
import type { IntegrationSecrets } from '../model.js';

/** The signing part of an integration's secrets: the current secret and, during a rotation window, the previous one. */
export type SigningKeys = Pick<IntegrationSecrets, 'signing_secret' | 'previous_signing_secret' | 'previous_signing_secret_expires_at'>;

/**
 * Standard Webhooks headers for an outbound request: `webhook-id` (stable across retries of one
 * delivery, so receivers can drop duplicates), `webhook-timestamp` (seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), signed with the
 * integration's `whsec_` secret. Any Standard Webhooks library verifies them.
 *
 * Given the integration's keys rather than one secret, a request sent while a rotated-out secret
 * is still within its window carries two signatures, space-separated (the spec's form for key
 * rotation): the receiver accepts it whether it has installed the new secret yet or not.
 */
export function signatureHeaders(keys: string | SigningKeys, messageId: string, body: string, now: Date): Record<string, string> {
  const secrets = typeof keys === 'string' ? [keys] : activeSigningSecrets(keys, now.getTime());
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': secrets.map((secret) => new Webhook(secret).sign(messageId, now, body)).join(' '),
  };
}

/** The secrets a request is signed with at `nowMs`: the current one, then the previous one while its window lasts. */
export function activeSigningSecrets(keys: SigningKeys, nowMs: number): string[] {
  const previous = keys.previous_signing_secret;
  const stillValid = previous !== undefined && previous !== '' && (keys.previous_signing_secret_expires_at ?? 0) > nowMs;
  return stillValid ? [keys.signing_secret, previous] : [keys.signing_secret];
}
