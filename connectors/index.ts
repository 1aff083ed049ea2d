/**
 * Every connector threadbridge ships: the only list. Adding a CRM is one folder under connectors/
 * plus one line here (connectors/index.spec.ts fails when a folder is missing from the list).
 * The core reaches vendor code only through this file and connectors/_sdk.
 */
import type { ConnectorDefinition } from './_sdk/contract';
import { hubspot } from './hubspot';
import { pipedrive } from './pipedrive';
import { webhook } from './webhook';
import { zendesk } from './zendesk';

export const CONNECTORS = [hubspot, zendesk, pipedrive, webhook] as const;

/** A connector definition of any vendor, as the core handles it. */
export type AnyConnectorDefinition = (typeof CONNECTORS)[number];

/** The connector whose manifest id is `id`, or undefined (e.g. a connection of a removed connector). */
export function connectorById(id: string): AnyConnectorDefinition | undefined {
  return CONNECTORS.find((definition) => definition.manifest.id === id);
}

/** The ids of all connectors, e.g. for validating a new connection's connectorId. */
export const CONNECTOR_IDS: readonly string[] = CONNECTORS.map((definition) => definition.manifest.id);

export type { ConnectorDefinition };
