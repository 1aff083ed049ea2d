/**
 * What a HubSpot connection is configured with. Credentials are secret (encrypted at rest);
 * settings are not. The core validates plain JSON against these classes (class-validator) and
 * fills the defaults below (class-transformer keeps initialisers for absent keys).
 */
// class-transformer's @Type reads design-time types through reflect-metadata.
import 'reflect-metadata';
import { Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';

export const HUBSPOT_DEFAULT_BASE_URL = 'https://api.hubapi.com';

export class HubspotCredentials {
  /** A private app's access token (Settings → Integrations → Private apps). */
  @IsString()
  @IsNotEmpty()
  accessToken!: string;

  /** API base URL; tests and demos point it at a local fake. Default https://api.hubapi.com. */
  @IsOptional()
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  baseUrl?: string;

  /** The app's client secret, to check signed webhooks (agent replies). */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  appSecret?: string;
}

export class HubspotTicketSettings {
  /** Open a ticket per conversation. */
  @IsBoolean()
  enabled = true;

  /** Ticket pipeline id ('0' is the default support pipeline). */
  @IsString()
  @IsNotEmpty()
  pipeline = '0';

  /** Stage id new and reopened tickets are put in ('1' = New in the default pipeline). */
  @IsString()
  @IsNotEmpty()
  openStage = '1';

  /** Stage ids that mean closed ('4' = Closed in the default pipeline). */
  @IsArray()
  @ArrayNotEmpty()
  @IsString({ each: true })
  closedStages: string[] = ['4'];

  /** Ticket subject; {{name}}, {{phone}}, {{businessNumber}} are filled in. */
  @IsString()
  @IsNotEmpty()
  subjectTemplate = 'WhatsApp: {{name}} ({{phone}})';

  /** A closed ticket is reopened when the customer writes again within this many hours. */
  @IsInt()
  @Min(0)
  @Max(24 * 365)
  reopenWithinHours = 24;
}

export class HubspotBudgetSettings {
  @IsInt()
  @Min(1)
  requests!: number;

  @IsInt()
  @Min(1)
  perMs!: number;
}

export class HubspotSettings {
  @ValidateNested()
  @Type(() => HubspotTicketSettings)
  tickets: HubspotTicketSettings = new HubspotTicketSettings();

  /** Contact property that mirrors WhatsApp marketing consent ('opted_in' / 'opted_out'). */
  @IsString()
  @Matches(/^[a-z][a-z0-9_]*$/, { message: 'consentProperty must be a HubSpot internal property name' })
  consentProperty = 'whatsapp_marketing_consent';

  /** Request budget when the account has a higher tier (Professional/Enterprise: 190 / 10 s). */
  @IsOptional()
  @ValidateNested()
  @Type(() => HubspotBudgetSettings)
  budget?: HubspotBudgetSettings;
}
