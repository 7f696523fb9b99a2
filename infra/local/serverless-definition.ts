import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parse } from 'yaml';

/**
 * Reads serverless.yml so the local stack serves the same routes and creates the same tables and
 * queues as a deployment: one definition, nothing to drift.
 */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type CfnValue = unknown;

export interface ServerlessDefinition {
  service: string;
  provider: { environment?: Record<string, CfnValue> };
  functions: Record<string, { handler: string; environment?: Record<string, CfnValue>; events?: Array<Record<string, unknown>> }>;
  /** The resources written in serverless.yml itself (the files it includes only shape AWS: domain, alarms). */
  resources: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

type ResourcesSection = ServerlessDefinition['resources'];

export function readServerlessDefinition(): ServerlessDefinition {
  const definition = parse(readFileSync(path.join(projectRoot, 'serverless.yml'), 'utf8')) as Omit<ServerlessDefinition, 'resources'> & {
    resources: ResourcesSection | Array<ResourcesSection | string>;
  };
  // serverless.yml lists its own resources and `${file(...)}` inclusions; osls merges them in order.
  const parts = Array.isArray(definition.resources) ? definition.resources : [definition.resources];
  const Resources = Object.assign({}, ...parts.filter((part): part is ResourcesSection => typeof part === 'object').map((part) => part.Resources ?? {}));
  return { ...definition, resources: { Resources } };
}

/** Substitutes the few Serverless variables our resource names use. */
export function resolveName(template: string, definition: ServerlessDefinition, stage: string): string {
  return template.replaceAll('${self:service}', definition.service).replaceAll('${sls:stage}', stage);
}

export interface HttpRouteDefinition {
  functionName: string;
  handlerModule: string;
  method: string;
  path: string;
}

/** The httpApi routes of serverless.yml; the catch-all `*` route is returned with method and path `*`. */
export function httpRoutes(definition = readServerlessDefinition()): HttpRouteDefinition[] {
  const result: HttpRouteDefinition[] = [];
  for (const [functionName, fn] of Object.entries(definition.functions)) {
    const handlerModule = path.join(projectRoot, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`);
    for (const event of fn.events ?? []) {
      const httpApi = event.httpApi as string | { method: string; path: string } | undefined;
      if (httpApi === undefined) continue;
      if (httpApi === '*') result.push({ functionName, handlerModule, method: '*', path: '*' });
      else if (typeof httpApi === 'object') result.push({ functionName, handlerModule, method: httpApi.method.toUpperCase(), path: httpApi.path });
    }
  }
  return result;
}

/** The function behind the WebSocket API's routes (`$connect`, `$disconnect`, `$default`), if serverless.yml has one. */
export function websocketFunction(definition = readServerlessDefinition()): { functionName: string; handlerModule: string; routes: string[] } | undefined {
  for (const [functionName, fn] of Object.entries(definition.functions)) {
    const routes = (fn.events ?? []).flatMap((event) => {
      const websocket = event.websocket as string | { route: string } | undefined;
      return websocket === undefined ? [] : [typeof websocket === 'string' ? websocket : websocket.route];
    });
    if (routes.length > 0) return { functionName, handlerModule: path.join(projectRoot, `${fn.handler.slice(0, fn.handler.lastIndexOf('.'))}.ts`), routes };
  }
  return undefined;
}
