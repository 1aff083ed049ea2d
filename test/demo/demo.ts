/**
 * npm run demo — threadbridge both ways in one minute, on this machine alone.
 *
 * Starts the service in embedded mode (PGlite, outbox queue) beside a fake WhatsApp Cloud API, a
 * fake HubSpot and a fake Zendesk, connects both, and plays (run-demo.ts has the steps):
 *  1. a customer's chat through signed webhooks (text, a photo, a location, one delivery Meta
 *     repeats) → a HubSpot contact, ticket and timeline, and a Zendesk ticket;
 *  2. an agent's public comment in Zendesk → Zendesk's signed webhook → the customer's phone, and
 *     WhatsApp's "delivered" back on the ticket;
 *  3. that reply on the HubSpot timeline, not copied back to Zendesk; the transcript in HubSpot;
 *  4. a reply 25 hours after the customer wrote → the registered reply template on WhatsApp.
 * Exits 0 when every step happened, 1 with the step that did not. `npm run demo -- --keep` leaves
 * the service and the fakes running afterwards, with their URLs and the API key printed.
 */
import { DemoTimeoutError, runDemo } from './run-demo';

runDemo({ keep: process.argv.includes('--keep') }).then(
  () => process.exit(0),
  (error: unknown) => {
    // A step that did not happen is the expected kind of failure: say which, without a stack.
    if (error instanceof DemoTimeoutError) console.error(`\n✗ demo failed: ${error.message}`);
    else console.error('\n✗ demo failed:', error);
    process.exit(1);
  },
);
