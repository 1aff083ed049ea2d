import { Controller, Get, Header, Param, Query, Req, Res, StreamableFile, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditExport, RequirePermission } from '../admin/access.decorators';
import { roleAllows } from '../admin/permissions';
import { ExportService } from '../privacy/export.service';
import { MediaNotStoredError } from '../privacy/privacy.errors';
import { ConsoleReadRepository, type ConversationFilters } from './console-read.repository';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { conversationPage, conversationsList, messageHistory, messagePage } from './conversations.views';
import { html } from './html';
import { notice, page } from './layout';

const PAGE_SIZE = 50;
/** Images shown inline (never SVG, which can carry script). */
const INLINE_IMAGES = /^image\/(jpeg|png|webp|gif)$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type ListQuery = { q?: string; status?: string; number?: string; connection?: string; route?: string; after?: string };

/** The list's cursor: the last row's time and id, opaque to the browser. */
function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${new Date(at).toISOString()}|${id}`, 'utf8').toString('base64url');
}

function decodeCursor(value: string | undefined): ConversationFilters['after'] {
  if (!value) return undefined;
  const [iso, id] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const at = new Date(iso);
  return UUID.test(id ?? '') && !Number.isNaN(at.getTime()) ? { at, id } : undefined;
}

const text = (value: unknown, max = 200): string | undefined => (typeof value === 'string' && value.trim() ? value.trim().slice(0, max) : undefined);

function listUrl(query: ListQuery, after?: string): string {
  const params = new URLSearchParams();
  for (const key of ['q', 'status', 'number', 'connection', 'route'] as const) {
    const value = text(query[key]);
    if (value) params.set(key, value);
  }
  if (after) params.set('after', after);
  const qs = params.toString();
  return `/console/conversations${qs ? `?${qs}` : ''}`;
}

/**
 * Conversations: the list (search, filters, newest first), a conversation's messages with where
 * each went, and a message's own event history (received, stored, queued, each sync attempt,
 * status changes). Reads only; nothing here changes anything.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/conversations')
export class ConsoleConversationsController {
  constructor(private readonly read: ConsoleReadRepository) {}

  @Get()
  @RequirePermission('conversations:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async list(@Req() req: Request, @Query() query: ListQuery): Promise<string> {
    const status = query.status === 'open' || query.status === 'closed' ? query.status : undefined;
    const connection = text(query.connection);
    const filters: ConversationFilters = {
      q: text(query.q, 100),
      status,
      phoneNumberId: text(query.number),
      connectionId: connection && UUID.test(connection) ? connection : undefined,
      route: text(query.route),
      after: decodeCursor(text(query.after, 400)),
      limit: PAGE_SIZE,
    };
    const [rows, choices] = await Promise.all([this.read.conversations(filters), this.read.filterChoices()]);
    const shown = rows.slice(0, PAGE_SIZE);
    const last = shown[shown.length - 1];
    const body = conversationsList({
      rows: shown,
      filters: { q: filters.q, status, number: filters.phoneNumberId, connection: filters.connectionId, route: filters.route },
      choices,
      next: rows.length > PAGE_SIZE && last ? listUrl(query, encodeCursor(last.lastMessageAt, last.id)) : undefined,
      first: filters.after ? listUrl(query) : undefined,
    });
    return page(req as ConsoleRequest, { title: 'Conversations', body });
  }

  @Get(':id')
  @RequirePermission('conversations:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async conversation(@Req() req: Request, @Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    const conversation = UUID.test(id) ? await this.read.conversation(id) : null;
    if (!conversation) return this.notFound(req, res, 'No such conversation (or it was erased).');
    const messages = await this.read.messages(id);
    const deliveries = await this.read.deliveries(messages.map((m) => m.id));
    const session = (req as ConsoleRequest).consoleSession;
    const body = conversationPage(conversation, messages, deliveries, roleAllows(session.principal.role, 'contacts:export'));
    return page(req as ConsoleRequest, { title: conversation.profileName ?? conversation.e164, body });
  }

  /** A message's history: a page, or (asked by htmx) the fragment shown inline under its bubble. */
  @Get(':id/messages/:messageId')
  @RequirePermission('conversations:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async message(@Req() req: Request, @Param('id') id: string, @Param('messageId') messageId: string, @Res({ passthrough: true }) res: Response): Promise<string> {
    const conversation = UUID.test(id) && UUID.test(messageId) ? await this.read.conversation(id) : null;
    const message = conversation ? await this.read.message(id, messageId) : null;
    if (!conversation || !message) return this.notFound(req, res, 'No such message (or it was erased).');
    const [tasks, attempts, statuses, deliveries] = await Promise.all([
      this.read.tasksOf(messageId),
      this.read.attemptsOf(messageId),
      this.read.statusEventsOf(message.wamid),
      this.read.deliveries([messageId]),
    ]);
    const history = messageHistory(message, tasks, attempts, statuses);
    res.setHeader('vary', 'HX-Request');
    if (req.headers['hx-request']) return history.value;
    return page(req as ConsoleRequest, { title: 'Message history', body: messagePage(conversation, message, deliveries, history) });
  }

  private notFound(req: Request, res: Response, message: string): string {
    res.status(404);
    if (req.headers['hx-request']) return html`<p class="notice">${message}</p>`.value;
    return notice(req as ConsoleRequest, 'Not found', message);
  }
}

/** A message's stored media file, for the roles that may export customer data (as the API's GET /api/v1/media/:id). */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/media')
export class ConsoleMediaController {
  constructor(private readonly exports: ExportService) {}

  @Get(':messageId')
  @RequirePermission('contacts:export')
  @AuditExport()
  @Header('cache-control', 'no-store')
  async media(@Req() req: Request, @Param('messageId') messageId: string, @Res({ passthrough: true }) res: Response): Promise<StreamableFile | string> {
    try {
      const file = await this.exports.openMedia(messageId);
      res.setHeader('content-type', file.mimeType);
      res.setHeader('x-content-type-options', 'nosniff');
      const disposition = INLINE_IMAGES.test(file.mimeType) ? 'inline' : 'attachment';
      res.setHeader('content-disposition', `${disposition}; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`);
      if (file.sizeBytes !== undefined) res.setHeader('content-length', String(file.sizeBytes));
      return new StreamableFile(file.stream);
    } catch (error) {
      if (!(error instanceof MediaNotStoredError)) throw error;
      res.status(404).type('html');
      return notice(req as ConsoleRequest, 'Not found', 'This message has no stored file (never downloaded, removed by retention, or erased).');
    }
  }
}
