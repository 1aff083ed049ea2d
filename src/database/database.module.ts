import { type DynamicModule, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { runMigrationsLocked } from './migrations-lock';

/** Closes the pool last, after the workers that use it have stopped. */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Provides the initialised DataSource. Migrations run at boot under an advisory lock (never
 * synchronize). The composition root hands in the DataSource (src/data-source.ts: every feature's
 * entities and the migrations), so this floor knows no feature.
 */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(create: () => DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = create();
            await dataSource.initialize();
            await runMigrationsLocked(dataSource);
            return dataSource;
          },
        },
        DatabaseLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
