import { Body, Controller, Get, Header, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { roleAllows } from '../admin/permissions';
import { ConnectionError } from '../connections/connections.errors';
import { type ConnectionView, ConnectionsService } from '../connections/connections.service';
import { RepliesError } from '../replies/replies.errors';
import { ReplySetupService } from '../replies/reply-setup.service';
import { publicBase } from '../replies/webhook-url';
import { OutboxRepository } from '../tasks/outbox.repository';
import { RequestBudgets } from '../tasks/request-budget';
import { QueueName } from '../tasks/queues';
import { renderConnectionsPage } from './connections-page.view';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { page } from './layout';
import { queuesMenu } from './queues';

/** The outcome of an action, carried to the page in the query string (Post/Redirect/Get). */
function back(res: Response, params: Record<string, string>): void {
  res.redirect(303, `/console/connections?${new URLSearchParams(params).toString()}`);
}

/** What went wrong in the operator's words (the domain errors are written for them); anything else propagates. */
function reasonOf(error: unknown): string {
  if (error instanceof ConnectionError || error instanceof RepliesError) return error.message;
  throw error;
}

/**
 * Connections as an operator watches them: status (paused, needing new credentials, disabled),
 * request budget, how far the sync is behind and the last error; enabling, disabling,
 * re-checking the stored credentials and setting up replies for the roles that manage them.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/connections')
export class ConnectionsPageController {
  constructor(
    private readonly connections: ConnectionsService,
    private readonly replySetup: ReplySetupService,
    private readonly outbox: OutboxRepository,
    private readonly budgets: RequestBudgets,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequirePermission('connections:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async list(@Req() req: Request, @Query() query: Record<string, string | undefined>): Promise<string> {
    const console = req as ConsoleRequest;
    const [connections, lag] = await Promise.all([this.connections.list(), this.outbox.oldestOpenByConnection(QueueName.CrmSync)]);
    // How much of each budget the current window holds (Redis or memory: the budget's own count).
    const used = new Map(
      await Promise.all(connections.map(async (c) => [c.id, c.budget ? await this.budgets.used(c.id, c.budget).catch(() => null) : null] as const)),
    );
    const body = renderConnectionsPage({
      connections,
      budgetUsed: used,
      lagSeconds: lag,
      canManage: roleAllows(console.consoleSession.principal.role, 'connections:manage'),
      csrfToken: console.consoleSession.csrfToken,
      flash: query,
      now: new Date(),
    });
    return page(console, { title: 'Connections', body, extraSections: queuesMenu(this.config) });
  }

  @Post(':id/enabled')
  @RequirePermission('connections:manage')
  async setEnabled(@Param('id') id: string, @Body() body: Record<string, unknown>, @Res() res: Response): Promise<void> {
    const enabled = body.enabled === 'true';
    try {
      const view = await this.connections.update(id, { enabled });
      back(res, { done: enabled ? 'enabled' : 'disabled', name: view.name });
    } catch (error) {
      back(res, { failed: 'update', reason: reasonOf(error) });
    }
  }

  /**
   * Checks the stored credentials with the vendor again (as a PATCH with the same credentials
   * does): when accepted, a connection that needed re-authentication becomes active again and its
   * waiting work is released.
   */
  @Post(':id/recheck')
  @RequirePermission('connections:manage')
  async recheck(@Param('id') id: string, @Res() res: Response): Promise<void> {
    let current: ConnectionView;
    try {
      current = await this.connections.get(id);
    } catch (error) {
      back(res, { failed: 'recheck', reason: reasonOf(error) });
      return;
    }
    // resolve() marks the connection needs_reauth (with the reason) when its credentials cannot be read.
    const resolved = await this.connections.resolve(id);
    if (!resolved) {
      back(res, { failed: 'recheck', name: current.name, reason: 'the stored credentials cannot be used; enter them again through the API' });
      return;
    }
    try {
      const view = await this.connections.update(id, { credentials: JSON.parse(JSON.stringify(resolved.credentials)) as unknown });
      back(res, { done: 'recheck', name: view.name, status: view.status });
    } catch (error) {
      back(res, { failed: 'recheck', name: current.name, reason: reasonOf(error) });
    }
  }

  @Post(':id/replies-setup')
  @RequirePermission('connections:manage')
  async setUpReplies(@Param('id') id: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    try {
      const result = await this.replySetup.setUp(id, publicBase(this.config.publicUrl, { protocol: req.protocol, host: req.get('host') }));
      back(res, { done: 'replies', name: result.connection.name, callback: result.callbackUrl });
    } catch (error) {
      back(res, { failed: 'replies', reason: reasonOf(error) });
    }
  }
}
