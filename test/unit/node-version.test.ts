import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot, readServerlessDefinition } from '../../infra/local/serverless-definition.js';

/**
 * One Node major everywhere: the tests run on the Node that the `node` devDependency puts first on
 * every npm script's PATH, which is the major that Lambda runs and that esbuild targets.
 */
describe('Node version', () => {
  const packageJson = JSON.parse(readFileSync(path.join(projectRoot, 'package.json'), 'utf8'));
  const definition = readServerlessDefinition() as unknown as {
    provider: { runtime: string; architecture: string };
    custom: { esbuild: { target: string } };
  };

  it('runs the tests on Node 24, from the pinned node devDependency', () => {
    expect(process.version).toMatch(/^v24\./);
    expect(packageJson.devDependencies.node).toMatch(/^24\.\d+\.\d+$/);
    expect(process.version).toBe(`v${packageJson.devDependencies.node}`);
  });

  it('deploys on nodejs24.x (arm64) and bundles for node24', () => {
    expect(definition.provider.runtime).toBe('nodejs24.x');
    expect(definition.provider.architecture).toBe('arm64');
    expect(definition.custom.esbuild.target).toBe('node24');
    expect(packageJson.engines.node).toBe('>=24');
  });
});
