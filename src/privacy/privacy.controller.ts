import { Controller, Delete, Get, Header, HttpCode, Param, Res, StreamableFile, UseFilters } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditExport, RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { ContactExport } from './dto/contact-export.dto';
import { ErasureDto } from './dto/erasure.dto';
import { RetentionOverviewDto } from './dto/retention-overview.dto';
import { ErasureService } from './erasure.service';
import { ExportService } from './export.service';
import { PrivacyExceptionFilter } from './privacy-exception.filter';
import { RetentionService } from './retention.service';

/** Right of access (export, media downloads), right to be forgotten (erasure + receipts), retention. */
@ApiTags('privacy')
@ApiBearerAuth()
@UseFilters(PrivacyExceptionFilter)
@Controller('api/v1')
export class PrivacyController {
  constructor(
    private readonly exports: ExportService,
    private readonly erasures: ErasureService,
    private readonly retention: RetentionService,
  ) {}

  @Get('contacts/:id/export')
  @RequirePermission('contacts:export')
  @AuditExport()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Everything held about a customer, as one JSON document (right of access); media as download links' })
  @ApiOkResponse({ description: 'contact, conversations with their messages in WhatsApp order, consent ledger, remote links', type: ContactExport })
  @ApiErrors({ 404: 'No such contact (or it was erased)' })
  exportContact(@Param('id') id: string): Promise<ContactExport> {
    return this.exports.exportContact(id);
  }

  @Get('media/:id')
  @RequirePermission('contacts:export')
  @AuditExport()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: "A message's stored media file, with its mime type" })
  @ApiOkResponse({
    description: 'The file, with its mime type as Content-Type and its name in Content-Disposition',
    content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
  })
  @ApiErrors({ 404: 'No such message, or its file is not stored (never downloaded, removed by retention, erased)' })
  async media(@Param('id') messageId: string, @Res({ passthrough: true }) res: Response): Promise<StreamableFile> {
    const file = await this.exports.openMedia(messageId);
    res.setHeader('Content-Type', file.mimeType);
    res.setHeader('Content-Disposition', `attachment; filename="${file.filename.replace(/["\\\r\n]/g, '_')}"`);
    if (file.sizeBytes !== undefined) res.setHeader('Content-Length', String(file.sizeBytes));
    return new StreamableFile(file.stream);
  }

  @Delete('contacts/:id')
  @RequirePermission('contacts:erase')
  @HttpCode(202)
  @ApiOperation({ summary: 'Erase a customer (right to be forgotten): here at once, in every connected CRM in the background' })
  @ApiAcceptedResponse({
    description: 'The erasure with one receipt per system; follow it at /api/v1/erasures/:id',
    type: ErasureDto,
    headers: { Location: { description: '/api/v1/erasures/:id', schema: { type: 'string' } } },
  })
  @ApiErrors({ 404: 'No such contact (or it was erased already)' })
  async erase(@Param('id') id: string, @Res({ passthrough: true }) res: Response): Promise<ErasureDto> {
    const erasure = await this.erasures.erase(id);
    res.setHeader('Location', `/api/v1/erasures/${erasure.id}`);
    return erasure;
  }

  @Get('erasures/:id')
  @RequirePermission('contacts:read')
  @ApiOperation({ summary: 'An erasure and its receipts: local, and one per connection (pending, done, not_found or failed with the reason)' })
  @ApiOkResponse({ type: ErasureDto })
  @ApiErrors({ 404: 'No such erasure' })
  erasure(@Param('id') id: string): Promise<ErasureDto> {
    return this.erasures.get(id);
  }

  @Get('retention')
  @RequirePermission('audit:read')
  @ApiOperation({ summary: 'The retention policy in effect and what the last runs removed (counts per day)' })
  @ApiOkResponse({ type: RetentionOverviewDto })
  retentionOverview(): Promise<RetentionOverviewDto> {
    return this.retention.overview();
  }
}
