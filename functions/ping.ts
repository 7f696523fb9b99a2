import { httpHandler, json } from '../lib/http/handler.js';
import { runtimeFromEnv, type Runtime } from '../lib/runtime.js';

export const createHandler = (runtime: Runtime) =>
  httpHandler('ping', async () => json(200, { status: 'OK' }), runtime);

export const handler = createHandler(runtimeFromEnv());
