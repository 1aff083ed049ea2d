import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/configuration';
import { AccessControlModule } from './admin/access-control.module';
import { EgressPolicy } from './common/egress';
import { DirectoryMediaStore, MediaStore } from './common/media-store';
import { LOGGER } from './common/logger';
import { CONNECTION_ENV } from './connections/declared-connections';
import { ConnectionsModule } from './connections/connections.module';
import { ConsentModule } from './consent/consent.module';
import { ContactsModule } from './contacts/contacts.module';
import { ConversationsModule } from './conversations/conversations.module';
import { createDataSource } from './data-source';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { PrivacyModule } from './privacy/privacy.module';
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { RepliesModule } from './replies/replies.module';
import { ConsoleModule } from './console/console.module';
import { ServicePolicyModule } from './service-policy/service-policy.module';
import { QueueModule } from './tasks/queue.module';
import { SyncModule } from './sync/sync.module';
import { WorkersModule } from './workers.module';
import { WhatsappModule } from './whatsapp/whatsapp.module';

/** Configuration, the environment it came from, and the logger, available everywhere. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, logger: Logger, env: Record<string, string | undefined>, egress: EgressPolicy): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        // The one egress policy: every outbound request is made through it (src/common/egress.ts).
        { provide: EgressPolicy, useValue: egress },
        // Downloaded media, read by the media handler, connectors uploading files and exports.
        { provide: MediaStore, useValue: new DirectoryMediaStore(config.media.dir) },
        { provide: LOGGER, useValue: logger },
        // Connections declared by environment variables are read from the same env as the config.
        { provide: CONNECTION_ENV, useValue: env },
      ],
      exports: [APP_CONFIG, LOGGER, CONNECTION_ENV, EgressPolicy, MediaStore],
    };
  }
}

@Module({})
export class AppModule {
  /** `config.databaseUrl` must be set (the embedded database is started before this). */
  static forRoot(config: AppConfig, logger: Logger, env: Record<string, string | undefined> = process.env, egress = new EgressPolicy(config.egressAllow)): DynamicModule {
    const runsWorkers = config.role !== 'api';
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger, env, egress),
        DatabaseModule.forRoot(() => createDataSource(config.databaseUrl!, config.dbPoolSize)),
        QueueModule.forRoot(config),
        HealthModule,
        AccessControlModule,
        ContactsModule,
        ConversationsModule,
        WhatsappModule,
        ConnectionsModule,
        ServicePolicyModule,
        SyncModule,
        ConsentModule,
        PrivacyModule,
        RepliesModule,
        // Workers serve only their probes: no API to limit, no console.
        ...(config.role !== 'worker' ? [RateLimitModule.forRoot(config), ConsoleModule] : []),
        ...(runsWorkers ? [WorkersModule.forRoot(config)] : []),
      ],
    };
  }
}
