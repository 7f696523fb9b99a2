import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  contentType: string;
}

function readAssets(distDir: string): { index: Asset; files: Map<string, Asset> } | undefined {
  try {
    const files = new Map<string, Asset>();
    for (const name of readdirSync(path.join(distDir, 'static'))) {
      const type = contentTypes[path.extname(name)];
      if (type) files.set(name, { body: readFileSync(path.join(distDir, 'static', name), 'utf8'), contentType: type });
    }
    return { index: { body: readFileSync(path.join(distDir, 'index.html'), 'utf8'), contentType: contentTypes['.html']! }, files };
  } catch {
    return undefined;
  }
}

const notBuilt = () => new AppError('web_app.not_built.app_error', 'The web app is not built: run `npx tsx infra/web/build.ts`.', 503);

export const createHandler = (runtime: EdgeRuntime, distDir = defaultDistDir) => {
  let assets: ReturnType<typeof readAssets>;
  return httpHandler(
    'web-app',
    async (request): Promise<HttpResponse> => {
      assets ??= readAssets(distDir);
      if (!assets) throw notBuilt();
      if (request.routeKey === 'GET /') {
        // Always revalidated, so a deploy is picked up at once; it names the immutable files.
        return {
          statusCode: 200,
          headers: { 'content-type': assets.index.contentType, 'cache-control': 'no-cache', 'content-security-policy': contentSecurityPolicy, 'x-frame-options': 'DENY', ...commonHeaders },
          body: assets.index.body,
        };
      }
      const asset = assets.files.get(request.pathParameters.file ?? '');
      if (!asset) throw errors.notFoundRoute();
      return { statusCode: 200, headers: { 'content-type': asset.contentType, 'cache-control': 'public, max-age=31536000, immutable', ...commonHeaders }, body: asset.body };
    },
    runtime,
  );
};

export const handler = createHandler(edgeRuntimeFromEnv());
