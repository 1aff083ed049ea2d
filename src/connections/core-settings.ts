import { IsInt, IsOptional, Min } from 'class-validator';

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
}

export const CORE_SETTING_KEYS: readonly string[] = ['retentionDays'];
