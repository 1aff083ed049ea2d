import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import type { CrmConnector, ReplyAttachment } from '../../connectors/_sdk/contract';
import { LOGGER } from '../common/logger';
import { ConsentGate } from '../consent/consent-gate';
import { ConnectionsService } from '../connections/connections.service';
import { ConnectorFactory } from '../connections/connector-factory';
import { OutboxRepository, type TaskRef } from '../tasks/outbox.repository';
import { QueueName } from '../tasks/queues';
import { TaskQueue } from '../tasks/task-queue';
import { InvalidOutboundMessageError, type OutboundRequest, type SendResult } from '../whatsapp/outbound/outbound.types';
import { WhatsAppSender } from '../whatsapp/outbound/whatsapp-sender.service';
import { AgentRepliesRepository, type ReplyTarget } from './agent-replies.repository';
import { ReplyTargetNotFoundError } from './replies.errors';
import type { AgentReplyRow, ReplyOutcome, ReplyRefusal, ReplyTemplateSetting } from './replies.types';
import { ReplyAttachmentsService } from './reply-attachments.service';
import {
  attachmentName,
  chooseReplyForm,
  describeAttachmentsOutsideWindow,
  describeUnsentAttachments,
  readReplyTemplate,
  renderTemplateParameters,
} from './reply-rules';
import { TemplatesRepository } from './templates.repository';

/** What an agent in a connected system can do when a reply cannot go out as free text. */
const CONNECTION_HINT =
  'Set settings.replyTemplate on this connection (PATCH /api/v1/connections/:id) to an approved template registered with POST /api/v1/templates, or answer when the customer writes again.';
/** The same for a reply sent through the API. */
const API_HINT = 'Send an approved template with POST /api/v1/contacts/:id/messages, or answer when the customer writes again.';

/** A message to a contact through the API: text (inside the 24-hour window) or a registered template. */
export interface ContactMessageInput {
  text?: string;
  template?: { name: string; language: string; parameters?: string[] };
  author: string;
  idempotencyKey: string;
}

const refused = (reason: ReplyRefusal, detail: string): ReplyOutcome => ({ status: 'refused', reason, detail });

/** What sendReply needs beyond the text: the reply's files and where to fetch them. */
interface ReplyFiles {
  attachments: ReplyAttachment[];
  /** The connector that fetches them (made only when there are files); null when the connection cannot be used. */
  connector: () => CrmConnector | null;
  /** The system they come from, for what the agent is told. */
  system: string;
}

/**
 * Routes replies to customers on WhatsApp: an agent's reply from a connected system (by its
 * ticket/thread), or one sent through the API. Inside the customer's 24-hour window a reply goes as
 * free text; outside it as the connection's approved reply template; else it is not sent and the
 * agent is told why and what to do. Every send goes through WhatsAppSender (consent gate, queue,
 * idempotency key), so a reply delivered twice is sent once.
 */
