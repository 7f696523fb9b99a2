import { Webhook } from 'standardwebhooks';

/**
 * Standard Webhooks headers for an outbound request: `webhook-id` (stable across retries of one
 * delivery, so receivers can drop duplicates), `webhook-timestamp` (seconds) and
 * `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), signed with the
 * integration's `whsec_` secret. Any Standard Webhooks library verifies them.
 */
export function signatureHeaders(secret: string, messageId: string, body: string, now: Date): Record<string, string> {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(messageId, now, body),
  };
}
