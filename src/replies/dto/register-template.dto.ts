import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsOptional, IsString, Length, Matches } from 'class-validator';
import { TEMPLATE_CATEGORIES, TEMPLATE_TOKENS, type TemplateCategory } from '../replies.types';

export class RegisterTemplateDto {
  @ApiProperty({ description: 'The template name as approved at Meta (lower-case letters, digits, underscores)', example: 'support_reply' })
  @Matches(/^[a-z0-9_]{1,512}$/, { message: 'name must be lower-case letters, digits and underscores' })
  name: string;

  @ApiProperty({ description: 'The language/locale it was approved in', example: 'en' })
  @Matches(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, { message: 'language must be a code such as en or pt_BR' })
  language: string;

  @ApiProperty({ enum: TEMPLATE_CATEGORIES, description: 'The category Meta approved it in; the consent gate polices it (marketing needs an opt-in)' })
  @IsIn(TEMPLATE_CATEGORIES)
  category: TemplateCategory;

  @ApiPropertyOptional({
    type: [String],
    description: `How the body placeholders {{1}}, {{2}}… are filled, in order: ${TEMPLATE_TOKENS.join(', ')} or literal text`,
    example: ['{{customer.name}}', '{{agent.text}}'],
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @Length(1, 1024, { each: true })
  parameters?: string[];
}