@Injectable()
export class ReplyRouterService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly replies: AgentRepliesRepository,
    private readonly templates: TemplatesRepository,
    private readonly gate: ConsentGate,
    private readonly sender: WhatsAppSender,
    private readonly attachments: ReplyAttachmentsService,
    private readonly connections: ConnectionsService,
    private readonly factory: ConnectorFactory,
    private readonly outbox: OutboxRepository,
    private readonly queue: TaskQueue,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Routes one stored agent reply (a `replies` task): finds its conversation, sends it (or not) and
   * records the outcome; a refusal or failure is reported back to the connection by a reply-status
   * task. A reply routed before is left alone. `waiting`: an earlier reply on the same thread
   * goes first (try again shortly).
   */
  async route(replyId: string): Promise<'done' | 'waiting'> {
    const reply = await this.replies.find(replyId);
    if (!reply || reply.status !== 'received') return 'done';
    if (await this.replies.hasEarlierUnrouted(reply)) return 'waiting';
    const resolved = await this.connections.resolve(reply.connectionId);
    const conversationId = reply.remoteThreadId ? await this.replies.conversationOfThread(reply.connectionId, reply.remoteThreadId) : null;
    const target = conversationId ? await this.replies.target(conversationId) : null;

    let outcome: ReplyOutcome;
    if (!target) {
      outcome = refused(
        'unknown_conversation',
        `Not sent on WhatsApp: threadbridge has no WhatsApp conversation for ${reply.remoteThreadId ? `thread ${reply.remoteThreadId}` : 'this reply'}. Only replies on tickets or threads threadbridge opened for a WhatsApp chat reach a customer.`,
      );
    } else {
      outcome = await this.sendReply(target, {
        text: reply.text ?? '',
        author: reply.author,
        origin: reply.connectionId,
        idempotencyKey: `reply:${reply.connectionId}:${reply.remoteId}`,
        fallback: readReplyTemplate(resolved?.connection.settings),
        whatToDo: CONNECTION_HINT,
        files: {
          attachments: reply.attachments ?? [],
          connector: () => (resolved ? this.factory.create(resolved) : null),
          system: resolved?.definition.manifest.displayName ?? 'the connected system',
        },
      });
    }
    await this.recordOutcome(reply, target?.conversationId ?? null, outcome, Boolean(resolved?.capabilities.replies));
    this.logger.info(
      { replyId, connectionId: reply.connectionId, outcome: outcome.status, ...(outcome.status === 'refused' ? { reason: outcome.reason } : { mode: outcome.mode }) },
      'agent reply routed',
    );
    return 'done';
  }

  /**
   * An agent's reply to a conversation through the API: free text inside the 24-hour window;
   * outside it, refused with what to do (the API has no template to fall back to).
   * Throws ReplyTargetNotFoundError for an unknown conversation.
   */
  async replyInConversation(conversationId: string, input: { text: string; author: string; idempotencyKey: string }): Promise<ReplyOutcome> {
    const target = await this.replies.target(conversationId);
    if (!target) throw new ReplyTargetNotFoundError('conversation', conversationId);
    return this.sendReply(target, { ...input, origin: 'api', fallback: null, whatToDo: API_HINT });
  }

  /**
   * A message to a contact from any system: text (only inside the window) or a registered template,
   * whose category the consent gate polices (marketing needs an opt-in…). Template parameters
   * given are sent as they are (the tokens still work); absent, the registered mapping fills them.
   * Throws ReplyTargetNotFoundError for an unknown contact.
   */
  async sendToContact(contactId: string, input: ContactMessageInput): Promise<ReplyOutcome> {
    const customerName = await this.replies.contactName(contactId);
    if (customerName === null) throw new ReplyTargetNotFoundError('contact', contactId);
    const base = { contactId, origin: 'api', author: input.author, idempotencyKey: input.idempotencyKey };
    if (!input.template) return this.send({ ...base, category: 'service', text: input.text }, 'text');
    return this.sendTemplate(base, input.template, { agentText: input.text ?? '', customerName });
  }

  /**
   * Free text inside the window (the text, then each file as a media message), else the fallback
   * template (text only: the files are not sent and the agent is told), else a refusal saying
   * what to do.
   */
  private async sendReply(
    target: ReplyTarget,
    input: { text: string; author: string; origin: string; idempotencyKey: string; fallback: ReplyTemplateSetting | null; whatToDo: string; files?: ReplyFiles },
  ): Promise<ReplyOutcome> {
    // The gate knows the window (by WhatsApp's time of the customer's last message to this number).
    const freeText = await this.gate.check({ contactId: target.contactId, category: 'service', isTemplate: false, phoneNumberId: target.phoneNumberId });
    const form = chooseReplyForm(freeText, input.fallback, input.whatToDo);
    const base = { contactId: target.contactId, conversationId: target.conversationId, origin: input.origin, author: input.author, idempotencyKey: input.idempotencyKey };
    const attachments = input.files?.attachments ?? [];
    switch (form.form) {
      case 'refuse':
        return refused(form.reason, form.detail);
      case 'text': {
        // The text first, as its own message: it reads the same with one file or five, and a file
        // WhatsApp will not take never takes the words with it (no captions).
        const text = attachments.length === 0 || input.text.trim() ? await this.send({ ...base, category: 'service', text: input.text }, 'text') : null;
        if (!input.files || attachments.length === 0 || text?.status === 'refused') return text!;
        const files = await this.attachments.send(
          { target, origin: input.origin, author: input.author, idempotencyKey: input.idempotencyKey, connector: input.files.connector(), system: input.files.system },
          attachments,
        );
        const first = text?.messageId ?? files.messageIds[0];
        if (!first) return refused('attachments_not_sent', describeUnsentAttachments(files.notSent, false));
        return {
          status: 'queued',
          messageId: first,
          mode: 'text',
          duplicate: text?.duplicate ?? false,
          ...(files.notSent.length ? { detail: describeUnsentAttachments(files.notSent, true) } : {}),
        };
      }
      case 'template': {
        const names = attachments.map(attachmentName);
        if (names.length && !input.text.trim()) {
          return refused(
            'outside_service_window',
            `Not sent on WhatsApp: ${names.join(', ')}. WhatsApp takes files only within 24 hours of the customer's last message, and an approved template carries text only. Send the files when the customer writes again.`,
          );
        }
        const outcome = await this.sendTemplate(base, form.template, { agentText: input.text, customerName: target.customerName });
        return outcome.status === 'queued' && names.length ? { ...outcome, detail: describeAttachmentsOutsideWindow(names, form.template.name) } : outcome;
      }
    }
  }

  private async sendTemplate(
    base: Pick<OutboundRequest, 'contactId' | 'conversationId' | 'origin' | 'author' | 'idempotencyKey'>,
    setting: ReplyTemplateSetting,
    values: { agentText: string; customerName: string },
  ): Promise<ReplyOutcome> {
    const registered = await this.templates.find(setting.name, setting.language);
    if (!registered) {
      return refused(
        'template_not_registered',
        `Not sent on WhatsApp: the template ${setting.name} (${setting.language}) is not registered with threadbridge. Register the approved template with POST /api/v1/templates.`,
      );
    }
    const parameters = renderTemplateParameters(setting.parameters ?? registered.parameters, values);
    return this.send({ ...base, category: registered.category, template: { name: registered.name, language: registered.language, parameters } }, 'template');
  }

  private async send(request: OutboundRequest, mode: 'text' | 'template'): Promise<ReplyOutcome> {
    let result: SendResult;
    try {
      result = await this.sender.send(request);
    } catch (error) {
      // A reply that can never go as it is (too long, empty…): the agent must change it.
      if (error instanceof InvalidOutboundMessageError) return refused('invalid_message', `Not sent on WhatsApp: ${error.message}.`);
      throw error;
    }
    if (result.status === 'refused') return refused(result.reason, `Not sent on WhatsApp: ${result.detail}.`);
    return { status: 'queued', messageId: result.messageId, mode, duplicate: result.duplicate };
  }

  /**
   * Records the outcome on the reply and, when it was not sent, a reply-status task that tells the
   * connection (in the same transaction, so the report is never lost nor written twice).
   */
  private async recordOutcome(reply: AgentReplyRow, conversationId: string | null, outcome: ReplyOutcome, canReport: boolean): Promise<void> {
    const state = outcome.status === 'queued' ? 'queued' : outcome.reason === 'unknown_conversation' ? 'failed' : 'refused';
    const detail = outcome.detail ?? null;
    const tasks = await this.dataSource.transaction(async (manager): Promise<TaskRef[]> => {
      const recorded = await this.replies.recordOutcome(manager, reply.id, {
        status: state,
        conversationId,
        messageId: outcome.status === 'queued' ? outcome.messageId : null,
        mode: outcome.status === 'queued' ? outcome.mode : null,
        detail,
      });
      // A queued reply is reported by its message's statuses, unless part of it did not go.
      if (!recorded || !canReport || (state === 'queued' && !detail)) return [];
      const kind = state === 'queued' ? 'refused' : state;
      return this.outbox.insert(manager, [
        { queue: QueueName.ReplyStatus, kind, dedupeKey: `reply-status:reply:${reply.id}:${kind}`, connectionId: reply.connectionId, conversationId, payload: { replyId: reply.id } },
      ]);
    });
    if (tasks.length) await this.queue.enqueue(tasks);
  }
}
