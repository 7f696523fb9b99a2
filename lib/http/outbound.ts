import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ADDRESS_FORBIDDEN, AllowList } from './ssrf.js';

/**
 * The one outbound HTTP client: every call to an integration (outgoing webhooks, slash commands,
 * actions) goes through it. It checks the SSRF rules on the address it actually connects to (a
 * custom DNS lookup, so a hostname resolving to a private address is refused too), follows no
 * redirects, reads at most `maxResponseBytes` of the answer, and gives up after `timeoutMs`.
 */
export const MAX_INTEGRATION_RESPONSE_BYTES = 1024 * 1024;
const USER_AGENT = 'Hookline/0.1 (Mattermost-compatible; +Mattermost-Bot/1.1)';

export type OutboundFailure = 'forbidden' | 'invalid_url' | 'timeout' | 'network';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  allowList: AllowList;
  maxResponseBytes?: number;
  /** For tests: how hostnames resolve. Defaults to the system resolver. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface OutboundResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** True when the answer was longer than the cap and only its start was read. */
  truncated: boolean;
  latencyMs: number;
}

const systemResolve = (hostname: string) =>
  new Promise<LookupAddress[]>((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

export async function outboundRequest(request: OutboundRequest): Promise<OutboundResponse> {
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    throw new OutboundError('invalid_url', `invalid URL: ${request.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid_url', `unsupported scheme ${url.protocol}`);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const trusted = request.allowList.allowsHost(hostname);
  const resolve = request.resolve ?? systemResolve;

  // IP literals are never looked up by Node, so they are checked here; names are checked at lookup.
  const literal = /^[\d.]+$/.test(hostname) || hostname.includes(':');
  if (literal && !trusted && !request.allowList.allowsAddress(hostname)) throw new OutboundError('forbidden', ADDRESS_FORBIDDEN);

  const lookup: LookupFunction = (name, options, callback) => {
    resolve(name).then(
      (addresses) => {
        const allowed = trusted ? addresses : addresses.filter((address) => request.allowList.allowsAddress(address.address));
        const chosen = allowed[0];
        if (!chosen) return callback(new OutboundError('forbidden', ADDRESS_FORBIDDEN), '', 4);
        if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
        callback(null, chosen.address, chosen.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 4),
    );
  };

  const maxBytes = request.maxResponseBytes ?? MAX_INTEGRATION_RESPONSE_BYTES;
  const startedMs = performance.now();
  return new Promise<OutboundResponse>((resolvePromise, rejectPromise) => {
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outcome();
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const outgoing = send(
      url,
      {
        method: request.method,
        headers: { 'user-agent': USER_AGENT, ...request.headers, ...(request.body !== undefined ? { 'content-length': Buffer.byteLength(request.body) } : {}) },
        lookup,
        agent: false,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let received = 0;
        let truncated = false;
        const finish = () =>
          settle(() =>
            resolvePromise({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: Buffer.concat(chunks),
              truncated,
              latencyMs: performance.now() - startedMs,
            }),
          );
        response.on('data', (chunk: Buffer) => {
          const room = maxBytes - received;
          if (chunk.length > room) {
            chunks.push(chunk.subarray(0, room));
            received = maxBytes;
            truncated = true;
            finish();
            response.destroy();
            return;
          }
          chunks.push(chunk);
          received += chunk.length;
        });
        response.on('end', finish);
        response.on('error', (error) => settle(() => rejectPromise(new OutboundError('network', error.message))));
      },
    );
    const timer = setTimeout(() => {
      settle(() => rejectPromise(new OutboundError('timeout', `no complete answer within ${request.timeoutMs} ms`)));
      outgoing.destroy();
    }, request.timeoutMs);
    outgoing.on('error', (error) =>
      settle(() =>
        rejectPromise(error instanceof OutboundError ? error : new OutboundError('network', (error as Error).message)),
      ),
    );
    if (request.body !== undefined) outgoing.write(request.body);
    outgoing.end();
  });
}
