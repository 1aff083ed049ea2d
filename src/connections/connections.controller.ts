import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseFilters } from '@nestjs/common';
import {
  ApiBadGatewayResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { RequirePermission } from '../admin/access.decorators';
import { ConnectionsExceptionFilter } from './connections-exception.filter';
import { ConnectionsService, type ConnectionView } from './connections.service';
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
  @ApiCreatedResponse({ description: 'The connection, without its secrets' })
  @ApiBadRequestResponse({ description: 'Unknown connector, invalid credentials/settings (each field named), or credentials the vendor rejected' })
  @ApiConflictResponse({ description: 'A connection with this name exists' })
  @ApiBadGatewayResponse({ description: 'The vendor could not be reached to check the credentials' })
  create(@Body() body: CreateConnectionDto): Promise<ConnectionView> {
    return this.connections.create(body);
  }

  @Get()
  @RequirePermission('connections:read')
  @ApiOperation({ summary: 'Every connection, with status, capabilities and budget; never a secret' })
  @ApiOkResponse({ description: '{ data: connections }' })
  async list(): Promise<{ data: ConnectionView[] }> {
    return { data: await this.connections.list() };
  }

  @Get(':id')
  @RequirePermission('connections:read')
  @ApiOperation({ summary: 'One connection; never a secret' })
  @ApiNotFoundResponse({ description: 'No connection with this id' })
  get(@Param('id') id: string): Promise<ConnectionView> {
    return this.connections.get(id);
  }

  @Patch(':id')
  @RequirePermission('connections:manage')
  @ApiOperation({ summary: 'Rename, enable/disable, replace settings or credentials (checked with the vendor)' })
  @ApiBadRequestResponse({ description: 'Invalid input, or credentials the vendor rejected' })
  @ApiNotFoundResponse({ description: 'No connection with this id' })
  @ApiConflictResponse({ description: 'A connection with this name exists' })
  @ApiBadGatewayResponse({ description: 'The vendor could not be reached to check the credentials' })
  update(@Param('id') id: string, @Body() body: UpdateConnectionDto): Promise<ConnectionView> {
    return this.connections.update(id, body);
  }

  @Delete(':id')
  @RequirePermission('connections:manage')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a connection with its pending work and links to remote objects' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiNotFoundResponse({ description: 'No connection with this id' })
  async remove(@Param('id') id: string): Promise<void> {
    await this.connections.remove(id);
  }
}
