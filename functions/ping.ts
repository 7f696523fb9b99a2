import { httpHandler, json } from '../lib/http/handler.js';
import { edgeRuntimeFromEnv, type EdgeRuntime } from '../lib/edge-runtime.js';

export const createHandler = (runtime: EdgeRuntime) =>
  httpHandler('ping', async () => json(200, { status: 'OK' }), runtime);

export const handler = createHandler(edgeRuntimeFromEnv());
