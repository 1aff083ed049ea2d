import { type DynamicModule, Global, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource } from './data-source';

/** Closes the pool last, after the workers that use it have stopped. */
@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** Provides the initialised DataSource. Migrations run at boot (never synchronize). */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(url: string, poolSize: number): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = createDataSource(url, poolSize);
            await dataSource.initialize();
            await dataSource.runMigrations({ transaction: 'each' });
            return dataSource;
          },
        },
        DatabaseLifecycle,
      ],
      exports: [DataSource],
    };
  }
}
