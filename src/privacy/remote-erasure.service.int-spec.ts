/**
 * Erasure on a real Postgres with the in-memory FakeCrm (medium tier): a customer synced to the
 * fake is erased through ErasureService, the `privacy` tasks run through the real ErasureHandler
 * and RemoteErasureService, and the outcome is read from the fake and from the receipts.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { aTextMessageWebhook } from '../../test/factories/whatsapp-webhook.factory';
import { type MediumTest, startMediumTest } from '../../test/setup/medium-test';
import type { ConnectionView } from '../connections/connections.service';
import { QueueName } from '../tasks/queues';
import { ErasureService } from './erasure.service';

describe('remote erasure with a fake CRM', () => {
  let t: MediumTest;
  let connection: ConnectionView;

  beforeAll(async () => {
    t = await startMediumTest();
    connection = await t.connectFakeCrm();
  });
  afterAll(async () => {
    await t?.close();
  });

  const contactIdOf = async (waId: string): Promise<string> => (await t.db.query(`SELECT id FROM contacts WHERE wa_id = $1`, [waId]))[0].id;

  it('erases the customer in the CRM it was synced to and records a done receipt', async () => {
    const waId = '48601236001';
    await t.ingest(aTextMessageWebhook({ waId, text: 'Please forget me' }));
    await t.runDueTasks([QueueName.CrmSync]);
    expect(t.crm.contactsWithPhone(`+${waId}`)).toHaveLength(1);
    const remoteId = t.crm.contactsWithPhone(`+${waId}`)[0].id;
    const contactId = await contactIdOf(waId);

    const erasure = await t.get(ErasureService).erase(contactId);
    await t.runDueTasks([QueueName.Privacy]);

    // The fake holds nothing of the customer any more: no contact, no timeline, no ticket.
    expect(t.crm.contactsWithPhone(`+${waId}`)).toEqual([]);
    expect(t.crm.timelineOf(remoteId)).toEqual([]);
    expect([...t.crm.tickets.values()].filter((tk) => tk.contactId === remoteId)).toEqual([]);
    expect(t.crm.erasures).toEqual([expect.objectContaining({ contactId: remoteId, outcome: 'done' })]);

    const view = await t.get(ErasureService).get(erasure.id);
    expect(view.receipts).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ target: 'local', status: 'done' }),
        expect.objectContaining({ target: 'connection', connectionId: connection.id, status: 'done' }),
      ]),
    );
    expect(view.status).toBe('done');
    // Locally the customer is gone too, and so is the link to the remote contact.
    await expect(t.db.query(`SELECT 1 FROM contacts WHERE id = $1`, [contactId])).resolves.toEqual([]);
    await expect(t.db.query(`SELECT 1 FROM remote_links WHERE local_id = $1`, [contactId])).resolves.toEqual([]);
  });

  it('a customer never synced to the CRM gets a not_found receipt, and the CRM is not asked', async () => {
    const waId = '48601236002';
    await t.ingest(aTextMessageWebhook({ waId, text: 'Never synced' }));
    // Its crm-sync task is not run: the fake never hears of this customer.
    await t.db.query(`UPDATE outbox SET status = 'done' WHERE queue = $1 AND status = 'pending'`, [QueueName.CrmSync]);
    const erasuresBefore = t.crm.callsOf('eraseContact').length;

    const erasure = await t.get(ErasureService).erase(await contactIdOf(waId));
    await t.runDueTasks([QueueName.Privacy]);

    const view = await t.get(ErasureService).get(erasure.id);
    const remote = view.receipts.find((r) => r.target === 'connection');
    expect(remote).toMatchObject({ connectionId: connection.id, status: 'not_found' });
    expect(t.crm.callsOf('eraseContact')).toHaveLength(erasuresBefore);
  });
});
