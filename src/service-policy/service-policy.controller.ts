import { BadRequestException, Body, Controller, Delete, Get, HttpCode, HttpStatus, NotFoundException, Param, Put, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentPrincipal, RequirePermission } from '../admin/access.decorators';
import type { Principal } from '../admin/principal';
import { ApiErrors } from '../common/api-docs';
import { type List, ListOf } from '../common/pagination';
import { StoredPolicyDto } from './dto/service-policy.dto';
import type { StoredPolicy } from './service-policy.repository';
import { ServicePolicyService } from './service-policy.service';
import { SERVICE_POLICY_EXAMPLE, SERVICE_POLICY_SCHEMA } from './service-policy.schema';

const PHONE_NUMBER_ID = /^(default|[0-9]{1,32})$/;

@ApiTags('service-policy')
@ApiBearerAuth()
@Controller('api/v1/service-policy')
@RequirePermission('service-policy:manage')
export class ServicePolicyController {
  constructor(private readonly policies: ServicePolicyService) {}

  @Get()
  @ApiOperation({ summary: 'Every stored policy (the default one and those of single business numbers)' })
  @ApiOkResponse({ type: ListOf(StoredPolicyDto) })
  async list(): Promise<List<StoredPolicy>> {
    return { data: await this.policies.list() };
  }

  @Get(':phoneNumberId')
  @ApiParam({ name: 'phoneNumberId', description: "A business number's WhatsApp phone number id, or `default` (every number without one of its own)" })
  @ApiOperation({ summary: "A business number's customer-service policy: hours, away and greeting messages, triage, routing" })
  @ApiOkResponse({ type: StoredPolicyDto })
  @ApiErrors(404)
  async get(@Param('phoneNumberId') phoneNumberId: string): Promise<StoredPolicy> {
    const stored = await this.policies.get(checkId(phoneNumberId));
    if (!stored) throw new NotFoundException(`no service policy for ${phoneNumberId}`);
    return stored;
  }

  @Put(':phoneNumberId')
  @ApiParam({ name: 'phoneNumberId', description: "A business number's WhatsApp phone number id, or `default`" })
  @ApiOperation({ summary: 'Stores the policy (replacing the one before); 400 lists every problem, each with its path' })
  @ApiBody({ schema: { ...SERVICE_POLICY_SCHEMA, example: SERVICE_POLICY_EXAMPLE } })
  @ApiOkResponse({ description: 'Replaced the policy the number had', type: StoredPolicyDto })
  @ApiCreatedResponse({ description: 'Stored: the number had none', type: StoredPolicyDto })
  @ApiErrors(400)
  async put(@Param('phoneNumberId') phoneNumberId: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal | undefined, @Res({ passthrough: true }) res: Response): Promise<StoredPolicy> {
    const result = await this.policies.put(checkId(phoneNumberId), body, principal?.name ?? null);
    if ('problems' in result) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: result.problems });
    res.status(result.created ? HttpStatus.CREATED : HttpStatus.OK);
    return result.stored;
  }

  @Delete(':phoneNumberId')
  @HttpCode(204)
  @ApiOperation({ summary: "Removes the number's policy (the default one applies to it again)" })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiErrors(404)
  async remove(@Param('phoneNumberId') phoneNumberId: string): Promise<void> {
    if (!(await this.policies.delete(checkId(phoneNumberId)))) throw new NotFoundException(`no service policy for ${phoneNumberId}`);
  }
}

function checkId(phoneNumberId: string): string {
  if (!PHONE_NUMBER_ID.test(phoneNumberId)) throw new BadRequestException('phoneNumberId is a WhatsApp phone number id (digits) or default');
  return phoneNumberId;
}
