/**
 * Consent to CRMs on a real Postgres with the in-memory FakeCrm (medium tier): a consent change
 * recorded in the ledger (ConsentService, or a STOP keyword the customer wrote) is written onto the
 * customer's contact in the fake by the `consent-sync` tasks (ConsentSyncHandler).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { aTextMessageWebhook } from '../../test/factories/whatsapp-webhook.factory';
import { type MediumTest, startMediumTest } from '../../test/setup/medium-test';
import { ConsentService } from '../consent/consent.service';
import { QueueName } from '../tasks/queues';

describe('ConsentSyncHandler with a fake CRM', () => {
  let t: MediumTest;

  beforeAll(async () => {
    t = await startMediumTest();
    await t.connectFakeCrm();
  });
  afterAll(async () => {
    await t?.close();
  });

  const contactIdOf = async (waId: string): Promise<string> => (await t.db.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]))[0].id;
  const remoteConsent = (waId: string) => t.crm.contactsWithPhone(`+${waId}`)[0]?.consent;

  it('writes an opt-out recorded through the API onto the customer’s contact in the CRM', async () => {
    const waId = '48601237001';
    await t.ingest(aTextMessageWebhook({ waId, text: 'Hello' }));
    await t.runDueTasks([QueueName.CrmSync]);

    await t.get(ConsentService).record({
      contactId: await contactIdOf(waId),
      action: 'opt_out',
      scope: 'marketing',
      source: 'api',
      actor: 'test',
      occurredAt: new Date(),
    });
    await t.runDueTasks([QueueName.ConsentSync]);

    expect(t.crm.contactsWithPhone(`+${waId}`)).toHaveLength(1);
    expect(remoteConsent(waId)?.marketing).toMatchObject({ scope: 'marketing', optedIn: false });
    await expect(t.db.query(`SELECT status FROM outbox WHERE queue = $1`, [QueueName.ConsentSync])).resolves.toEqual([{ status: 'done' }]);
  });

  it('a customer who writes STOP ends up opted out on the contact in the CRM', async () => {
    const waId = '48601237002';
    await t.ingest(aTextMessageWebhook({ waId, text: 'STOP' }));
    // The keyword is recorded, the contact synced, and the change written onto it, in whatever
    // order the tasks come due.
    await t.runDueTasks();

    const consent = remoteConsent(waId);
    expect(consent?.marketing).toMatchObject({ optedIn: false });
    expect(consent?.marketing?.source).toMatch(/keyword/);
    expect(t.crm.contactsWithPhone(`+${waId}`)).toHaveLength(1);
  });
});
