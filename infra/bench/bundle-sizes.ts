/**
 * `npx tsx infra/bench/bundle-sizes.ts`: each function's bundle size as packaged, in seconds
 * rather than the whole benchmark's minutes (a quick check while trimming bundles).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleFunctions } from './bundle.js';
import { buildWebApp } from '../web/build.js';
import { webAppSizes } from './web-app-size.js';

const bundles = await bundleFunctions(mkdtempSync(path.join(tmpdir(), 'hookline-sizes-')));
for (const bundle of bundles) console.log(`${bundle.name.padEnd(22)} ${(bundle.bytes / 1024).toFixed(0).padStart(6)} KiB`);
console.log(`\n${webAppSizes(await buildWebApp({ outDir: mkdtempSync(path.join(tmpdir(), 'hookline-web-')) }))}`);
