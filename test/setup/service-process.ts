/**
 * Runs threadbridge in its own process (same bootstrap as `npm start`) and tells the parent its
 * URL: for benchmarks (the service's RSS alone) and for tests that kill a worker outright.
 * Compiled by `npm test`'s set-up; run from dist/test/setup/service-process.js.
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
