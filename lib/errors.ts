/**
 * Errors. `AppError` is Mattermost's error: an i18n id, an English message and the HTTP status it
 * answers with. Stores answer `undefined` for what is absent and typed errors where a write cannot
 * happen (`PostTooLargeError`, failed conditions via `isConditionFailure`); the use cases turn those
 * into an `AppError`, whose status depends on the situation. Anything else reaching the HTTP edge
 * becomes a 500 with a fixed message (see lib/http/handler.ts).
 */
export class AppError extends Error {
  /** For the logs only, never for the caller; often an integration's answer, so at most 1 KB of it. */
  readonly detailedError: string;

  constructor(
    readonly id: string,
    message: string,
    readonly statusCode: number,
    detailedError = '',
  ) {
    super(message);
    this.name = 'AppError';
    this.detailedError = truncateUtf8(detailedError, MAX_LOGGED_DETAIL_BYTES);
  }
}

/** An integration may answer an error with a megabyte of body; the logs keep its first kilobyte. */
export const MAX_LOGGED_DETAIL_BYTES = 1024;

/** The first `maxBytes` bytes of `text` in UTF-8, marked when cut. */
export function truncateUtf8(text: string, maxBytes: number): string {
  // A UTF-16 unit is at most 3 UTF-8 bytes: most texts need no encoding to know they fit.
  if (text.length * 3 <= maxBytes || Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const cut = Buffer.from(text, 'utf8').subarray(0, maxBytes).toString('utf8').replace(/\uFFFD$/, '');
  return `${cut}… (truncated)`;
}

/** The errors shared by several routes, with Mattermost's ids and English texts. */
export const errors = {
  invalidUrlParam: (name: string) =>
    new AppError('api.context.invalid_url_param.app_error', `Invalid or missing ${name} parameter in request URL.`, 400),
  invalidParam: (name: string) =>
    new AppError('api.context.invalid_param.app_error', `Invalid or missing ${name} parameter in request body.`, 400),
  invalidBodyParam: (name: string) =>
    new AppError('api.context.invalid_body_param.app_error', `Invalid or missing ${name} in request body.`, 400),
  sessionExpired: () =>
    new AppError('api.context.session_expired.app_error', 'Invalid or expired session, please login again.', 401),
  permissions: () =>
    new AppError('api.context.permissions.app_error', 'You do not have the appropriate permissions.', 403),
  bodyTooLarge: () =>
    new AppError('api.context.request_body_too_large.app_error', 'The request body is too large.', 413),
  notFoundRoute: () => new AppError('api.context.404.app_error', 'Sorry, we could not find the page.', 404),
  methodNotAllowed: () =>
    new AppError('api.context.method_not_allowed.app_error', 'This method is not allowed on this route.', 405),
  invalidUtf8: () =>
    new AppError('api.context.invalid_body_param.app_error', 'The request body is not valid UTF-8.', 400),
  internal: () => new AppError('api.context.internal_error.app_error', 'An internal error occurred.', 500),
};
