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

/**
 * The runtime of a function module's exported `handler`, from the environment. In Lambda
 * (`AWS_LAMBDA_FUNCTION_NAME` set) it is built at once, so a missing or bad setting (a table name)
 * fails the cold start with the ConfigError that names it. Elsewhere (the local stack, tests, the
 * benchmark import these modules for `createHandler` and never call `handler`) it is built when the
 * handler first touches it: importing needs no environment, and a missing setting still fails,
 * on the first request, with the same error.
 */
export function fromEnvironment<T extends object>(build: () => T, env: Record<string, string | undefined> = process.env): T {
  if (env.AWS_LAMBDA_FUNCTION_NAME) return build();
  let built: T | undefined;
  const target = () => (built ??= build());
  // Every read of the runtime goes to the one built on first use; it is never written through.
  return new Proxy({} as T, {
    get: (_empty, key) => Reflect.get(target(), key),
    has: (_empty, key) => Reflect.has(target(), key),
    ownKeys: () => Reflect.ownKeys(target()),
    getOwnPropertyDescriptor: (_empty, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(target(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

let sharedEdgeRuntime: EdgeRuntime | undefined;

export function edgeRuntimeFromEnv(): EdgeRuntime {
  sharedEdgeRuntime ??= fromEnvironment(() => ({ config: loadConfig(process.env), logger: new Logger({ serviceName: 'hookline' }) }));
  return sharedEdgeRuntime;
}
