import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../admin/api-key.guard';
import { decodeCursor, PageQueryDto, toPage } from '../common/pagination';
import { QuarantineRepository } from './quarantine.repository';

@ApiTags('quarantine')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/quarantine')
export class QuarantineController {
  constructor(private readonly quarantine: QuarantineRepository) {}

  @Get()
  @ApiOperation({ summary: 'Signed webhooks (or parts) that could not be understood, with the reason' })
  async list(@Query() q: PageQueryDto) {
    const limit = q.limit ?? 50;
    const rows = await this.quarantine.list(limit + 1, decodeCursor<{ createdAt: string; id: string }>(q.cursor, ['createdAt', 'id']));
    const page = toPage(rows, limit, (last) => ({ createdAt: last.createdAtExact, id: last.item.id }));
    return { data: page.data.map((r) => r.item), nextCursor: page.nextCursor };
  }
}
