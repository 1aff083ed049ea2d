import { ApiProperty } from '@nestjs/swagger';
import { type RegisteredTemplate, TEMPLATE_CATEGORIES, type TemplateCategory } from '../replies.types';

/** An approved WhatsApp template threadbridge may send. */
export class RegisteredTemplateDto implements RegisteredTemplate {
  @ApiProperty({ format: 'uuid' })
  id: string;
  @ApiProperty({ example: 'order_update' })
  name: string;
  @ApiProperty({ example: 'en_US' })
  language: string;
  @ApiProperty({ enum: TEMPLATE_CATEGORIES })
  category: TemplateCategory;
  @ApiProperty({ type: [String], description: 'How each body placeholder ({{1}}, {{2}}…) is filled: {{agent.text}}, {{customer.name}} or literal text' })
  parameters: string[];
  @ApiProperty()
  createdAt: Date;
  @ApiProperty()
  updatedAt: Date;
}
