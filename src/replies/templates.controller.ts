import { Body, Controller, Get, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../admin/access.decorators';
import { ApiErrors } from '../common/api-docs';
import { type List, ListOf } from '../common/pagination';
import { RegisteredTemplateDto } from './dto/registered-template.dto';
import { RegisterTemplateDto } from './dto/register-template.dto';
import { TemplatesService } from './templates.service';

@ApiTags('templates')
@ApiBearerAuth()
@Controller('api/v1/templates')
export class TemplatesController {
  constructor(private readonly templates: TemplatesService) {}

  @Post()
  @RequirePermission('templates:manage')
  @ApiOperation({ summary: 'Register an approved WhatsApp template (name, language, category, parameter mapping); the same name and language again replaces it' })
  @ApiCreatedResponse({ description: 'Registered', type: RegisteredTemplateDto })
  @ApiOkResponse({ description: 'Replaced the one of the same name and language', type: RegisteredTemplateDto })
  @ApiErrors(400)
  async register(@Body() body: RegisterTemplateDto, @Res({ passthrough: true }) res: Response): Promise<RegisteredTemplateDto> {
    const { template, created } = await this.templates.register(body);
    res.status(created ? HttpStatus.CREATED : HttpStatus.OK);
    return template;
  }

  @Get()
  @RequirePermission('templates:read')
  @ApiOperation({ summary: 'The templates threadbridge may send' })
  @ApiOkResponse({ type: ListOf(RegisteredTemplateDto) })
  async list(): Promise<List<RegisteredTemplateDto>> {
    return { data: await this.templates.list() };
  }
}
