import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { QueueName } from '../tasks/queues';
import type { TaskHandler, TaskResult } from '../tasks/task-handler';
import { WhatsAppSender } from './outbound/whatsapp-sender.service';
import { CONSENT_AUTHOR, CONSENT_ORIGIN, CUSTOMER_ACTOR, DEFAULT_START_CONFIRMATION, DEFAULT_STOP_CONFIRMATION } from '../consent/consent.constants';
import { ContactNotFoundError } from '../consent/consent.errors';
import { ConsentRepository } from '../consent/consent.repository';
import { ConsentService } from '../consent/consent.service';
import type { KeywordIntent } from '../consent/keywords';

/**
 * Acts on a STOP or START a customer wrote (the webhook found the keyword and wrote this task, kind
 * = the intent): records the marketing opt-out / opt-in with the message as evidence, and answers
 * with one confirmation — a service reply, inside the window the customer's message just opened.
 * Both steps are keyed on the message's wamid, so a re-run or a repeated delivery does neither twice.
 */
@Injectable()
export class ConsentKeywordHandler implements TaskHandler {
  readonly queue = QueueName.ConsentKeyword;

  constructor(
    private readonly repo: ConsentRepository,
    private readonly consent: ConsentService,
    private readonly sender: WhatsAppSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async handle(task: OutboxTaskEntity): Promise<TaskResult> {
    const intent = task.kind as KeywordIntent;
    if (intent !== 'stop' && intent !== 'start') return { outcome: 'dead', error: `unknown keyword task kind ${task.kind}` };
    const message = task.messageId ? await this.repo.keywordMessage(task.messageId) : null;
    if (!message) return { outcome: 'done' }; // erased meanwhile

    try {
      await this.consent.record({
        contactId: message.contactId,
        action: intent === 'stop' ? 'opt_out' : 'opt_in',
        scope: 'marketing',
        source: 'keyword',
        evidenceMessageId: message.wamid,
        evidenceText: message.body,
        actor: CUSTOMER_ACTOR,
        // WhatsApp's time, which a clock running ahead could put in the future.
        occurredAt: new Date(Math.min(new Date(message.waTimestamp).getTime(), Date.now())),
        dedupeKey: `keyword:${message.wamid}`,
      });
    } catch (error) {
      if (error instanceof ContactNotFoundError) return { outcome: 'done' }; // erased meanwhile
      throw error;
    }

    const consent = this.config.consent;
    const result = await this.sender.send({
      contactId: message.contactId,
      conversationId: message.conversationId,
      category: 'service',
      text: intent === 'stop' ? (consent.stopConfirmation ?? DEFAULT_STOP_CONFIRMATION) : (consent.startConfirmation ?? DEFAULT_START_CONFIRMATION),
      origin: CONSENT_ORIGIN,
      author: CONSENT_AUTHOR,
      idempotencyKey: `consent-confirmation:${message.wamid}`,
      replyToWamid: message.wamid,
    });
    if (result.status === 'refused') {
      // E.g. a keyword delivered more than 24 hours late: the consent is recorded, the reply cannot go.
      this.logger.info({ contactId: message.contactId, reason: result.reason }, 'consent confirmation not sent');
    }
    return { outcome: 'done' };
  }
}
