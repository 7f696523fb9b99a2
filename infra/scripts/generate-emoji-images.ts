/**
 * npx tsx infra/scripts/generate-emoji-images.ts
 *
 * Writes lib/emoji-images.json: each system emoji short name to its image file name, from
 * emoji-datasource (the data Mattermost's emoji list is built from). The read functions use it to
 * render `override_icon_emoji` as Mattermost does; a test keeps the file in step with the package.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../local/serverless-definition.js';

export function emojiImages(): Record<string, string> {
  const source = JSON.parse(readFileSync(path.join(projectRoot, 'node_modules/emoji-datasource/emoji.json'), 'utf8')) as Array<{
    short_names: string[];
    image: string;
  }>;
  const images: Record<string, string> = {};
  for (const emoji of source) for (const name of emoji.short_names) images[name] = emoji.image.replace(/\.png$/, '');
  return Object.fromEntries(Object.entries(images).sort(([a], [b]) => a.localeCompare(b)));
}

export const emojiImagesFile = path.join(projectRoot, 'lib/emoji-images.json');

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  writeFileSync(emojiImagesFile, `${JSON.stringify(emojiImages())}\n`);
  console.log(`wrote ${emojiImagesFile}`);
}
