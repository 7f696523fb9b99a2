/**
 * Sends to websocket connections through API Gateway's Management API (`POST /@connections/{id}`),
 * the one way a Lambda reaches a client. Locally the gateway in infra/local serves the same API on
 * the HTTP port, so this client only changes its endpoint. A connection that is gone answers 410,
 * reported as `gone` so the caller forgets it.
 */
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { awsClientTimeouts, localEndpoint, MANAGEMENT_API_MAX_ATTEMPTS } from '../aws.js';

export type SendOutcome = 'sent' | 'gone';

export interface ConnectionSender {
  send(connectionId: string, message: string): Promise<SendOutcome>;
  /** Closes the connection from the server's side (API Gateway then runs `$disconnect`). */
  close(connectionId: string): Promise<void>;
}

const isGone = (error: unknown) => error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode === 410;

export function managementApiSender(options: { endpoint: string; region: string; local: boolean }): ConnectionSender {
  const client = new ApiGatewayManagementApiClient({
    region: options.region,
    endpoint: options.endpoint,
    ...(options.local ? localEndpoint(options.endpoint) : {}),
    ...awsClientTimeouts,
    maxAttempts: MANAGEMENT_API_MAX_ATTEMPTS,
  });
  const encoder = new TextEncoder();
  return {
    async send(connectionId, message) {
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(message) }));
        return 'sent';
      } catch (error) {
        if (isGone(error)) return 'gone';
        throw error;
      }
    },
    async close(connectionId) {
      try {
        await client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
      } catch (error) {
        if (!isGone(error)) throw error;
      }
    },
  };
}
