import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../config/configuration';
import { LOGGER } from './common/logger';
import { ContactsModule } from './contacts/contacts.module';
import { ConversationsModule } from './conversations/conversations.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { QueueModule } from './sync/queue.module';
import { WorkersModule } from './sync/workers.module';
import { WhatsappModule } from './whatsapp/whatsapp.module';

/** Configuration and the logger, available everywhere. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
      ],
      exports: [APP_CONFIG, LOGGER],
    };
  }
}

@Module({})
export class AppModule {
  /** `config.databaseUrl` must be set (the embedded database is started before this). */
  static forRoot(config: AppConfig, logger: Logger): DynamicModule {
    const runsWorkers = config.role !== 'api';
    return {
      module: AppModule,
      imports: [
        CoreModule.forRoot(config, logger),
        DatabaseModule.forRoot(config.databaseUrl!, config.dbPoolSize),
        QueueModule.forRoot(config),
        HealthModule,
        ContactsModule,
        ConversationsModule,
        WhatsappModule,
        ...(runsWorkers ? [WorkersModule.forRoot(config)] : []),
      ],
    };
  }
}
