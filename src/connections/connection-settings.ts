import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Length, Matches, Min, ValidateNested } from 'class-validator';

/** The approved template an agent's reply falls back to outside WhatsApp's 24-hour window (src/replies). */
export class ReplyTemplateSettingDto {
  /** A template registered with POST /api/v1/templates. */
  @Matches(/^[a-z0-9_]{1,512}$/, { message: 'name must be lower-case letters, digits and underscores' })
  name: string;

  @Matches(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, { message: 'language must be a code such as en or pt_BR' })
  language: string;

  /** Overrides the registered template's parameter mapping ({{agent.text}}, {{customer.name}} or literal text). */
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @Length(1, 1024, { each: true })
  parameters?: string[];
}

/**
 * Settings every connection has, whatever its connector: checked by the core and stored beside
 * the connector's own settings (in `connections.settings`), never passed to its DTO.
 */
export class CoreConnectionSettingsDto {
  /**
   * How long threadbridge keeps this connection's sync records (finished sync tasks, links of
   * messages and transcripts), in days. Absent: RETENTION_DAYS. See the README's retention section.
   */
  @IsOptional() @IsInt() @Min(1)
  retentionDays?: number;

  /** Agent replies from this connection outside the 24-hour window are sent as this template. */
  @IsOptional() @ValidateNested() @Type(() => ReplyTemplateSettingDto)
  replyTemplate?: ReplyTemplateSettingDto;
}

export const CORE_SETTING_KEYS: readonly string[] = ['retentionDays', 'replyTemplate'];
