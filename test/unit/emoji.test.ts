import { describe, expect, it } from 'vitest';
import emojiImages from '../../lib/emoji-images.json' with { type: 'json' };
import { emojiImages as fromPackage } from '../../infra/scripts/generate-emoji-images.js';

describe('lib/emoji-images.json', () => {
  it('is the table generated from emoji-datasource (regenerate with infra/scripts/generate-emoji-images.ts)', () => {
    expect(emojiImages).toEqual(fromPackage());
    expect((emojiImages as Record<string, string>).basketball).toBe('1f3c0');
  });
});
