/**
 * What every group of `npm run ctl` receives: a runtime on the target's tables, the operator's
 * caller (Mattermost's local-mode session: every permission, audited as `cli:<os user>`), whether
 * to print JSON for scripts, and where to write.
 */
import type { Caller } from '../../lib/permissions.js';
import type { Runtime } from '../../lib/runtime.js';

export interface CtlContext {
  runtime: Runtime;
  caller: Caller;
  /** `--json`: one JSON document on stdout, for scripts. */
  json: boolean;
  /** Base of the URLs the CLI prints (incoming hook URLs): SITE_URL of the target. */
  siteUrl: string;
  out: (text: string) => void;
  err: (text: string) => void;
}

/** One group of subcommands (`webhook`, `command`, `token`, `audit`): its usage and its entry. */
export interface CtlGroup {
  usage: string;
  /** Runs `args` (the subcommand and its flags); answers the exit code. */
  run: (args: string[], context: CtlContext) => Promise<number>;
}

/** A mistake in the command line: the group's usage follows the message, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Prints `value` as JSON with --json, else the lines `text` makes of it. */
export function print<T>(context: CtlContext, value: T, text: (value: T) => string[]): void {
  if (context.json) context.out(JSON.stringify(value, null, 2));
  else for (const line of text(value)) context.out(line);
}
