import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, Length, Matches, ValidateIf } from 'class-validator';
import { CONSENT_ACTIONS, CONSENT_SCOPES, type ConsentAction, type ConsentScope } from '../consent.types';

/** Sources an operator can name; `keyword` is reserved for what customers write on WhatsApp. */
export const API_CONSENT_SOURCES = ['api', 'crm', 'form'] as const;

export class RecordConsentDto {
  @ApiProperty({ enum: CONSENT_ACTIONS, example: 'opt_in' })
  @IsIn(CONSENT_ACTIONS)
  action: ConsentAction;

  @ApiProperty({ enum: CONSENT_SCOPES, description: 'marketing, or transactional (utility and authentication messages)', example: 'marketing' })
  @IsIn(CONSENT_SCOPES)
  scope: ConsentScope;

  @ApiPropertyOptional({ enum: API_CONSENT_SOURCES, default: 'api', description: 'Where the consent was collected' })
  @IsOptional()
  @IsIn(API_CONSENT_SOURCES)
  source?: (typeof API_CONSENT_SOURCES)[number];

  @ApiPropertyOptional({
    description: 'The evidence: the words the customer agreed to, the form and its version, the call note… Required for an opt-in.',
    maxLength: 2000,
    example: 'Checked "WhatsApp offers" on the checkout form (v3) on 2026-11-02',
  })
  @ValidateIf((o: RecordConsentDto) => o.action === 'opt_in' || o.evidence !== undefined)
  @IsString()
  @Length(1, 2000)
  @Matches(/\S/, { message: 'evidence must not be blank' })
  evidence?: string;

  @ApiPropertyOptional({ description: "Who collected or asked for it; default: the API key's name", maxLength: 200, example: 'jane@shop.example' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  actor?: string;

  @ApiPropertyOptional({ description: 'When the consent was given (ISO 8601); default: now. Never in the future.', example: '2026-11-02T10:15:00Z' })
  @IsOptional()
  @IsISO8601({ strict: true })
  occurredAt?: string;
}
