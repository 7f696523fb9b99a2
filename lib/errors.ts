/**
 * Errors. `AppError` is Mattermost's error: an i18n id, an English message and the HTTP status it
 * answers with. Stores answer `undefined` for what is absent and typed errors where a write cannot
 * happen (`PostTooLargeError`, failed conditions via `isConditionFailure`); the use cases turn those
 * into an `AppError`, whose status depends on the situation. Anything else reaching the HTTP edge
 * becomes a 500 with a fixed message (see lib/http/handler.ts).
 */
export class AppError extends Error {
  constructor(
    readonly id: string,
    message: string,
    readonly statusCode: number,
    readonly detailedError = '',
  ) {
    super(message);
    this.name = 'AppError';
  }
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
