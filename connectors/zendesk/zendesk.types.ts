/**
 * Zendesk Support API wire types: only the fields this connector reads or writes.
 * Ids are numbers in the REST API (they fit in a JS number) and strings in event webhooks.
 */

export type ZendeskId = number;

export type ZendeskUserRole = 'end-user' | 'agent' | 'admin';

export interface ZendeskUser {
  id: ZendeskId;
  name: string;
  email?: string | null;
  phone?: string | null;
  external_id?: string | null;
  role: ZendeskUserRole;
  active?: boolean;
  created_at?: string;
  updated_at?: string;
}

export type ZendeskIdentityType = 'email' | 'phone_number' | 'twitter' | 'facebook' | 'google' | 'agent_forwarding' | 'sdk';

export interface ZendeskIdentity {
  id: ZendeskId;
  user_id: ZendeskId;
  type: ZendeskIdentityType;
  value: string;
  verified?: boolean;
  primary?: boolean;
}

/** Body of POST /users/create_or_update (inside `{ user: … }`). */
export interface ZendeskUserInput {
  name: string;
  external_id?: string;
  phone?: string;
  role?: ZendeskUserRole;
  identities?: { type: ZendeskIdentityType; value: string }[];
}

export type ZendeskTicketStatus = 'new' | 'open' | 'pending' | 'hold' | 'solved' | 'closed';
export type ZendeskPriority = 'low' | 'normal' | 'high' | 'urgent';

export interface ZendeskVia {
  channel: string;
  source?: { from?: Record<string, unknown>; to?: Record<string, unknown>; rel?: string | null };
}

export interface ZendeskTicket {
  id: ZendeskId;
  subject: string;
  status: ZendeskTicketStatus;
  requester_id: ZendeskId;
  submitter_id?: ZendeskId;
  external_id?: string | null;
  tags?: string[];
  group_id?: ZendeskId | null;
  priority?: ZendeskPriority | null;
  created_at: string;
  updated_at: string;
  via?: ZendeskVia;
}

/** A group of agents (GET /groups). */
export interface ZendeskGroup {
  id: ZendeskId;
  name: string;
  deleted?: boolean;
}

/** One page of a cursor-paginated list. */
export interface ZendeskCursorPage {
  meta?: { has_more?: boolean; after_cursor?: string | null };
}

export interface ZendeskCommentInput {
  body: string;
  public: boolean;
  author_id?: ZendeskId;
  /** Upload tokens from POST /uploads. */
  uploads?: string[];
}

export interface ZendeskCustomFieldValue {
  id: ZendeskId;
  value: unknown;
}

/** Body of POST /tickets (inside `{ ticket: … }`). */
export interface ZendeskTicketCreateInput {
  subject: string;
  requester_id: ZendeskId;
  external_id: string;
  comment: ZendeskCommentInput;
  tags?: string[];
  group_id?: ZendeskId;
  priority?: ZendeskPriority;
  assignee_id?: ZendeskId;
  custom_fields?: ZendeskCustomFieldValue[];
  /** Links a new ticket to a closed one (Zendesk ignores it for tickets that aren't closed). */
  via_followup_source_id?: ZendeskId;
  metadata?: ZendeskAuditCustomMetadata;
}

/** Body of PUT /tickets/{id} (inside `{ ticket: … }`). */
export interface ZendeskTicketUpdateInput {
  status?: ZendeskTicketStatus;
  group_id?: ZendeskId;
  priority?: ZendeskPriority;
  assignee_id?: ZendeskId;
  comment?: ZendeskCommentInput;
  /** Write-only: lands in the resulting audit as `metadata.custom`. */
  metadata?: ZendeskAuditCustomMetadata;
}

/** What threadbridge writes into an audit's custom metadata to recognise its own updates. */
export interface ZendeskAuditCustomMetadata {
  threadbridge?: {
    /** Compact ids of the WhatsApp messages the audit's comment carries. */
    m?: string[];
    /** Transcript key (conversation id and close time) for a transcript note. */
    t?: string;
    /** Reply-status key (`<comment id>:<state>`) for a note reporting what became of an agent's reply. */
    r?: string;
  };
}

