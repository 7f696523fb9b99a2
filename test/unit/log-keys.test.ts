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
