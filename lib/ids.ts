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

/** The next 16 random bytes of the pool (a view: copy what must outlive the next draw). */
function nextRandom16(): Uint8Array {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = pool.subarray(poolOffset, poolOffset + 16);
  poolOffset += 16;
  return bytes;
}

/** 128 random bits as a 26-character lowercase alphanumeric id (Mattermost's `model.NewId`). */
export function newId(): string {
  return base32(nextRandom16()).slice(0, ID_LENGTH);
}

/** When post ids started carrying their creation time: an id that decodes to earlier is not one of them. */
const POST_ID_TIME_SINCE_MS = Date.UTC(2026, 10, 1);
const POST_ID_TIME_BYTES = 6;
const POST_ID_CHECK_BYTE = 15;

function postIdCheck(bytes: Uint8Array): number {
  let check = 0x5c;
  for (let index = 0; index < POST_ID_CHECK_BYTE; index++) check ^= bytes[index]!;
  return check;
}

/**
 * A post's id: 26 characters of `newId`'s alphabet, as every Mattermost id, whose 128 bits are the
 * creation time in milliseconds (48 bits), 72 random bits and a check byte. The time lets a page
 * anchored on a post this instance has never read (`before=`, `after=`) start its query at the
 * anchor without reading it first (lib/posts/service.ts); the query checks the anchor is there, so
 * nothing depends on the time being right. 72 random bits keep ids unique and unguessable. Only
 * posts get such ids: hooks, commands and tokens keep `newId`'s 128 random bits.
 */
export function newPostId(createAtMs: number): string {
  const bytes = new Uint8Array(16);
  let time = Math.max(0, Math.floor(createAtMs));
  for (let index = POST_ID_TIME_BYTES - 1; index >= 0; index--) {
    bytes[index] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes.set(nextRandom16().subarray(0, POST_ID_CHECK_BYTE - POST_ID_TIME_BYTES), POST_ID_TIME_BYTES);
  bytes[POST_ID_CHECK_BYTE] = postIdCheck(bytes);
  return base32(bytes).slice(0, ID_LENGTH);
}

const ALPHABET_INDEX = new Map([...ID_ALPHABET].map((character, index) => [character, index]));

/**
 * The creation time a post id made by `newPostId` carries, or undefined when the id is not one of
 * them (ids made before, derived ids, ids of other servers): a wrong check byte, or a time before
 * post ids carried it or later than `latestMs`. Random bits pass the check byte once in 256 and
 * fall in that window about once in 9 000 per year of it; callers only use the time as a guess
 * that their read checks.
 */
export function postIdTimeMs(id: string, latestMs: number): number | undefined {
  if (id.length !== ID_LENGTH) return undefined;
  const bytes = new Uint8Array(16);
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (const character of id) {
    const value = ALPHABET_INDEX.get(character);
    if (value === undefined) return undefined;
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (written < 16) bytes[written++] = (buffer >>> bits) & 0xff;
    }
  }
  // 130 bits carry 128: the last 2 are the encoder's zero padding.
  if ((buffer & ((1 << bits) - 1)) !== 0 || bytes[POST_ID_CHECK_BYTE] !== postIdCheck(bytes)) return undefined;
  let timeMs = 0;
  for (let index = 0; index < POST_ID_TIME_BYTES; index++) timeMs = timeMs * 256 + bytes[index]!;
  return timeMs >= POST_ID_TIME_SINCE_MS && timeMs <= latestMs ? timeMs : undefined;
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
