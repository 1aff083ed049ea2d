import { Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { Encryption } from '../common/encryption';
import { ConnectionMetrics } from './connection-metrics';
import { ConnectionsController } from './connections.controller';
import { ConnectionsRepository } from './connections.repository';
import { ConnectionsService } from './connections.service';
import { CredentialsCheck } from './credentials-check';
import { DeclaredConnections } from './declared-connections';
import { ConnectorCalls } from './connector-calls';
import { ConnectorFactory } from './connector-factory';
import { ConnectorRegistry, SHIPPED_CONNECTORS } from './connector-registry';

/** Connections: configured instances of connectors, their encrypted credentials and their API. */
@Module({
  controllers: [ConnectionsController],
  providers: [
    ConnectionsRepository,
    SHIPPED_CONNECTORS,
    ConnectorRegistry,
    ConnectorFactory,
    ConnectorCalls,
    CredentialsCheck,
    ConnectionsService,
    DeclaredConnections,
    ConnectionMetrics,
    {
      provide: Encryption,
      useFactory: (config: AppConfig) => {
        // startService fills the key from DATA_DIR when ENCRYPTION_KEY is not set.
        if (!config.encryption.key) throw new Error('no encryption key: set ENCRYPTION_KEY');
        return new Encryption(config.encryption.key, config.encryption.previousKey);
      },
      inject: [APP_CONFIG],
    },
  ],
  exports: [ConnectionsService, CredentialsCheck, ConnectorRegistry, ConnectorFactory, ConnectorCalls],
})
export class ConnectionsModule {}
