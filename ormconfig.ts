import 'reflect-metadata';
import { createDataSource } from './src/data-source';

/** DataSource for the TypeORM CLI (`npx typeorm -d dist/ormconfig.js …`); migrating is `npm run migrate`, which takes the advisory lock. */
export default createDataSource(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/threadbridge');
