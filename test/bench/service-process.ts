/**
 * Runs threadbridge in its own process for benchmarks (same bootstrap as `npm start`) and tells
 * the parent its URL. Keeps the benchmark's own memory out of the service's RSS.
 */
import { startService } from '../../src/bootstrap';

startService(process.env)
  .then((service) => {
    process.send?.({ url: service.url });
    const stop = () => void service.stop().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((error) => {
    console.error(error);
    process.exit(1);
  });
