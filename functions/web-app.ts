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
 * The page runs only its own script and talks only to its own origin (the API and, later, the
 * websocket); posts' images may come from anywhere. Post HTML is sanitized in the app as well:
 * this is the second wall.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  'img-src * data:',
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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
  return httpHandler(
    'web-app',
    async (request): Promise<HttpResponse> => {
      assets ??= readAssets(distDir);
      if (!assets) throw notBuilt();
      const acceptEncoding = request.headers['accept-encoding'] ?? '';
      if (request.routeKey === 'GET /') {
        // Always revalidated, so a deploy is picked up at once; it names the immutable files.
        return send(assets.index, acceptEncoding, { 'cache-control': 'no-cache', 'content-security-policy': contentSecurityPolicy, 'x-frame-options': 'DENY' });
      }
      const file = assets.files.get(request.pathParameters.file ?? '');
      if (!file) throw errors.notFoundRoute();
      return send(file, acceptEncoding, { 'cache-control': 'public, max-age=31536000, immutable' });
    },
    runtime,
  );
};

export const handler = createHandler(edgeRuntimeFromEnv());
