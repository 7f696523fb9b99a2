import { Logger } from '@aws-lambda-powertools/logger';
import { loadConfig, type Config } from './config.js';

/**
 * What every HTTP function needs at the edge: configuration and the logger. Functions that touch
 * no storage (ping, the catch-all) build only this, so their bundles carry no AWS SDK.
 */
export interface EdgeRuntime {
  config: Config;
  logger: Logger;
}

let sharedEdgeRuntime: EdgeRuntime | undefined;

export function edgeRuntimeFromEnv(): EdgeRuntime {
  sharedEdgeRuntime ??= { config: loadConfig(process.env), logger: new Logger({ serviceName: 'hookline' }) };
  return sharedEdgeRuntime;
}
