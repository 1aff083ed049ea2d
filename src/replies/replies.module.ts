import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { OutboundModule } from '../whatsapp/outbound/outbound.module';
import { AgentRepliesRepository } from './agent-replies.repository';
import { ConnectionWebhooksController } from './connection-webhooks.controller';
import { ConnectionWebhooksService } from './connection-webhooks.service';
import { RepliesController } from './replies.controller';
import { ReplyAttachmentsService } from './reply-attachments.service';
import { ReplyRouteHandler } from './reply-route.handler';
import { ReplyRouterService } from './reply-router.service';
import { ReplySetupController } from './reply-setup.controller';
import { ReplySetupService } from './reply-setup.service';
import { ReplyStatusHandler } from './reply-status.handler';
import { ReplyStatusService } from './reply-status.service';
import { TemplatesController } from './templates.controller';
import { TemplatesRepository } from './templates.repository';
import { TemplatesService } from './templates.service';

/**
 * Replies to customers (CRM/helpdesk or API → WhatsApp): connection webhooks, the reply router
 * (24-hour window, template fallback, consent), what became of a reply told to its origin, the
 * registered templates, and the set-up of replies in a vendor. Messages go out through
 * OutboundModule's WhatsAppSender; the outbox writes other modules make for it live in src/conversations/fan-out.ts.
 */
@Module({
  imports: [ConnectionsModule, OutboundModule],
  controllers: [ConnectionWebhooksController, RepliesController, TemplatesController, ReplySetupController],
  providers: [
    AgentRepliesRepository,
    TemplatesRepository,
    TemplatesService,
    ReplyRouterService,
    ReplyAttachmentsService,
    ConnectionWebhooksService,
    ReplyStatusService,
    ReplySetupService,
    ReplyRouteHandler,
    ReplyStatusHandler,
  ],
  exports: [ReplyRouteHandler, ReplyStatusHandler, ReplyRouterService, ReplySetupService],
})
export class RepliesModule {}
