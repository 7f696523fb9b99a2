/**
 * What the function bundles get instead of `@aws-sdk/credential-provider-node` (serverless.yml's
 * `custom.esbuild.alias`, applied the same way by infra/bench/bundle.ts): the AWS clients' default
 * credential chain reduced to its first link, the environment variables.
 *
 * Safe on Lambda because Lambda always hands a function its execution role's credentials as
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, and the default chain reads
 * those first too: on Lambda it never gets past them. The rest of the chain (shared ini files,
 * SSO, STS web identity, login, process, container and instance metadata, with the nested STS,
 * SSO and sign-in clients they need) is about 80 KB of every bundle that never runs. Nothing else
 * changes: the clients still memoize and refresh what this returns, and it throws the chain's
 * CredentialsProviderError if the variables are missing.
 *
 * Only bundles use it. Local runs (npm start, the tests, the CLIs) run the TypeScript sources
 * unbundled and keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init: Parameters<typeof fromEnv>[0] = {}) => fromEnv(init);
