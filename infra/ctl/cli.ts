/**
 * npm run ctl -- GROUP SUBCOMMAND [ARGS] [--json] [--stage NAME] [--region REGION] [--site-url URL]
 *
 * The operator's command line for integrations, modelled on mmctl. It calls the same use cases as
 * the management API, as Mattermost's local-mode session (every permission; each change audited as
 * `cli:<os user>`), straight against the tables: the local stack of `npm start` by default, or a
 * deployed stage with `--stage` (AWS credentials and region from the environment, table names from
 * serverless.yml). Exit codes: 0 done, 1 refused (the reason on stderr), 2 a usage mistake.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AppError } from '../../lib/errors.js';
import { loadConfig } from '../../lib/config.js';
import { operatorCaller } from '../../lib/permissions.js';
import { createRuntime } from '../../lib/runtime.js';
import { readLocalState } from '../local/state.js';
import { resourceName } from '../stage-resources.js';
import { auditGroup } from './audit.js';
import { commandGroup } from './command.js';
import { UsageError, type CtlContext, type CtlGroup } from './context.js';
import { tokenGroup } from './token.js';
import { webhookGroup } from './webhook.js';

const groups: Record<string, CtlGroup> = {
  audit: auditGroup,
  webhook: webhookGroup,
  command: commandGroup,
  token: tokenGroup,
};

const GLOBAL_OPTIONS = ['--stage', '--region', '--site-url'];

/** Splits the options every group shares from the group's own arguments. */
function splitGlobalOptions(argv: string[]) {
  const global: Record<string, string> = {};
  const rest: string[] = [];
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    if (arg === '--json') json = true;
    else if (GLOBAL_OPTIONS.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`${name} needs a value`);
      global[name.slice(2)] = value;
    } else rest.push(arg);
  }
  return { global, rest, json };
}

/** The functions' environment on the target: a deployed stage's tables, or the local stack's. */
function targetEnvironment(global: Record<string, string>): Record<string, string | undefined> {
  const region = global.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (global.stage) {
    return {
      ...process.env,
      AWS_REGION: region,
      TABLE_ENTITIES: resourceName('EntitiesTable', global.stage),
      TABLE_POSTS: resourceName('PostsTable', global.stage),
      TABLE_DELIVERIES: resourceName('DeliveriesTable', global.stage),
      SITE_URL: global['site-url'] ?? process.env.SITE_URL,
    };
  }
  const local = readLocalState();
  if (!local) throw new UsageError('the local stack is not running: start it with `npm start`, or pass --stage NAME');
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return { ...local.environment, SITE_URL: global['site-url'] ?? local.environment.SITE_URL ?? local.apiUrl };
}

function usage(): string {
  return ['usage: npm run ctl -- GROUP SUBCOMMAND [ARGS] [--json] [--stage NAME] [--region REGION] [--site-url URL]', ...Object.values(groups).map((group) => `  ${group.usage}`)].join('\n');
}

export async function main(argv: string[], io: Pick<CtlContext, 'out' | 'err'>): Promise<number> {
  try {
    const { global, rest, json } = splitGlobalOptions(argv);
    const [groupName, ...args] = rest;
    const group = groupName === undefined ? undefined : groups[groupName];
    if (!group) throw new UsageError(groupName === undefined ? 'no group given' : `unknown group "${groupName}"`);
    const config = loadConfig(targetEnvironment(global));
    // The CLI's own logs would mix with its output: only warnings and errors reach stderr.
    const runtime = createRuntime(config, new Logger({ serviceName: 'hookline-ctl', logLevel: 'WARN' }));
    try {
      return await group.run(args, { runtime, caller: operatorCaller(), json, siteUrl: config.siteUrl ?? '', ...io });
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${error.message}\nusage: npm run ctl -- ${group.usage}`);
      throw error;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(error.message.includes('usage:') ? error.message : `${error.message}\n${usage()}`);
      return 2;
    }
    if (error instanceof AppError) {
      io.err(`error: ${error.message} (${error.id}, ${error.statusCode})`);
      return 1;
    }
    io.err(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2), { out: (text) => console.log(text), err: (text) => console.error(text) });
}
