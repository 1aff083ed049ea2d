import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { type Page, PageOf, PageQueryDto } from '../common/pagination';
import { ContactsService } from './contacts.service';
import { ContactDto } from './dto/contact.dto';

@ApiTags('contacts')
@ApiBearerAuth()
@Controller('api/v1/contacts')
export class ContactsController {
  constructor(private readonly contacts: ContactsService) {}

  @Get()
  @RequirePermission('contacts:read')
  @ApiOperation({ summary: 'WhatsApp customers, newest first' })
  @ApiOkResponse({ type: PageOf(ContactDto) })
  @ApiErrors({ 400: 'Invalid query, or a cursor this API did not return' })
  list(@Query() q: PageQueryDto): Promise<Page<ContactDto>> {
    return this.contacts.list(q.limit, q.cursor);
  }
}
