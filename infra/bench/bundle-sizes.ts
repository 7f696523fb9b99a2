/** npm run bench -- sizes only: each function's bundle size, as packaged (a quick check while trimming). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleFunctions } from './bundle.js';

const bundles = await bundleFunctions(mkdtempSync(path.join(tmpdir(), 'hookline-sizes-')));
for (const bundle of bundles) console.log(`${bundle.name.padEnd(22)} ${(bundle.bytes / 1024).toFixed(0).padStart(6)} KiB`);
