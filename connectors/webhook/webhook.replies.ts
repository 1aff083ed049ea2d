/**
 * The way back: `reply.created` events the receiving system posts to POST /webhooks/connections/:id,
 * signed like our deliveries (Standard Webhooks, this connection's secret, 5-minute tolerance).
 */
import { Webhook } from 'standardwebhooks';
import type { AgentReplyEvent, RawWebhook } from '../_sdk/contract';
import { ConnectorError } from '../_sdk/errors';
import type { ReplyCreatedEvent } from './webhook.types';

const REPLY_TEXT_MAX = 4096;

function header(req: RawWebhook, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether `req` carries a valid signature of its exact bytes by `secret`, made within 5 minutes of
 * now (the standardwebhooks library compares in constant time and checks the timestamp).
 */
export function verifyReplyWebhook(secret: string, req: RawWebhook): boolean {
  const id = header(req, 'webhook-id');
  const timestamp = header(req, 'webhook-timestamp');
  const signature = header(req, 'webhook-signature');
  if (!id || !timestamp || !signature) return false;
  try {
    new Webhook(secret).verify(req.rawBody, { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signature }, { jsonParse: false });
    return true;
  } catch {
    return false;
  }
}

const nonEmpty = (value: unknown, max: number): value is string => typeof value === 'string' && value.trim().length > 0 && value.length <= max;

/**
 * The agent replies in a verified body: `reply.created` becomes one; other event types are not
 * for us (ignored). A `reply.created` without what it needs is refused (400 to the sender).
 */
export function parseReplyWebhook(req: RawWebhook): AgentReplyEvent[] {
  let body: unknown;
  try {
    body = JSON.parse(req.rawBody.toString('utf8'));
  } catch {
    throw new ConnectorError('invalid_request', 'the body is not JSON');
  }
  if (!body || typeof body !== 'object' || (body as { type?: unknown }).type !== 'reply.created') return [];
  const { data } = body as Partial<ReplyCreatedEvent>;
  const problems = [
    ...(nonEmpty(data?.replyId, 200) ? [] : ['data.replyId must be a non-empty string (at most 200 characters)']),
    ...(nonEmpty(data?.conversationId, 200) ? [] : ['data.conversationId must be the conversationId of the events']),
    ...(nonEmpty(data?.text, REPLY_TEXT_MAX) ? [] : [`data.text must be a non-empty string of at most ${REPLY_TEXT_MAX} characters`]),
    ...(nonEmpty(data?.author, 200) ? [] : ['data.author must be a non-empty string (at most 200 characters)']),
  ];
  if (problems.length > 0 || !data) throw new ConnectorError('invalid_request', `reply.created refused: ${problems.join('; ')}`);
  return [{ kind: 'agent_reply', remoteId: data.replyId, remoteThreadId: data.conversationId, text: data.text, author: data.author, attachments: [] }];
}
