/**
 * Zendesk → threadbridge webhooks: the signature scheme, the JSON body our trigger sends, and
 * the webhook/trigger definitions the set-up call creates. Pure: no I/O.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ZendeskTriggerInput, ZendeskWebhookInput } from './zendesk.types';

export const SIGNATURE_HEADER = 'x-zendesk-webhook-signature';
export const SIGNATURE_TIMESTAMP_HEADER = 'x-zendesk-webhook-signature-timestamp';

/** Deliveries signed longer ago than this are refused (replay protection). */
export const MAX_SIGNATURE_AGE_MS = 5 * 60_000;
/** Tolerated clock skew for timestamps in the future. */
export const MAX_SIGNATURE_SKEW_MS = 60_000;

/** `base64(HMAC-SHA256(secret, timestamp + body))`, as Zendesk signs webhook requests. */
export function signZendeskWebhook(secret: string, timestamp: string, rawBody: Buffer | string): string {
  return createHmac('sha256', secret).update(timestamp).update(rawBody).digest('base64');
}

/**
 * Zendesk sends the timestamp as ISO 8601 (`2021-03-25T05:09:27Z`); epoch seconds/milliseconds
 * are read too. Returns undefined when unreadable.
 */
export function parseSignatureTimestamp(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const n = Number(trimmed);
    return trimmed.length <= 10 ? n * 1000 : n;
  }
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms;
}

export interface SignatureCheck {
  secret: string | undefined;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: Buffer;
  receivedAt: Date;
}

/**
 * Checks a delivery's signature in constant time, and that it was signed within the last five
 * minutes (and not more than a minute in the future). False when anything is missing.
 */
export function verifyZendeskSignature(check: SignatureCheck): boolean {
  const { secret, signature, timestamp } = check;
  if (!secret || !signature || !timestamp) return false;
  const signedAt = parseSignatureTimestamp(timestamp);
  if (signedAt === undefined) return false;
  const age = check.receivedAt.getTime() - signedAt;
  if (age > MAX_SIGNATURE_AGE_MS || age < -MAX_SIGNATURE_SKEW_MS) return false;

  const expected = Buffer.from(signZendeskWebhook(secret, timestamp, check.rawBody), 'utf8');
  const given = Buffer.from(signature.trim(), 'utf8');
  // timingSafeEqual throws on different lengths; the length of a base64 HMAC is not a secret.
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/**
 * The JSON body of the trigger-connected webhook. Zendesk renders the placeholders (escaping
 * them for JSON) when the trigger fires; parseWebhook reads the result. `ticket.latest_comment`
 * is the comment that fired the trigger; `current_user` is whoever made the update.
 */
export const TRIGGER_WEBHOOK_BODY = `{
  "threadbridge": 1,
  "ticket_id": "{{ticket.id}}",
  "ticket_external_id": "{{ticket.external_id}}",
  "requester_id": "{{ticket.requester.id}}",
  "comment_id": "{{ticket.latest_comment.id}}",
  "comment_author_id": "{{ticket.latest_comment.author.id}}",
  "comment_author_name": "{{ticket.latest_comment.author.name}}",
  "comment_body": "{{ticket.latest_comment.value}}",
  "current_user_id": "{{current_user.id}}",
  "attachments": [{% for attachment in ticket.latest_comment.attachments %}{% unless forloop.first %},{% endunless %}{"url": "{{attachment.url}}", "filename": "{{attachment.filename}}"}{% endfor %}]
}`;

export const WEBHOOK_NAME = 'threadbridge: agent replies to WhatsApp';
export const TRIGGER_TITLE = 'threadbridge: send public agent replies to WhatsApp';

/** The webhook for the trigger (`conditional_ticket_events`) or the event subscription. */
export function toZendeskWebhook(targetUrl: string, mode: 'trigger' | 'event'): ZendeskWebhookInput {
  return {
    name: WEBHOOK_NAME,
    endpoint: targetUrl,
    http_method: 'POST',
    request_format: 'json',
    status: 'active',
    subscriptions: mode === 'trigger' ? ['conditional_ticket_events'] : ['zen:event-type:ticket.comment_added'],
  };
}

/**
 * The trigger: an update (not a creation) that adds a public comment, made by an agent/admin
 * (not the end user), not through the API (so our own API user's writes never loop back), on a
 * ticket tagged as ours → notify the webhook with {@link TRIGGER_WEBHOOK_BODY}.
 * Condition field names are those of Zendesk's trigger conditions reference.
 */
export function toZendeskReplyTrigger(webhookId: string, tag: string): ZendeskTriggerInput {
  return {
    title: TRIGGER_TITLE,
    description: 'Created by threadbridge. Sends public agent comments on WhatsApp tickets to the customer.',
    active: true,
    conditions: {
      all: [
        { field: 'update_type', operator: 'is', value: 'Change' },
        { field: 'comment_is_public', operator: 'is', value: 'true' },
        { field: 'role', operator: 'is_not', value: 'end_user' },
        { field: 'current_tags', operator: 'includes', value: tag },
        // Via "Web service (API)" = 5: our API user's own comments and notes never fire it.
        { field: 'current_via_id', operator: 'is_not', value: '5' },
      ],
      any: [],
    },
    actions: [{ field: 'notification_webhook', value: [webhookId, TRIGGER_WEBHOOK_BODY] }],
  };
}
