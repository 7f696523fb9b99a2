/**
 * Mattermost's list paging (`web/params.go`): `page` from 0, `per_page` (or its old alias
 * `pageSize`) 60 by default and at most 200. Unlike the channel post reads, lists never refuse a
 * parameter: what does not parse, or is negative, takes the default, and more than 200 reads as 200.
 */
export const DEFAULT_LIST_PER_PAGE = 60;
export const MAX_LIST_PER_PAGE = 200;
/** Lists read at most this many items past their start, so a huge `page` cannot make a read unbounded. */
export const MAX_LIST_OFFSET = 10_000;

export interface Paging {
  page: number;
  perPage: number;
}

function nonNegativeInteger(raw: string | null): number | undefined {
  if (raw === null || !/^\d{1,9}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

export function pagingFromQuery(query: URLSearchParams): Paging {
  const page = nonNegativeInteger(query.get('page')) ?? 0;
  const perPage = nonNegativeInteger(query.get('per_page') ?? query.get('pageSize')) ?? DEFAULT_LIST_PER_PAGE;
  return { page, perPage: Math.min(perPage, MAX_LIST_PER_PAGE) };
}

/** The items of one page of a list held in memory, or none when the page starts past MAX_LIST_OFFSET. */
export function pageOf<T>(items: T[], paging: Paging): T[] {
  const start = paging.page * paging.perPage;
  if (start > MAX_LIST_OFFSET) return [];
  return items.slice(start, start + paging.perPage);
}

/** Go's `strconv.ParseBool` truthy spellings; anything else (or absent) is false. */
export function parseBoolParam(value: string | null): boolean {
  return value !== null && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value);
}
