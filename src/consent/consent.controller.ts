import { Body, Controller, Get, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../admin/access.decorators';
import type { Principal } from '../admin/principal';
import { ConsentExceptionFilter } from './consent-exception.filter';
import { ConsentService } from './consent.service';
import type { ConsentEvent, ConsentState } from './consent.types';
import { RecordConsentDto } from './dto/record-consent.dto';

@ApiTags('consent')
@ApiBearerAuth()
@UseFilters(ConsentExceptionFilter)
@Controller('api/v1/contacts/:id/consent')
export class ConsentController {
  constructor(private readonly consent: ConsentService) {}

  @Post()
  @RequirePermission('consent:write')
  @HttpCode(201)
  @ApiOperation({ summary: "Record a consent change in the contact's ledger (it reaches every CRM with the consent capability)" })
  @ApiCreatedResponse({ description: '{ contactId, event, state }: the recorded event and the state after it' })
  @ApiBadRequestResponse({ description: 'Invalid body (each field named), or occurredAt in the future' })
  @ApiNotFoundResponse({ description: 'No contact with this id' })
  async record(
    @Param('id') contactId: string,
    @Body() body: RecordConsentDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<{ contactId: string; event: ConsentEvent; state: ConsentState }> {
    const { event, state } = await this.consent.record({
      contactId,
      action: body.action,
      scope: body.scope,
      source: body.source ?? 'api',
      evidenceText: body.evidence ?? null,
      actor: body.actor ?? principal?.name ?? 'api',
      occurredAt: body.occurredAt ? new Date(body.occurredAt) : new Date(),
    });
    return { contactId, event, state };
  }

  @Get()
  @RequirePermission('consent:read')
  @ApiOperation({ summary: "The contact's consent ledger (oldest first) and current state per scope" })
  @ApiOkResponse({ description: '{ contactId, state, events }' })
  @ApiNotFoundResponse({ description: 'No contact with this id' })
  async ledger(@Param('id') contactId: string): Promise<{ contactId: string; state: ConsentState; events: ConsentEvent[] }> {
    return { contactId, ...(await this.consent.ledger(contactId)) };
  }
}
