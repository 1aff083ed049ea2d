import type { ReplyAttachment } from '../../connectors/_sdk/contract';
import type { GateRefusal } from '../consent/consent-gate';
import type { MessageCategory } from '../consent/consent.types';

/** Categories Meta approves templates in (a template is never a `service` message). */
export const TEMPLATE_CATEGORIES = ['marketing', 'utility', 'authentication'] as const satisfies readonly MessageCategory[];
export type TemplateCategory = (typeof TEMPLATE_CATEGORIES)[number];

/** Placeholders a template parameter mapping may use; anything else is literal text. */
export const TEMPLATE_TOKENS = ['{{agent.text}}', '{{customer.name}}'] as const;

/**
 * The template a connection falls back to outside the 24-hour window: its settings'
 * `replyTemplate`. `parameters` (optional) overrides the registered template's mapping.
 */
export interface ReplyTemplateSetting {
  name: string;
  language: string;
  parameters?: string[];
}

/** An approved WhatsApp template registered with POST /api/v1/templates. */
export interface RegisteredTemplate {
  id: string;
  name: string;
  language: string;
  category: TemplateCategory;
  /** How each body placeholder ({{1}}, {{2}}…) is filled: a token of TEMPLATE_TOKENS or literal text. */
  parameters: string[];
  createdAt: Date;
  updatedAt: Date;
}

/** Why threadbridge did not send a reply (the gate's reasons and the router's own). */
export type ReplyRefusal = GateRefusal | 'no_reply_template' | 'template_not_registered' | 'invalid_message' | 'unknown_conversation' | 'attachments_not_sent';

/** What became of a reply threadbridge was asked to send. */
export type ReplyOutcome =
  /**
   * `messageId`: the reply's text (or, without text, its first file). `detail`: what of the reply
   * did not go (files WhatsApp would not take, files outside the window), told to the agent.
   */
  | { status: 'queued'; messageId: string; mode: 'text' | 'template'; duplicate: boolean; detail?: string }
  | { status: 'refused'; reason: ReplyRefusal; detail: string };

/** An agent's reply as a connection reported it (agent_replies). */
export interface AgentReplyRow {
  id: string;
  /** Arrival order. */
  seq: string;
  connectionId: string;
  remoteId: string;
  remoteThreadId: string | null;
  remoteContactId: string | null;
  /** Null once routed: the outbound message holds the text from then on. */
  text: string | null;
  author: string;
  attachments: ReplyAttachment[];
  conversationId: string | null;
  messageId: string | null;
  status: 'received' | 'queued' | 'refused' | 'failed';
  mode: 'text' | 'template' | null;
  /** Why it was refused or failed; for a queued reply, what of it was not sent (its files). */
  detail: string | null;
}
