import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiKeyGuard } from '../admin/api-key.guard';
import { PageQueryDto } from '../common/pagination';
import { ContactsService } from './contacts.service';

@ApiTags('contacts')
@ApiBearerAuth()
@UseGuards(ApiKeyGuard)
@Controller('api/v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @ApiOperation({ summary: 'WhatsApp customers, newest first' })
  list(@Query() q: PageQueryDto) {
    return this.contacts.list(q.limit, q.cursor);
  }
}
