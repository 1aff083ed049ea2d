import { ConfigValidationError } from '../config/env.validation';
import { describeService, startService } from './bootstrap';

async function main(): Promise<void> {
  try {
    const service = await startService(process.env);
    console.log(describeService(service));
    const shutdown = async (signal: string) => {
      service.logger.info({ signal }, 'shutting down');
      await service.stop();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown('SIGINT'));
    process.once('SIGTERM', () => void shutdown('SIGTERM'));
  } catch (error) {
    if (error instanceof ConfigValidationError) {
      console.error(error.message);
      process.exit(2);
    }
    console.error('threadbridge failed to start:', error instanceof Error ? error.message : error);
    process.exit(1);
  }
}

void main();
