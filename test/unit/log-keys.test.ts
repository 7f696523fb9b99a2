import { describe, expect, it } from 'vitest';
import { loggedPathParameters } from '../../lib/http/handler.js';
import { logHash } from '../../lib/ids.js';

describe('log keys of path parameters', () => {
  it('replaces credential parameters by a short hash and keeps the others', () => {
    const logged = loggedPathParameters({ id: 'responseurlsecret0123456789', post_id: 'p1' }, ['id']);
    expect(logged).toEqual({ id_hash: logHash('responseurlsecret0123456789'), post_id: 'p1' });
    expect(JSON.stringify(logged)).not.toContain('responseurlsecret');
  });

  it('gives one credential the same hash every time and different credentials different hashes', () => {
    expect(logHash('hook-a')).toBe(logHash('hook-a'));
    expect(logHash('hook-a')).not.toBe(logHash('hook-b'));
    expect(logHash('hook-a')).toMatch(/^[0-9a-f]{12}$/);
  });
});

describe('error details in logs', () => {
  it('keeps at most 1 KB of an integration error body, whole characters only', async () => {
    const { AppError, MAX_LOGGED_DETAIL_BYTES } = await import('../../lib/errors.js');
    const huge = new AppError('api.command.execute_command.failed_resp.app_error', 'x', 500, 'é'.repeat(1_000_000));
    expect(Buffer.byteLength(huge.detailedError.replace('… (truncated)', ''), 'utf8')).toBeLessThanOrEqual(MAX_LOGGED_DETAIL_BYTES);
    expect(huge.detailedError).toMatch(/^é+… \(truncated\)$/);
    expect(new AppError('id', 'x', 500, 'short body').detailedError).toBe('short body');
  });
});
