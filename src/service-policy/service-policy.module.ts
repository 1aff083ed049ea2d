import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module';
import { ConversationsModule } from '../conversations/conversations.module';
import { OutboundModule } from '../whatsapp/outbound/outbound.module';
import { WhatsappModule } from '../whatsapp/whatsapp.module';
import { ReportsController } from './reports.controller';
import { ServicePolicyController } from './service-policy.controller';
import { ServicePolicyHandler } from './service-policy.handler';
import { ServicePolicyRepository } from './service-policy.repository';
import { ServicePolicyService } from './service-policy.service';
import { ServiceReportsService } from './service-reports.service';

/**
 * The customer-service policy: business hours, away and greeting messages, triage, routing, and
 * response-time reports. Sits above whatsapp/ (it sends through the outbound queue and hears of
 * messages through the webhook's listener port) and below sync/ (which reads the route it sets on
 * each conversation).
 */
@Module({
  imports: [WhatsappModule, OutboundModule, ConversationsModule, ConnectionsModule],
  controllers: [ServicePolicyController, ReportsController],
  providers: [ServicePolicyRepository, ServicePolicyService, ServicePolicyHandler, ServiceReportsService],
  exports: [ServicePolicyHandler, ServiceReportsService],
})
export class ServicePolicyModule {}
