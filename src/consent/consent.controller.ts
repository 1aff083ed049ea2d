import { Body, Controller, Get, HttpCode, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequirePermission } from '../admin/access.decorators';
import type { Principal } from '../admin/principal';
import { ApiErrors } from '../common/api-docs';
import { ConsentExceptionFilter } from './consent-exception.filter';
import { ConsentService } from './consent.service';
import { ConsentLedgerDto, ConsentRecordedDto } from './dto/consent-ledger.dto';
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
  @ApiCreatedResponse({ description: 'The recorded event and the state after it', type: ConsentRecordedDto })
  @ApiErrors({ 400: 'Invalid body (each field named), or occurredAt in the future', 404: 'No contact with this id' })
  async record(
    @Param('id') contactId: string,
    @Body() body: RecordConsentDto,
    @CurrentPrincipal() principal?: Principal,
  ): Promise<ConsentRecordedDto> {
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
  @ApiOkResponse({ type: ConsentLedgerDto })
  @ApiErrors({ 404: 'No contact with this id' })
  async ledger(@Param('id') contactId: string): Promise<ConsentLedgerDto> {
    return { contactId, ...(await this.consent.ledger(contactId)) };
  }
}
