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
  ValidateIf,
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

  /**
   * The client secret of the app that owns the custom channel: HubSpot signs the channel's
   * webhooks (agent replies) with it (X-HubSpot-Signature-v3).
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  appSecret?: string;

  /** The developer app's id; only replySetup needs it (registering the custom channel). */
  @IsOptional()
  @IsString()
  @Matches(/^\d+$/, { message: 'appId must be the numeric id of the HubSpot app' })
  appId?: string;

  /**
   * The developer account's API key; only replySetup needs it, because HubSpot registers a
   * custom channel on the app (`?hapikey=…&appId=…`), not on the portal.
   */
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  developerApiKey?: string;
}

/** E.164 with '+': what HubSpot's HS_PHONE_NUMBER delivery identifiers hold. */
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Agent replies through a HubSpot Conversations custom channel: customer messages are published
 * into an inbox thread, agents answer there, HubSpot posts their replies to threadbridge.
 * replySetup.setUp() registers the channel and connects the account, and returns the ids to store.
 */
export class HubspotConversationsSettings {
  /** Publish customer messages to the inbox and take agent replies from it (facet `replies`). */
  @IsBoolean()
  enabled = false;

  /** The custom channel registered on the app (set by replySetup). Required when enabled. */
  @ValidateIf((o: HubspotConversationsSettings) => o.enabled || o.channelId !== undefined)
  @IsString()
  @IsNotEmpty()
  channelId?: string;

  /** The channel account connecting this portal's inbox (set by replySetup). Required when enabled. */
  @ValidateIf((o: HubspotConversationsSettings) => o.enabled || o.channelAccountId !== undefined)
  @IsString()
  @IsNotEmpty()
  channelAccountId?: string;

  /** The Conversations inbox the channel account delivers to (GET /conversations/v3/conversations/inboxes). */
  @IsOptional()
  @IsString()
  @Matches(/^\d+$/, { message: 'inboxId must be the numeric id of a HubSpot inbox' })
  inboxId?: string;

  /** Our WhatsApp business number in E.164: the channel account's address and every message's recipient. Required when enabled. */
  @ValidateIf((o: HubspotConversationsSettings) => o.enabled || o.deliveryIdentifier !== undefined)
  @IsString()
  @Matches(E164, { message: 'deliveryIdentifier must be the business number in E.164, e.g. +15550100000' })
  deliveryIdentifier?: string;
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

  /**
   * HubSpot tickets have no groups: the ticket property a route's `group` is written to, as given
   * (e.g. a dropdown property "support_group" whose option values are the group names). Absent: a
   * route's group is not written (README, "Ticket routing").
   */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_]*$/, { message: 'groupProperty must be a HubSpot internal property name' })
  groupProperty?: string;

  /**
   * HubSpot tickets have no tags: the multiple-checkbox ticket property a route's tags are added
   * to and removed from (values `;`-separated). Absent: a route's tags are not written.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[a-z][a-z0-9_]*$/, { message: 'tagsProperty must be a HubSpot internal property name' })
  tagsProperty?: string;
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

  /** Agent replies through a Conversations custom channel (off by default). */
  @ValidateNested()
  @Type(() => HubspotConversationsSettings)
  conversations: HubspotConversationsSettings = new HubspotConversationsSettings();

  /** Request budget when the account has a higher tier (Professional/Enterprise: 190 / 10 s). */
  @IsOptional()
  @ValidateNested()
  @Type(() => HubspotBudgetSettings)
  budget?: HubspotBudgetSettings;
}
