import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AppError, errors } from '../errors.js';
import { logHash, newId } from '../ids.js';
import { requestLog, type RequestLog } from '../log.js';
import type { EdgeRuntime } from '../edge-runtime.js';

/** What a route's code sees of an API Gateway HTTP API (payload v2) request. */
export interface HttpRequest {
  method: string;
  /** API Gateway's route key, `GET /api/v4/users/{user_id}`: functions serving several routes pick by it. */
  routeKey: string;
  path: string;
  pathParameters: Record<string, string>;
  query: URLSearchParams;
  /** Lower-cased names. */
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  /** The client's address as API Gateway saw it (audit records say where a change came from). */
  sourceIp: string;
  /** Logs with this request's id and route on every line. */
  log: RequestLog;
}

export interface HttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
  /** The body is binary, base64-encoded (the web app's gzipped files). */
  isBase64Encoded?: boolean;
}

export type RouteHandler<R extends EdgeRuntime> = (request: HttpRequest, runtime: R) => Promise<HttpResponse>;
export type LambdaHttpHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export function json(statusCode: number, body: unknown): HttpResponse {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export function text(statusCode: number, body: string, headers: Record<string, string> = {}): HttpResponse {
  return { statusCode, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body };
}

/** Mattermost's error JSON; `detailed_error` stays blank, as with EnableDeveloper off. */
export function errorResponse(error: AppError, requestId: string): HttpResponse {
  return json(error.statusCode, {
    id: error.id,
    message: error.message,
    detailed_error: '',
    request_id: requestId,
    status_code: error.statusCode,
  });
}

function decodeBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

function normalizeHeaders(headers: APIGatewayProxyEventV2['headers']): Record<string, string> {
  const normalized: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) normalized[name.toLowerCase()] = value;
  return normalized;
}

export interface HttpHandlerOptions {
  /**
   * Path parameters that are credentials (an incoming hook's id, a response_url's id): logs carry
   * `<name>_hash`, a short hash that correlates lines, never the value, which would let anyone
   * who reads the logs post.
   */
  credentialParameters?: string[];
}

/** The log keys of a request's path parameters, with credentials replaced by their short hash. */
export function loggedPathParameters(parameters: Record<string, string | undefined> | undefined, credentials: string[] = []) {
  const logged: Record<string, string> = {};
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (value === undefined) continue;
    if (credentials.includes(name)) logged[`${name}_hash`] = logHash(value);
    else logged[name] = value;
  }
  return logged;
}

/**
 * The one edge of every HTTP function: decodes the event, enforces the body size limit, runs the
 * route, and maps errors to responses. An `AppError` answers with its own status; anything else is
 * logged with its detail and answers a fixed 500, so internals never reach the caller.
 */
export function httpHandler<R extends EdgeRuntime>(
  route: string,
  handle: RouteHandler<R>,
  runtime: R,
  options: HttpHandlerOptions = {},
): LambdaHttpHandler {
  return async (event) => {
    const requestId = newId();
    // Path parameters (post_id, ...) go on every line, credentials only hashed; the body never does.
    const logger = requestLog(runtime.logger, {
      request_id: requestId,
      route,
      aws_request_id: event.requestContext?.requestId,
      ...loggedPathParameters(event.pathParameters, options.credentialParameters),
    });
    let response: HttpResponse;
    try {
      const declaredLength = Number(event.headers?.['content-length'] ?? 0);
      if (declaredLength > runtime.config.maxPayloadSizeBytes) throw errors.bodyTooLarge();
      const body = decodeBody(event);
      if (body.length > runtime.config.maxPayloadSizeBytes) throw errors.bodyTooLarge();
      const request: HttpRequest = {
        method: event.requestContext?.http?.method ?? 'GET',
        routeKey: event.routeKey ?? '',
        path: event.rawPath ?? event.requestContext?.http?.path ?? '/',
        pathParameters: (event.pathParameters ?? {}) as Record<string, string>,
        query: new URLSearchParams(event.rawQueryString ?? ''),
        headers: normalizeHeaders(event.headers),
        body,
        requestId,
        sourceIp: event.requestContext?.http?.sourceIp ?? '',
        log: logger,
      };
      response = await handle(request, runtime);
    } catch (error) {
      if (error instanceof AppError && error.statusCode < 500) {
        logger.info('request refused', { status: error.statusCode, error_id: error.id });
        response = errorResponse(error, requestId);
      } else if (error instanceof AppError) {
        logger.error('request failed', { status: error.statusCode, error_id: error.id, detail: error.detailedError });
        response = errorResponse(error, requestId);
      } else {
        logger.error('unexpected error', error as Error);
        response = errorResponse(errors.internal(), requestId);
      }
    }
    return {
      statusCode: response.statusCode,
      headers: {
        ...response.headers,
        'x-request-id': requestId,
        'x-version-id': `${runtime.config.version}.hookline`,
      },
      body: response.body,
      ...(response.isBase64Encoded ? { isBase64Encoded: true } : {}),
    };
  };
}

