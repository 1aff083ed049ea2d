import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { ReplyStatus } from '../../connectors/_sdk/contract';
import { LOGGER } from '../common/logger';
import { type CallOutcome, ConnectorCalls } from '../connections/connector-calls';
import { PARKED_RECHECK_MS } from '../connections/retry-policy';
import type { OutboxTaskEntity } from '../tasks/entities/outbox-task.entity';
import { later, type TaskResult } from '../tasks/task-handler';
import { AgentRepliesRepository } from './agent-replies.repository';
import type { AgentReplyRow } from './replies.types';
import { describeWhatsAppFailure, replyStateOf } from './reply-rules';

/** Transient failures of one report are retried this many times before it becomes a dead letter. */
const MAX_REPORT_ATTEMPTS = 10;
/** A status of a reply still being routed looks again this often, this many times (a minute or two). */
const ROUTING_RECHECK_MS = 1_000;
const MAX_ROUTING_WAITS = 90;

/**
 * Tells the system an agent replied from what became of the reply (replies.reportStatus): refused or
 * failed by threadbridge, or WhatsApp's sent / delivered / read / failed. Failures of the report
 * follow the sync engine's policy by ConnectorError kind (retry-policy.ts).
 */
@Injectable()
export class ReplyStatusService {
  constructor(
    private readonly replies: AgentRepliesRepository,
    private readonly calls: ConnectorCalls,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  /** Reports one reply-status task: a `payload.replyId` (the router's outcome) or a message's status. */
  async report(task: OutboxTaskEntity): Promise<TaskResult> {
    const replyId = typeof task.payload?.replyId === 'string' ? task.payload.replyId : null;
    const reply = replyId ? await this.replies.find(replyId) : task.messageId ? await this.replies.findByMessage(task.messageId) : null;
    // Not an agent's reply (a message written elsewhere with this origin), or erased meanwhile.
    if (!reply) return { outcome: 'done' };
    // WhatsApp answered before the router recorded the reply's outcome (its files take a while):
    // which message is the reply's own, and whether part of it did not go, is known shortly.
    if (reply.status === 'received') {
      if (task.attempts >= MAX_ROUTING_WAITS) return { outcome: 'done' };
      return later(ROUTING_RECHECK_MS, 'the reply is still being routed', false);
    }
    const status = replyId ? routerStatus(reply, task) : await this.messageStatus(task, reply);
    if (!status) return { outcome: 'done' };

    const result = await this.calls.run(
      reply.connectionId,
      'replies',
      (connector) => connector.replies.reportStatus([{ reply: { remoteId: reply.remoteId, remoteThreadId: reply.remoteThreadId ?? undefined }, status }]),
      // A report is retried on its own: a failed one does not hold up the connection's other work.
      { attempts: task.attempts, backoff: 'call', context: { replyId: reply.id } },
    );
    if (result.outcome !== 'done') return this.notReported(task, result);
    this.logger.info({ replyId: reply.id, connectionId: reply.connectionId, state: status.state }, 'reply status reported');
    return { outcome: 'done' };
  }

  /**
   * A message's status as the reply's state. A status the message has moved past is not reported
   * (its later status has a task of its own): an inbox never goes from read back to sent. Failed
   * is final. A message the consent gate stopped at send time is `refused`, with the gate's reason.
   * A reply is one message in its origin but may be several on WhatsApp (its text, then its
   * files): sent/delivered/read are the reply's own message's; a file's failure is reported
   * naming the file. A reply part of which was not sent was reported refused, and stays so.
   */
  private async messageStatus(task: OutboxTaskEntity, reply: AgentReplyRow): Promise<ReplyStatus | null> {
    const state = replyStateOf(task.kind);
    const message = task.messageId ? await this.replies.messageState(task.messageId) : null;
    if (!state || !message || message.status !== state) return null;
    const ownMessage = reply.messageId === task.messageId;
    if (state !== 'failed' && (!ownMessage || reply.detail)) return null;
    const at = message.statusAt ?? new Date();
    if (state !== 'failed') return { state, at };
    const file = ownMessage ? undefined : (message.filename ?? 'a file of the reply');
    const refusal = message.idempotencyKey ? await this.replies.refusalDetail(message.idempotencyKey) : null;
    if (refusal) return { state: 'refused', detail: `Not sent on WhatsApp${file ? ` (${file})` : ''}: ${refusal}.`, at };
    return { state: 'failed', detail: describeWhatsAppFailure(message.errorCode, message.errorTitle, file), at };
  }

  private notReported(task: OutboxTaskEntity, result: Exclude<CallOutcome<void>, { outcome: 'done' }>): TaskResult {
    switch (result.outcome) {
      case 'unsupported':
        return { outcome: 'done' };
      case 'parked':
        if (result.failure) return later(PARKED_RECHECK_MS, result.failure.reason);
        if (result.why === 'unusable') return later(PARKED_RECHECK_MS, 'the connection cannot be used (see its last error)');
        return later(PARKED_RECHECK_MS, `the connection is ${result.why === 'disabled' ? 'disabled' : result.connection!.status}`);
      case 'retry': {
        if (!result.failure) return { outcome: 'retry', at: result.at, refundAttempt: true };
        const { kind, reason } = result.failure;
        if (kind === 'rate_limited') return { outcome: 'retry', at: result.at, error: reason, refundAttempt: true };
        if (task.attempts >= MAX_REPORT_ATTEMPTS) return { outcome: 'dead', error: `gave up after ${task.attempts} attempts: ${reason}` };
        return { outcome: 'retry', at: result.at, error: reason, refundAttempt: false };
      }
      case 'relinked':
      case 'dead':
      case 'isolated': {
        const { kind, reason, resolved } = result.failure;
        if (kind === 'not_found') return { outcome: 'dead', error: `the reply is gone from ${resolved.definition.manifest.displayName}: ${reason}` };
        return { outcome: 'dead', error: reason };
      }
    }
  }
}

/**
 * The router's own outcome, as recorded on the reply: refused / failed before any send, or
 * queued with part of it (files) not sent, which the agent hears as refused, with what did not go.
 */
function routerStatus(reply: AgentReplyRow, task: OutboxTaskEntity): ReplyStatus | null {
  const at = task.createdAt ? new Date(task.createdAt) : new Date();
  if (reply.status === 'queued' && reply.detail) return { state: 'refused', detail: reply.detail, at };
  if (reply.status !== 'refused' && reply.status !== 'failed') return null;
  return { state: reply.status, detail: reply.detail ?? undefined, at };
}
