import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { type List, ListOf } from '../common/pagination';
import { ConnectionsExceptionFilter } from './connections-exception.filter';
import { ConnectionsService } from './connections.service';
import { ConnectionDto } from './dto/connection.dto';
import { CreateConnectionDto } from './dto/create-connection.dto';
import { UpdateConnectionDto } from './dto/update-connection.dto';

@ApiTags('connections')
@ApiBearerAuth()
@UseFilters(ConnectionsExceptionFilter)
@Controller('api/v1/connections')
export class ConnectionsController {
  constructor(private readonly connections: ConnectionsService) {}

  @Post()
  @RequirePermission('connections:manage')
  @HttpCode(201)
  @ApiOperation({ summary: 'Connect a CRM/helpdesk: the credentials are checked with the vendor, then stored encrypted' })
  @ApiCreatedResponse({ description: 'The connection, without its secrets', type: ConnectionDto })
  @ApiErrors({
    400: 'Unknown connector, invalid credentials/settings (each field named), or credentials the vendor rejected',
    409: 'A connection with this name exists',
    422: 'The egress policy refuses the base URL (the reason named)',
    502: 'The vendor could not be reached to check the credentials',
  })
  create(@Body() body: CreateConnectionDto): Promise<ConnectionDto> {
    return this.connections.create(body);
  }

  @Get()
  @RequirePermission('connections:read')
  @ApiOperation({ summary: 'Every connection, with status, capabilities and budget; never a secret' })
  @ApiOkResponse({ type: ListOf(ConnectionDto) })
  async list(): Promise<List<ConnectionDto>> {
    return { data: await this.connections.list() };
  }

  @Get(':id')
  @RequirePermission('connections:read')
  @ApiOperation({ summary: 'One connection; never a secret' })
  @ApiOkResponse({ type: ConnectionDto })
  @ApiErrors({ 404: 'No connection with this id' })
  get(@Param('id') id: string): Promise<ConnectionDto> {
    return this.connections.get(id);
  }

  @Patch(':id')
  @RequirePermission('connections:manage')
  @ApiOperation({ summary: 'Rename, enable/disable, replace settings or credentials (checked with the vendor)' })
  @ApiOkResponse({ description: 'The connection as it is now', type: ConnectionDto })
  @ApiErrors({
    400: 'Invalid input, or credentials the vendor rejected',
    404: 'No connection with this id',
    409: 'A connection with this name exists',
    422: 'The egress policy refuses the base URL (the reason named)',
    502: 'The vendor could not be reached to check the credentials',
  })
  update(@Param('id') id: string, @Body() body: UpdateConnectionDto): Promise<ConnectionDto> {
    return this.connections.update(id, body);
  }

  @Delete(':id')
  @RequirePermission('connections:manage')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a connection with its pending work and links to remote objects' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiErrors({ 404: 'No connection with this id' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.connections.remove(id);
  }
}
