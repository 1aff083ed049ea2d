import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { PageQueryDto } from '../common/pagination';
import { ContactsService } from './contacts.service';

@ApiTags('contacts')
@ApiBearerAuth()
@Controller('api/v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @RequirePermission('contacts:read')
  @ApiOperation({ summary: 'WhatsApp customers, newest first' })
  list(@Query() q: PageQueryDto) {
    return this.contacts.list(q.limit, q.cursor);
  }
}
