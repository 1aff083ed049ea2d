import 'reflect-metadata';
import { createDataSource } from './src/database/data-source';

/** DataSource for the TypeORM CLI (`npm run migration:run` after `npm run build`). */
export default createDataSource(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/threadbridge');
