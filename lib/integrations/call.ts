/**
 * The one caller of integrations, for slash commands, action clicks and outgoing-webhook
 * deliveries: it signs the request (Standard Webhooks), caps the timeout of the calls a user waits
 * on, sends it through the outbound client (SSRF guard, size cap, no redirects), records the
 * integration-call metric, and turns every way a call can fail into one `IntegrationCallError`,
 * which each path maps to its own Mattermost error or delivery outcome.
 */
import { OutboundError, outboundRequest, type OutboundFailure, type OutboundResponse } from '../http/outbound.js';
import type { AllowList } from '../http/ssrf.js';
import type { Config } from '../config.js';
import type { BusinessMetrics } from '../metrics.js';
import { signatureHeaders, type SigningKeys } from '../webhooks/signing.js';

/**
 * Commands and actions answer a user who waits: within API Gateway's 30 s, with room for the rest
 * of the request. Outgoing deliveries run in the worker, which nobody waits on.
 */
export const MAX_SYNCHRONOUS_TIMEOUT_MS = 25_000;

/** `command`, `action` and `dialog` (submissions and lookups) are synchronous; `outgoing_webhook` is a queued delivery. */
export type IntegrationKind = 'command' | 'action' | 'dialog' | 'outgoing_webhook';

export interface IntegrationCall {
  kind: IntegrationKind;
  url: string;
  method: 'GET' | 'POST';
  /** Headers besides the signature's and `accept: application/json` (content type, authorization). */
  headers: Record<string, string>;
  /** The body sent, and signed; empty for a GET, whose parameters are in the URL. */
  body: string;
  /**
   * The integration's `whsec_` secret, or its signing keys (during a rotation window the previous
   * secret signs too); undefined sends the request unsigned.
   */
  signingSecret: string | SigningKeys | undefined;
  /** The signature's `webhook-id`: a call's client trigger id, or a delivery's id (the same on every retry). */
  messageId: string;
}

/** What a call needs of the runtime (the outgoing worker's runtime has it too). */
export interface CallerRuntime {
  config: Pick<Config, 'outgoingRequestsTimeoutMs'>;
  allowList: AllowList;
  metrics: Pick<BusinessMetrics, 'integrationCall'>;
  nowMs: () => number;
}

/**
 * Why a call failed: the outbound client's reasons (`forbidden` and `invalid_url`: the address is
 * refused, no retry mends it; `timeout`; `network`), or `status`, an answer with a status the kind
 * does not accept (its `response` is kept).
 */
export type CallFailure = OutboundFailure | 'status';

export class IntegrationCallError extends Error {
  constructor(
    readonly failure: CallFailure,
    message: string,
    readonly latencyMs: number,
    readonly response?: OutboundResponse,
  ) {
    super(message);
    this.name = 'IntegrationCallError';
  }
}

/** Mattermost takes a command's or an action's answer only with 200; an outgoing hook's with any 2xx. */
function accepts(kind: IntegrationKind, status: number): boolean {
  return kind === 'outgoing_webhook' ? status >= 200 && status < 300 : status === 200;
}

export function callTimeoutMs(kind: IntegrationKind, configuredMs: number): number {
  return kind === 'outgoing_webhook' ? configuredMs : Math.min(configuredMs, MAX_SYNCHRONOUS_TIMEOUT_MS);
}

/** Calls the integration; an accepted answer is returned, anything else throws IntegrationCallError. */
export async function callIntegration(runtime: CallerRuntime, call: IntegrationCall): Promise<OutboundResponse> {
  const startedMs = runtime.nowMs();
  const record = (outcome: 'answered' | 'failed', latencyMs: number) => {
    // A delivery's outcome is the delivery log's (retried, dead-lettered...), recorded by the worker.
    if (call.kind !== 'outgoing_webhook') runtime.metrics.integrationCall(call.kind, outcome, latencyMs);
  };
  let response: OutboundResponse;
  try {
    response = await outboundRequest({
      url: call.url,
      method: call.method,
      headers: {
        accept: 'application/json',
        ...call.headers,
        ...(call.signingSecret ? signatureHeaders(call.signingSecret, call.messageId, call.body, new Date(startedMs)) : {}),
      },
      ...(call.method === 'GET' ? {} : { body: call.body }),
      timeoutMs: callTimeoutMs(call.kind, runtime.config.outgoingRequestsTimeoutMs),
      allowList: runtime.allowList,
    });
  } catch (error) {
    if (!(error instanceof OutboundError)) throw error;
    const latencyMs = runtime.nowMs() - startedMs;
    record('failed', latencyMs);
    throw new IntegrationCallError(error.kind, error.message, latencyMs);
  }
  if (!accepts(call.kind, response.status)) {
    record('failed', response.latencyMs);
    throw new IntegrationCallError('status', `status=${response.status}`, response.latencyMs, response);
  }
  record('answered', response.latencyMs);
  return response;
}