export interface ZendeskAttachment {
  id: ZendeskId;
  file_name: string;
  content_url: string;
  content_type?: string;
  size?: number;
}

export interface ZendeskComment {
  id: ZendeskId;
  type?: 'Comment' | 'VoiceComment';
  author_id: ZendeskId;
  body: string;
  html_body?: string;
  plain_body?: string;
  public: boolean;
  attachments?: ZendeskAttachment[];
  via?: ZendeskVia;
  created_at: string;
}

export interface ZendeskAuditEvent {
  id: ZendeskId;
  type: string; // 'Comment' | 'Create' | 'Change' | 'Notification' | …
  body?: string;
  public?: boolean;
  author_id?: ZendeskId;
  attachments?: ZendeskAttachment[];
  field_name?: string;
  value?: unknown;
  previous_value?: unknown;
}

export interface ZendeskAudit {
  id: ZendeskId;
  ticket_id: ZendeskId;
  author_id: ZendeskId;
  created_at: string;
  via?: ZendeskVia;
  metadata?: { system?: Record<string, unknown>; custom?: ZendeskAuditCustomMetadata };
  events: ZendeskAuditEvent[];
}

/** Response of POST /tickets and PUT /tickets/{id}. */
export interface ZendeskTicketWithAudit {
  ticket: ZendeskTicket;
  audit?: ZendeskAudit;
}

export interface ZendeskUpload {
  token: string;
  expires_at?: string;
  attachments?: ZendeskAttachment[];
  attachment?: ZendeskAttachment;
}

/** Zendesk's error body: `{"error":"RecordInvalid","description":"…","details":{field:[{description}]}}`. */
export interface ZendeskErrorBody {
  error?: string | { title?: string; message?: string };
  description?: string;
  details?: Record<string, { description?: string; error?: string }[] | unknown>;
}

export interface ZendeskWebhookInput {
  name: string;
  endpoint: string;
  http_method: 'POST';
  request_format: 'json';
  status: 'active' | 'inactive';
  subscriptions: string[];
}

export interface ZendeskWebhook extends ZendeskWebhookInput {
  id: string;
}

export interface ZendeskTriggerCondition {
  field: string;
  operator: string;
  value?: string;
}

export interface ZendeskTriggerInput {
  title: string;
  description?: string;
  active: boolean;
  conditions: { all: ZendeskTriggerCondition[]; any: ZendeskTriggerCondition[] };
  actions: { field: string; value: unknown }[];
}

export interface ZendeskTrigger extends ZendeskTriggerInput {
  id: ZendeskId;
}

// ---------------------------------------------------------------------------------------------
// Webhooks Zendesk sends us

export const COMMENT_ADDED_EVENT = 'zen:event-type:ticket.comment_added';

/** An event-subscription webhook (`zen:event-type:ticket.comment_added`). Ids are strings here. */
export interface ZendeskCommentAddedEvent {
  type: typeof COMMENT_ADDED_EVENT;
  id: string;
  time: string;
  account_id?: number | string;
  /** `zen:ticket:<id>` */
  subject: string;
  zendesk_event_version?: string;
  detail: {
    id: string | number;
    requester_id?: string | number;
    external_id?: string | null;
    status?: string;
    tags?: string[];
    [key: string]: unknown;
  };
  event: {
    comment: {
      id: string | number;
      body: string;
      is_public: boolean;
      author: { id: string | number; is_staff?: boolean; name?: string };
      attachments?: { content_url?: string; url?: string; file_name?: string; filename?: string; content_type?: string }[];
    };
  };
}

/**
 * The JSON body our trigger sends (see TRIGGER_WEBHOOK_BODY in zendesk.webhook-setup.ts).
 * Placeholders render as strings; a missing placeholder renders as "".
 */
export interface ZendeskTriggerPayload {
  threadbridge: 1 | '1';
  ticket_id: string;
  ticket_external_id?: string;
  requester_id?: string;
  comment_id: string;
  comment_author_id?: string;
  comment_author_name?: string;
  comment_public?: string | boolean;
  comment_body?: string;
  current_user_id?: string;
  attachments?: { url?: string; filename?: string }[];
}
