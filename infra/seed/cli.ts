/**
 * npm run seed -- FILE [--dry-run] [--prune] [--show-secrets] [--stage NAME] [--region REGION] [--site-url URL]
 * npm run seed -- export [--team NAME ...] [--with-secrets] [--out FILE] [--stage NAME] [--region REGION]
 *
 * Applies a seed file (docs/seed-format.md) to the local stack started by `npm start`, or with
 * `--stage` to a deployed stage's tables using the AWS credentials of the environment (the AWS
 * SDK's AWS_ENDPOINT_URL_DYNAMODB points it at another endpoint, such as a DynamoDB Local). The
 * plan goes to stderr, then the JSON summary to stdout; a rejected file prints its problems on
 * stderr, writes nothing, exits 1; a run that stops part-way says so and exits 1. `export` writes
 * the stored state as a seed file (a seed file named `export` is given as `./export`). Channel
 * memberships it writes are also listed in their users' open websocket connections (the stage's
 * connections table), so connected clients receive those channels' events at once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { documentClient } from '../../lib/store/dynamo.js';
import { EntityStore, type ItemChange } from '../../lib/store/entities.js';
import { ConnectionStore } from '../../lib/store/connections.js';
import { addMembershipsToConnections, channelMembershipsWritten } from '../../lib/live/memberships.js';
import { exportSeed, exportToYaml, UnknownTeamError } from '../../lib/seed/export.js';
import { formatPlan } from '../../lib/seed/plan.js';
import { parseSeedFile, planSeed, SeedApplyError, SeedValidationError } from '../../lib/seed/seed.js';
import { readLocalState } from '../local/state.js';
import { resourceName } from '../stage-resources.js';

const USAGE = `usage: npm run seed -- FILE [--dry-run] [--prune] [--show-secrets] [--stage NAME] [--region REGION] [--site-url URL]
       npm run seed -- export [--team NAME ...] [--with-secrets] [--out FILE] [--stage NAME] [--region REGION]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    stage: { type: 'string' },
    region: { type: 'string' },
    'site-url': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    prune: { type: 'boolean', default: false },
    'show-secrets': { type: 'boolean', default: false },
    team: { type: 'string', multiple: true },
    'with-secrets': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const [command] = positionals;
const exportOnly = ['team', 'with-secrets', 'out'] as const;
const applyOnly = ['dry-run', 'prune', 'show-secrets', 'site-url'] as const;
const misplaced = (command === 'export' ? applyOnly : exportOnly).filter((option) => values[option] !== undefined && values[option] !== false);
if (!command || positionals.length > 1 || misplaced.length > 0) {
  if (misplaced.length > 0) console.error(`not an option of ${command === 'export' ? 'export' : 'a seed run'}: ${misplaced.map((option) => `--${option}`).join(', ')}`);
  console.error(USAGE);
  process.exit(2);
}

/** The entities table and how to reach it: a deployed stage, or the local stack of `npm start`. */
function target() {
  let region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
  if (values.stage) {
    return {
      tableName: resourceName('EntitiesTable', values.stage),
      connectionsTable: resourceName('ConnectionsTable', values.stage),
      endpoint: undefined,
      region,
      siteUrl: values['site-url'] ?? process.env.SITE_URL ?? '',
    };
  }
  const local = readLocalState();
  if (!local) {
    console.error('The local stack is not running: start it with `npm start`, or pass --stage NAME for a deployed stage.');
    process.exit(2);
  }
  region = local.environment.AWS_REGION ?? region;
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return {
    tableName: local.environment.TABLE_ENTITIES!,
    connectionsTable: local.environment.TABLE_CONNECTIONS,
    endpoint: local.environment.DYNAMODB_ENDPOINT,
    region,
    siteUrl: values['site-url'] ?? process.env.SITE_URL ?? local.apiUrl,
  };
}

const { tableName, connectionsTable, endpoint, region, siteUrl } = target();
const db = documentClient({ endpoint, region });
const store = new EntityStore(db, tableName);

/**
 * Lists the memberships the applied transactions wrote in the open connections of their users, so
 * that clients connected now receive the channels' events (lib/live/memberships.ts). Best effort:
 * the seed's own writes are done, and a client that misses this sees the channels after reconnecting.
 */
async function listInOpenConnections(transactions: ItemChange[][]): Promise<void> {
  const memberships = channelMembershipsWritten(transactions);
  if (!connectionsTable || memberships.length === 0) return;
  try {
    const added = await addMembershipsToConnections(new ConnectionStore(db, connectionsTable), memberships);
    console.error(`live events: ${memberships.length} channel membership(s) written, ${added} open connection(s) listed in their channels`);
  } catch (error) {
    console.error(`live events: open connections not updated (${error instanceof Error ? error.message : String(error)}); connected users see the new channels after they reconnect`);
  }
}

try {
  if (command === 'export') {
    const exported = await exportSeed(store, { teams: values.team ?? [], withSecrets: values['with-secrets'] });
    const header = `Exported by npm run seed -- export from ${tableName} at ${new Date().toISOString()}.${values['with-secrets'] ? '\nContains secrets: keep it like a password.' : ''}`;
    const yaml = exportToYaml(exported, header);
    if (values.out) writeFileSync(values.out, yaml, { mode: values['with-secrets'] ? 0o600 : 0o644 });
    else process.stdout.write(yaml);
  } else {
    const file = command;
    const seed = parseSeedFile(file, readFileSync(file, 'utf8'));
    const planned = await planSeed(file, seed, { store, siteUrl, prune: values.prune, showSecrets: values['show-secrets'] });
    console.error(formatPlan(file, planned.plan));
    if (values['dry-run']) {
      console.error('dry run: nothing written');
    } else {
      let summary;
      try {
        summary = await planned.apply();
      } catch (error) {
        if (error instanceof SeedApplyError) await listInOpenConnections(planned.plan.transactions.slice(0, error.applied));
        throw error;
      }
      await listInOpenConnections(planned.plan.transactions);
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    }
  }
} catch (error) {
  if (error instanceof SeedValidationError || error instanceof UnknownTeamError || error instanceof SeedApplyError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
