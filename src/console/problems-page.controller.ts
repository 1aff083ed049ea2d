import { Controller, Get, Header, Inject, Param, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { RequirePermission } from '../admin/access.decorators';
import { roleAllows } from '../admin/permissions';
import { ConnectionsService } from '../connections/connections.service';
import { DeadLetterNotFoundError, DeadLettersService } from '../sync/dead-letters.service';
import { QuarantineRepository } from '../whatsapp/quarantine.repository';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { type ConsoleRequest, ConsoleGuard } from './console.guard';
import { page } from './layout';
import { ProblemsPageRepository } from './problems-page.repository';
import { renderProblemsPage } from './problems-page.view';
import { queuesMenu } from './queues';

/** How many of each kind the page shows (newest first); the API pages through the rest. */
const SHOWN = 50;
/** Replaying a connection's dead letters goes through them in pages of this many. */
const REPLAY_PAGE = 100;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * What needs an operator: dead letters (work that gave up, replayed after fixing the cause),
 * quarantined webhooks, and replies that were refused before they were sent. Each part is shown
 * to the roles that may read it.
 */
@ApiExcludeController()
@UseFilters(ConsoleExceptionFilter)
@UseGuards(ConsoleGuard)
@Controller('console/problems')
export class ProblemsPageController {
  constructor(
    private readonly deadLetters: DeadLettersService,
    private readonly quarantine: QuarantineRepository,
    private readonly refusals: ProblemsPageRepository,
    private readonly connections: ConnectionsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @RequirePermission('dead-letters:read')
  @Header('content-type', 'text/html; charset=utf-8')
  @Header('cache-control', 'no-store')
  async show(@Req() req: Request, @Query() query: Record<string, string | undefined>): Promise<string> {
    const console = req as ConsoleRequest;
    const role = console.consoleSession.principal.role;
    const connectionId = query.connection && UUID.test(query.connection) ? query.connection : undefined;
    const mayReadQuarantine = roleAllows(role, 'quarantine:read');
    // Refused replies say who a message was for: the roles that read customers' conversations see them.
    const mayReadRefusals = roleAllows(role, 'conversations:read');
    const [deadLetters, connections, quarantine, refused] = await Promise.all([
      this.deadLetters.list({ connectionId }, SHOWN),
      this.connections.list(),
      mayReadQuarantine ? this.quarantine.list(SHOWN) : Promise.resolve(null),
      mayReadRefusals ? this.refusals.refusedReplies(SHOWN) : Promise.resolve(null),
    ]);
    const body = renderProblemsPage({
      deadLetters: deadLetters.data,
      moreDeadLetters: deadLetters.nextCursor !== null,
      connectionNames: new Map(connections.map((c) => [c.id, c.name])),
      connectionId,
      quarantine: quarantine?.map((q) => q.item) ?? null,
      refused,
      canReplay: roleAllows(role, 'dead-letters:manage'),
      csrfToken: console.consoleSession.csrfToken,
      flash: query,
    });
    return page(console, { title: 'Problems', body, extraSections: queuesMenu(this.config) });
  }

  @Post('dead-letters/:id/replay')
  @RequirePermission('dead-letters:manage')
  async replay(@Param('id') id: string, @Res() res: Response): Promise<void> {
    try {
      await this.deadLetters.replay(id);
      res.redirect(303, `/console/problems?replayed=1`);
    } catch (error) {
      if (!(error instanceof DeadLetterNotFoundError)) throw error;
      res.redirect(303, `/console/problems?gone=1`);
    }
  }

  /** Replays every dead letter of one connection (e.g. once its credentials are fixed). */
  @Post('connections/:connectionId/replay')
  @RequirePermission('dead-letters:manage')
  async replayConnection(@Param('connectionId') connectionId: string, @Res() res: Response): Promise<void> {
    if (!UUID.test(connectionId)) {
      res.redirect(303, `/console/problems?gone=1`);
      return;
    }
    let replayed = 0;
    // Replayed rows leave the dead list, so the first page is always the next batch (bounded all the same).
    for (let round = 0; round < 1_000; round++) {
      const batch = await this.deadLetters.list({ connectionId }, REPLAY_PAGE);
      if (batch.data.length === 0) break;
      for (const letter of batch.data) {
        try {
          await this.deadLetters.replay(letter.id);
          replayed++;
        } catch (error) {
          // Replayed meanwhile by someone else: nothing left to do for it.
          if (!(error instanceof DeadLetterNotFoundError)) throw error;
        }
      }
    }
    res.redirect(303, `/console/problems?replayed=${replayed}`);
  }
}
