import type { ConnectorCapabilities, ConnectorDefinition } from '../../connectors/_sdk/contract';
import type { ConnectionEntity } from './entities/connection.entity';

/**
 * A connection ready to sync: its row, its connector, and its credentials and settings decrypted
 * and validated against the connector's DTOs (settings with every default filled in).
 */
export interface ResolvedConnection {
  connection: ConnectionEntity;
  definition: ConnectorDefinition;
  credentials: object;
  settings: object;
  capabilities: ConnectorCapabilities;
  budget: { requests: number; perMs: number };
}
