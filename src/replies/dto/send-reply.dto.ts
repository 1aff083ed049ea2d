import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsOptional, IsString, Length, Matches, ValidateNested } from 'class-validator';

export class SendReplyDto {
  @ApiProperty({ description: 'What the customer receives (WhatsApp takes at most 4096 characters)', example: 'Your parcel left our warehouse today.' })
  @IsString()
  @Length(1, 4096)
  @Matches(/\S/, { message: 'text must not be blank' })
  text: string;

  @ApiPropertyOptional({ description: "Who wrote it, shown in the CRMs; default: the API key's name", maxLength: 200, example: 'Jane (support)' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  author?: string;
}

export class TemplateMessageDto {
  @ApiProperty({ description: 'A template registered with POST /api/v1/templates', example: 'order_update' })
  @IsString()
  @Length(1, 512)
  name: string;

  @ApiProperty({ example: 'en' })
  @IsString()
  @Length(2, 10)
  language: string;

  @ApiPropertyOptional({ type: [String], description: "Values of the body placeholders in order; default: the registered mapping" })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  @Length(1, 1024, { each: true })
  parameters?: string[];
}

export class SendMessageDto {
  @ApiPropertyOptional({ description: 'Free text (only inside the 24-hour window); with a template, the value of {{agent.text}}', maxLength: 4096 })
  @IsOptional()
  @IsString()
  @Length(1, 4096)
  @Matches(/\S/, { message: 'text must not be blank' })
  text?: string;

  @ApiPropertyOptional({ type: TemplateMessageDto, description: 'An approved template; its registered category is what the consent gate checks' })
  @IsOptional()
  @ValidateNested()
  @Type(() => TemplateMessageDto)
  template?: TemplateMessageDto;

  @ApiPropertyOptional({ description: "Who sends it, shown in the CRMs; default: the API key's name", maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  author?: string;
}
