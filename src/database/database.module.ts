import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource } from './data-source';

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
      ],
      exports: [DataSource],
    };
  }
}
