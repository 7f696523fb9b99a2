/**
 * Builds the web app (web/src) into web/dist: `index.html` and content-hashed files under
 * `static/`, which the webApp function serves (functions/web-app.ts). `npm start`, the tests'
 * global setup and `serverless package` (infra/web/serverless-plugin.cjs) run it; run it by hand
 * with `npx tsx infra/web/build.ts`.
 *
 * Several builds may run at once (the test suite packages the stack while browser tests serve the
 * app), so every file is written to a temporary name and renamed into place, and a file is removed
 * only when it belongs to no current build output.
 */
import { readdirSync, readFileSync, renameSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const webSourceDir = path.join(projectRoot, 'web');
export const webDistDir = path.join(projectRoot, 'web/dist');

export interface BuiltFile {
  /** Relative to the dist folder: `index.html`, `static/main-XXXX.js`. */
  name: string;
  bytes: number;
  gzipBytes: number;
}

function writeAtomically(file: string, contents: Uint8Array | string): void {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, file);
}

export async function buildWebApp(options: { outDir?: string; minify?: boolean } = {}): Promise<BuiltFile[]> {
  const outDir = options.outDir ?? webDistDir;
  const staticDir = path.join(outDir, 'static');
  mkdirSync(staticDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(webSourceDir, 'src/main.tsx')],
    bundle: true,
    minify: options.minify ?? true,
    format: 'esm',
    platform: 'browser',
    // Browsers of the last few years; nothing here needs transpiling further down.
    target: ['es2022', 'chrome111', 'firefox114', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    entryNames: '[name]-[hash]',
    outdir: staticDir,
    write: false,
    metafile: true,
    legalComments: 'none',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'error',
  });
  const files: BuiltFile[] = [];
  const current = new Set<string>();
  let script = '';
  let stylesheet = '';
  for (const output of result.outputFiles) {
    const name = path.basename(output.path);
    writeAtomically(path.join(staticDir, name), output.contents);
    current.add(name);
    if (name.endsWith('.js')) script = name;
    if (name.endsWith('.css')) stylesheet = name;
    files.push({ name: `static/${name}`, bytes: output.contents.length, gzipBytes: gzipSync(output.contents).length });
  }
  const html = readFileSync(path.join(webSourceDir, 'index.html'), 'utf8')
    .replace('{{SCRIPT}}', `/static/${script}`)
    .replace('{{STYLESHEET}}', `/static/${stylesheet}`);
  writeAtomically(path.join(outDir, 'index.html'), html);
  files.push({ name: 'index.html', bytes: Buffer.byteLength(html), gzipBytes: gzipSync(html).length });
  // Earlier builds' files, now unreferenced; another build's half-written temporaries are left alone.
  for (const name of readdirSync(staticDir)) {
    if (!current.has(name) && !name.endsWith('.tmp')) rmSync(path.join(staticDir, name), { force: true });
  }
  return files;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = await buildWebApp();
  for (const file of files) console.log(`${file.name.padEnd(36)} ${(file.bytes / 1024).toFixed(1).padStart(7)} KiB  ${(file.gzipBytes / 1024).toFixed(1).padStart(6)} KiB gzip`);
}
