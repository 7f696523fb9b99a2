import { createHash, randomBytes, randomFillSync } from 'node:crypto';

// Mattermost's NewId: 16 random bytes in base32 with this alphabet, cut to 26 characters.
const ID_ALPHABET = 'ybndrfg8ejkmcpqxot1uwisza345h769';
export const ID_LENGTH = 26;

function base32(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      output += ID_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) output += ID_ALPHABET[(buffer << (5 - bits)) & 31];
  return output;
}

// Random bytes are drawn in batches: one system call per 256 ids instead of one per id.
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let poolOffset = pool.length;

/** 128 random bits as a 26-character lowercase alphanumeric id (Mattermost's `model.NewId`). */
export function newId(): string {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return base32(bytes).slice(0, ID_LENGTH);
}

/**
 * A stable id derived from parts: the same parts always give the same 26-character id. Used where a
 * retry must find what its earlier attempt did (a delivery's id, its reply posts' ids).
 */
export function deriveId(...parts: string[]): string {
  return base32(createHash('sha256').update(parts.join('\n'), 'utf8').digest().subarray(0, 16)).slice(0, ID_LENGTH);
}

/** Mattermost's `IsValidId`: 26 letters or digits. */
export function isValidId(value: unknown): value is string {
  return typeof value === 'string' && /^[a-zA-Z0-9]{26}$/.test(value);
}

/** A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes. */
export function newSigningSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/**
 * User tokens are stored only as this hash; a SHA-256 suffices because tokens carry 128 random bits.
 * Secrets are found by hashed key lookup, never compared, so no timing comparison is involved.
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * A short, stable stand-in for a credential in logs (an incoming hook's id is its posting secret):
 * 12 hex digits of its SHA-256, enough to tell lines of one hook from another's, useless to post.
 */
export function logHash(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 12);
}
