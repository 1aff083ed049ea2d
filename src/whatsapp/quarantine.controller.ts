import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { decodeCursor, type Page, PageOf, PageQueryDto, toPage } from '../common/pagination';
import { QuarantineItemDto } from './dto/quarantine-item.dto';
import { QuarantineRepository } from './quarantine.repository';

@ApiTags('quarantine')
@ApiBearerAuth()
@Controller('api/v1/quarantine')
export class QuarantineController {
  constructor(private readonly quarantine: QuarantineRepository) {}

  @Get()
  @RequirePermission('quarantine:read')
  @ApiOperation({ summary: 'Signed webhooks (or parts) that could not be understood (kind quarantined), or were stored with unstorable text replaced (kind normalised): the reason, the payload, and the exact bytes (rawBase64)' })
  @ApiOkResponse({ type: PageOf(QuarantineItemDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return' })
  async list(@Query() q: PageQueryDto): Promise<Page<QuarantineItemDto>> {
    const limit = q.limit ?? 50;
    const rows = await this.quarantine.list(limit + 1, decodeCursor<{ createdAt: string; id: string }>(q.cursor, ['createdAt', 'id']));
    const page = toPage(rows, limit, (last) => ({ createdAt: last.createdAtExact, id: last.item.id }));
    return { data: page.data.map((r) => ({ ...r.item, rawBase64: r.rawBase64 })), nextCursor: page.nextCursor };
  }
}
