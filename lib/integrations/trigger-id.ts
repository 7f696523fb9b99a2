/**
 * Trigger ids, the credential an integration uses to open a dialog for the user who clicked a
 * button or ran a command (Mattermost's `GenerateTriggerId` and `DecodeAndVerifyTriggerId`).
 *
 * The shape is Mattermost's: `base64(client:user:ms: + base64(signature))`, four parts on `:`,
 * standard base64. The user's response carries only the 26-character client trigger id; the
 * integration gets the signed one. Mattermost signs with an ECDSA key of the cluster; Hookline
 * signs with an HMAC-SHA256 keyed by the deployment's action signing secret, under its own label so
 * that a trigger signature can never pass as a click signature. Integrations treat the id as
 * opaque, so the difference cannot be seen from outside. A trigger id is not single-use: it opens
 * dialogs until it expires, after OUTGOING_INTEGRATION_REQUESTS_TIMEOUT; a timestamp in the future
 * never expires, as in Mattermost.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AppError } from '../errors.js';
import { newId } from '../ids.js';

const SIGNATURE_LABEL = 'hookline trigger id v1\n';

function signature(secret: string, triggerData: string): Buffer {
  return createHmac('sha256', secret).update(SIGNATURE_LABEL).update(triggerData).digest();
}

export interface TriggerIds {
  /** Sent to the user's client (26 characters): it opens only the dialog that carries it. */
  clientTriggerId: string;
  /** Sent to the integration: what it passes to `POST /api/v4/actions/dialogs/open`. */
  triggerId: string;
}

/**
 * The trigger ids of one command execution or click. Without the deployment's action signing
 * secret (written by the seed) no verifiable id can be made: the integration then gets an empty
 * `trigger_id`, as Mattermost sends when generating one fails, and the call goes on.
 */
export async function newTriggerIds(runtime: { directory: { actionSigningSecret(): Promise<string | undefined> } }, userId: string, nowMs: number): Promise<TriggerIds> {
  const secret = await runtime.directory.actionSigningSecret();
  return secret ? generateTriggerId(secret, userId, nowMs) : { clientTriggerId: newId(), triggerId: '' };
}

export function generateTriggerId(secret: string, userId: string, nowMs: number): TriggerIds {
  const clientTriggerId = newId();
  const triggerData = `${clientTriggerId}:${userId}:${nowMs}:`;
  const signed = triggerData + signature(secret, triggerData).toString('base64');
  return { clientTriggerId, triggerId: Buffer.from(signed, 'utf8').toString('base64') };
}

const refused = (reason: string, message: string) =>
  new AppError(`interactive_message.decode_trigger_id.${reason}`, message, 400);

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** The trigger's client id and user, or a 400 with Mattermost's reason, in Mattermost's order of checks. */
export function verifyTriggerId(secret: string, triggerId: string, nowMs: number, lifetimeMs: number): { clientTriggerId: string; userId: string } {
  if (!STANDARD_BASE64.test(triggerId) || triggerId.length % 4 !== 0) {
    throw refused('base64_decode_failed', 'Failed to decode base64 for trigger ID for interactive dialog.');
  }
  const parts = Buffer.from(triggerId, 'base64').toString('utf8').split(':');
  if (parts.length !== 4) throw refused('missing_data', 'Trigger ID missing required data for interactive dialog.');
  const [clientTriggerId, userId, timestamp, encodedSignature] = parts as [string, string, string, string];
  // An unparsable timestamp reads as 0, so it has expired; one in the future never expires.
  const issuedAtMs = /^\d{1,16}$/.test(timestamp) ? Number(timestamp) : 0;
  if (nowMs - issuedAtMs > lifetimeMs) {
    throw refused('expired', `Trigger ID for interactive dialog is expired. Maximum TTL is ${Math.round(lifetimeMs / 1000)}s.`);
  }
  if (!STANDARD_BASE64.test(encodedSignature) || encodedSignature.length % 4 !== 0) {
    throw refused('base64_decode_failed_signature', 'Failed to decode base64 signature of trigger ID for interactive dialog.');
  }
  const given = Buffer.from(encodedSignature, 'base64');
  const expected = signature(secret, `${clientTriggerId}:${userId}:${timestamp}:`);
  if (given.length !== expected.length) throw refused('signature_decode_failed', 'Failed to decode the signature of the trigger ID for interactive dialog.');
  if (!timingSafeEqual(given, expected)) throw refused('verify_signature_failed', 'Signature verification failed for the trigger ID for interactive dialog.');
  return { clientTriggerId, userId };
}
