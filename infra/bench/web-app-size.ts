import type { BuiltFile } from '../web/build.js';

/** The web app's size as a browser downloads it: every built file, and the total gzipped. */
export const WEB_APP_TARGET_GZIP_BYTES = 150 * 1024;

export function webAppSizes(files: BuiltFile[]): string {
  const total = files.reduce((sum, file) => sum + file.gzipBytes, 0);
  const kib = (bytes: number) => (bytes / 1024).toFixed(1).padStart(7);
  return [
    'Web app (minified; gzip as served over the wire):',
    ...files.map((file) => `  ${file.name.padEnd(30)} ${kib(file.bytes)} KiB   ${kib(file.gzipBytes)} KiB gzip`),
    `  total gzip                     ${kib(total)} KiB   (target under ${WEB_APP_TARGET_GZIP_BYTES / 1024} KiB)`,
  ].join('\n');
}
