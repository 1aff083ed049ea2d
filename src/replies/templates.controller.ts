import { Body, Controller, Get, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../admin/access.decorators';
import { RegisterTemplateDto } from './dto/register-template.dto';
import type { RegisteredTemplate } from './replies.types';
import { TemplatesService } from './templates.service';

@ApiTags('templates')
@ApiBearerAuth()
@Controller('api/v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  @RequirePermission('templates:manage')
  @ApiOperation({ summary: 'Register an approved WhatsApp template (name, language, category, parameter mapping); the same name and language again replaces it' })
  @ApiCreatedResponse({ description: 'Registered (200 when it replaced one)' })
  @ApiBadRequestResponse({ description: 'Invalid body (each field named)' })
  async register(@Body() body: RegisterTemplateDto, @Res({ passthrough: true }) res: Response): Promise<RegisteredTemplate> {
    const { template, created } = await this.templates.register(body);
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return template;
  }

  @Get()
  @RequirePermission('templates:read')
  @ApiOperation({ summary: 'The templates threadbridge may send' })
  @ApiOkResponse({ description: '{ data: templates }' })
  async list(): Promise<{ data: RegisteredTemplate[] }> {
    return { data: await this.templates.list() };
  }
}
