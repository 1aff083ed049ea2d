import { BadRequestException, Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../common/api-docs';
import { type List, ListOf } from '../common/pagination';
import { RequirePermission } from './access.decorators';
import { ApiKeyNotFoundError, ApiKeysService, UnknownRoleError } from './api-keys.service';
import { ApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { CreateApiKeyDto } from './dto/create-api-key.dto';

@ApiTags('api keys')
@ApiBearerAuth()
@Controller('api/v1/api-keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Post()
  @HttpCode(201)
  @RequirePermission('api-keys:manage')
  @ApiOperation({ summary: 'Create an API key with a role; the answer is the only time the key is shown' })
  @ApiCreatedResponse({ description: 'The key (field `key`) with its id, role and display prefix', type: CreatedApiKeyDto })
  @ApiErrors({ 400: 'Invalid body (each field named), or an unknown role' })
  async create(@Body() body: CreateApiKeyDto): Promise<CreatedApiKeyDto> {
    try {
      return await this.keys.create(body);
    } catch (error) {
      if (error instanceof UnknownRoleError) throw new BadRequestException(error.message);
      throw error;
    }
  }

  @Get()
  @RequirePermission('api-keys:manage')
  @ApiOperation({ summary: 'Every API key (revoked ones included) with its prefix and last use; never a key' })
  @ApiOkResponse({ type: ListOf(ApiKeyDto) })
  async list(): Promise<List<ApiKeyDto>> {
    return { data: await this.keys.list() };
  }

  @Delete(':id')
  @HttpCode(204)
  @RequirePermission('api-keys:manage')
  @ApiOperation({ summary: 'Revoke an API key: every call with it is refused from now on' })
  @ApiNoContentResponse({ description: 'Revoked' })
  @ApiErrors({ 404: 'No active key with this id' })
  async revoke(@Param('id') id: string): Promise<void> {
    try {
      await this.keys.revoke(id);
    } catch (error) {
      if (error instanceof ApiKeyNotFoundError) throw new NotFoundException(error.message);
      throw error;
    }
  }
}
