import { build } from 'esbuild';
import path from 'node:path';
import { statSync } from 'node:fs';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import { projectRoot, readServerlessDefinition } from '../local/serverless-definition.js';

export interface BundledFunction {
  name: string;
  file: string;
  bytes: number;
}

/**
 * Bundles every function with the esbuild options serverless.yml gives serverless-esbuild, so the
 * figures describe what deploys.
 */
export async function bundleFunctions(outDir: string): Promise<BundledFunction[]> {
  const definition = readServerlessDefinition();
  const options = (parse(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8')) as { custom: { esbuild: Record<string, any> } }).custom
    .esbuild;
  const bundled: BundledFunction[] = [];
  for (const [name, fn] of Object.entries(definition.functions)) {
    const entry = path.join(projectRoot, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`);
    const file = path.join(outDir, `${name}.mjs`);
    await build({
      entryPoints: [entry],
      outfile: file,
      bundle: true,
      minify: options.minify,
      target: options.target,
      mainFields: options.mainFields,
      platform: 'node',
      format: 'esm',
      banner: options.banner,
      // serverless-esbuild passes alias through as it is (relative to the project, where it runs)
      // and makes esbuild treat the excluded modules as external.
      alias: Object.fromEntries(Object.entries((options.alias ?? {}) as Record<string, string>).map(([from, to]) => [from, to.startsWith('.') ? path.join(projectRoot, to) : to])),
      external: [...(options.external ?? []), ...(options.exclude ?? [])],
      logLevel: 'error',
    });
    bundled.push({ name, file, bytes: statSync(file).size });
  }
  return bundled;
}
