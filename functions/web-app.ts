import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { AppError, errors } from '../lib/errors.js';
import { httpHandler, type HttpResponse } from '../lib/http/handler.js';
import { edgeRuntimeFromEnv, type EdgeRuntime } from '../lib/edge-runtime.js';

/**
 * The web app: `GET /` answers index.html, `GET /static/{file}` the content-hashed script and
 * stylesheet it names. The files are built into web/dist (infra/web/build.ts) and packaged next to
 * this function (serverless.yml's `package.patterns`), at the same relative place as in the repo,
 * so the same code serves them locally and on Lambda. They are read once per instance.
 */
const defaultDistDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * The page runs only its own script and talks only to its own origin (the API and, locally, the
 * websocket: CSP 3's 'self' matches ws: and wss: on the same host) and to the WebSocket API when
 * it has a host of its own (on AWS); posts' images may come from anywhere. Post HTML is sanitized
 * in the app as well: this is the second wall.
 */
const contentSecurityPolicy = (socketOrigin?: string) =>
  [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data:',
    `connect-src 'self'${socketOrigin ? ` ${socketOrigin}` : ''}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

/**
 * Where the page opens the websocket when that is not on the host that served the page:
 * `WEBSOCKET_URL`, unless its host is the request's. Behind the front door the page's origin is
 * the websocket's too, but API Gateway sees the execute-api Host, so the page names the URL
 * (which then works from any host the page is served on). Locally `WEBSOCKET_URL` is unset and
 * the page uses its own origin, where the local gateway serves /api/v4/websocket.
 */
export function separateWebsocketUrl(websocketUrl: string | undefined, requestHost: string | undefined): string | undefined {
  if (!websocketUrl) return undefined;
  let url: URL;
  try {
    url = new URL(websocketUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') return undefined;
  if (requestHost && url.host === requestHost.toLowerCase()) return undefined;
  return url.href.replace(/\/+$/, '');
}

const escapeAttribute = (text: string) => text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

const commonHeaders = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

interface Asset {
  body: string;
  /** The same, gzipped once per instance and base64-encoded: API Gateway's HTTP API does not compress. */
  gzipped: string;
  contentType: string;
}

function asset(body: string, contentType: string): Asset {
  return { body, gzipped: gzipSync(body, { level: 9 }).toString('base64'), contentType };
}

function readAssets(distDir: string): { index: Asset; files: Map<string, Asset> } | undefined {
  try {
    const files = new Map<string, Asset>();
    for (const name of readdirSync(path.join(distDir, 'static'))) {
      const type = contentTypes[path.extname(name)];
      if (type) files.set(name, asset(readFileSync(path.join(distDir, 'static', name), 'utf8'), type));
    }
    return { index: asset(readFileSync(path.join(distDir, 'index.html'), 'utf8'), contentTypes['.html']!), files };
  } catch {
    return undefined;
  }
}

const notBuilt = () => new AppError('web_app.not_built.app_error', 'The web app is not built: run `npx tsx infra/web/build.ts`.', 503);

/** The file as the browser accepts it: gzipped when it says it can take gzip. */
function send(file: Asset, acceptEncoding: string, headers: Record<string, string>): HttpResponse {
  // "gzip", but not "gzip;q=0", which refuses it.
  const gzip = /\bgzip\b(?!\s*;\s*q=0(?:\.0{0,3})?(?![.\d]))/i.test(acceptEncoding);
  return {
    statusCode: 200,
    headers: { 'content-type': file.contentType, vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}), ...commonHeaders, ...headers },
    body: gzip ? file.gzipped : file.body,
    isBase64Encoded: gzip,
  };
}

export const createHandler = (runtime: EdgeRuntime, distDir = defaultDistDir) => {
  let assets: ReturnType<typeof readAssets>;
  // index.html naming a websocket URL, built once per URL (one per stage in practice).
  const indexes = new Map<string, Asset>();
  return httpHandler(
    'web-app',
    async (request): Promise<HttpResponse> => {
      assets ??= readAssets(distDir);
      if (!assets) throw notBuilt();
      const acceptEncoding = request.headers['accept-encoding'] ?? '';
      if (request.routeKey === 'GET /') {
        // Always revalidated, so a deploy is picked up at once; it names the immutable files.
        const socketUrl = separateWebsocketUrl(runtime.config.websocketUrl, request.headers.host);
        let index = assets.index;
        if (socketUrl) {
          const base = assets.index.body;
          index = indexes.get(socketUrl) ?? asset(base.replace('</head>', `  <meta name="hookline-websocket-url" content="${escapeAttribute(socketUrl)}" />\n  </head>`), contentTypes['.html']!);
          indexes.set(socketUrl, index);
        }
        return send(index, acceptEncoding, {
          'cache-control': 'no-cache',
          'content-security-policy': contentSecurityPolicy(socketUrl ? new URL(socketUrl).origin : undefined),
          'x-frame-options': 'DENY',
        });
      }
      const file = assets.files.get(request.pathParameters.file ?? '');
      if (!file) throw errors.notFoundRoute();
      return send(file, acceptEncoding, { 'cache-control': 'public, max-age=31536000, immutable' });
    },
    runtime,
  );
};

export const handler = createHandler(edgeRuntimeFromEnv());
