/**
 * The one zod every function bundle uses: `zod/mini`, the tree-shakable functional API (issue 9:
 * the full zod API is about 440 KB of each bundle and cannot be tree-shaken). Import it as
 * `import * as z from './zod.js'` and write schemas as functions: `z.optional(x)`, `z.nullish(x)`,
 * `z._default(x, v)`, `x.check(z.minLength(1))`, `z.pipe(x, z.transform(f))`.
 *
 * Unlike full zod, zod/mini loads no locale, so every issue would read "Invalid input". Loading
 * English here keeps the messages full zod gives (some reach callers, e.g. an outgoing webhook's
 * `api.unmarshal_error: ...`). Every module that writes schemas imports zod through this file, so
 * the locale is set before any of them parses. The seed (lib/seed/schema.ts, in no function
 * bundle) keeps full zod, which registers the same English locale itself.
 */
import { config, NEVER, type core } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';

/**
 * Inside `z.transform`: refuses the input with `message`, as full zod's `ctx.addIssue({ code:
 * 'custom', message })` followed by `return z.NEVER` did (zod/mini's context has no `addIssue`).
 */
export function refuse(ctx: core.ParsePayload, message: string): never {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
  return NEVER;
}
