import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from './serverless-definition.js';

/** Where `npm start` keeps its data and tells other commands (seed, bench) how to reach it. */
export const localDataDir = process.env.HOOKLINE_DATA_DIR ?? path.join(projectRoot, '.hookline');
const stateFile = path.join(localDataDir, 'stack.json');

export interface LocalStackState {
  apiUrl: string;
  environment: Record<string, string>;
  pid: number;
}

export function writeLocalState(state: LocalStackState): void {
  mkdirSync(localDataDir, { recursive: true });
  writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

export function readLocalState(): LocalStackState | undefined {
  try {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as LocalStackState;
    process.kill(state.pid, 0);
    return state;
  } catch {
    return undefined;
  }
}
