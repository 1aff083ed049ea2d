import { describe, it, expect } from '@jest/globals';
import { loadWebhookExamples, specSchemaErrors } from '../fakes/meta-graph.spec-validator';
import { describeWithMetaOpenApi } from '../setup/with-meta-openapi';
import {
  aBatchWebhook,
  aLocationMessageWebhook,
  aStatus,
  aStatusProgression,
  aStatusWebhook,
  aTextMessage,
  aTextMessageWebhook,
  anImageMessage,
  anImageMessageWebhook,
  nextWamid,
} from './whatsapp-webhook.factory';

/**
 * The builders are checked against Meta's own webhook examples in the OpenAPI document (read from
 * disk, hence an int-spec): given the example's values they must produce the example exactly.
 */
const sample = { wabaId: '419561257915477', phoneNumberId: '106540352242922', displayPhoneNumber: '15550783881' };

describeWithMetaOpenApi('whatsapp webhook builders reproduce Meta’s examples', () => {
  const examples = new Map(loadWebhookExamples().map((e) => [e.name, e.value]));

  it('text message', () => {
    const built = aTextMessageWebhook({
      ...sample,
      waId: '16505551234',
      name: 'Sheena Nelson',
      text: 'Does it come in another color?',
      wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      timestamp: '1749416383',
    });
    expect(built).toEqual(examples.get('Text Message'));
  });

  it('image message', () => {
    const built = anImageMessageWebhook({
      ...sample,
      wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=',
      timestamp: '1744344496',
      caption: 'Taj Mahal',
      mimeType: 'image/jpeg',
      sha256: 'SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=',
      mediaId: '1003383421387256',
    });
    expect(built).toEqual(examples.get('Image Message'));
  });

  it('location message', () => {
    const built = aLocationMessageWebhook({
      ...sample,
      wamid: 'wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTU2MjZEMDBGRkE3MENEMDE0RQA=',
      timestamp: new Date(1744344496 * 1000),
      address: '101 Forest Ave, Palo Alto, CA 94301',
      latitude: 37.44221496582,
      longitude: -122.16165924072,
      placeName: 'Philz Coffee',
      url: 'https://philzcoffee.com/',
    });
    expect(built).toEqual(examples.get('Location Message'));
  });
});

describe('defaults', () => {
  it('fill every field Meta always sends, with a fresh wamid and a unix-seconds timestamp', () => {
    const before = Math.floor(Date.now() / 1000);
    const payload = aTextMessageWebhook();
    const value = payload.entry[0].changes[0].value;
    const message = value.messages![0];

    expect(payload.object).toBe('whatsapp_business_account');
    expect(payload.entry[0].changes[0].field).toBe('messages');
    expect(value.contacts).toEqual([{ profile: { name: 'Sheena Nelson' }, wa_id: '16505551234' }]);
    expect(message.from).toBe('16505551234');
    expect(message.id).toMatch(/^wamid\./);
    expect(Number(message.timestamp)).toBeGreaterThanOrEqual(before);
    expect(message.timestamp).toMatch(/^\d{10}$/);
  });

  it('mark replies with a context pointing at our message', () => {
    const ours = nextWamid('16505551234', 'outbound');
    expect(aTextMessage({ replyTo: { wamid: ours } }).context).toEqual({ from: '15550783881', id: ours });
  });
});

describe('nextWamid', () => {
  it('produces unique ids laid out like Meta’s, embedding the wa_id', () => {
    const ids = Array.from({ length: 1000 }, () => nextWamid('447700900123'));
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids.slice(0, 5)) {
      const record = Buffer.from(id.slice('wamid.'.length), 'base64');
      expect(record.subarray(0, 3)).toEqual(Buffer.from([0x1c, 0x18, 12]));
      expect(record.subarray(3, 15).toString('ascii')).toBe('447700900123');
    }
  });
});

describeWithMetaOpenApi('status webhooks against the document', () => {
  it('build status webhooks that satisfy the document’s StatusMessageValue schema', () => {
    const wamid = nextWamid('16505551234', 'outbound');
    for (const status of ['sent', 'delivered', 'read', 'failed'] as const) {
      const value = aStatusWebhook({ wamid, status }).entry[0].changes[0].value;
      expect(specSchemaErrors('StatusMessageValue', value)).toEqual([]);
    }
  });
});

describe('statuses', () => {
  it('carry errors on failed, conversation and pricing on sent/delivered only', () => {
    const wamid = nextWamid('16505551234', 'outbound');
    const failed = aStatus({ wamid, status: 'failed', errors: [{ code: 131047, title: 'Re-engagement message' }] });
    expect(failed.errors).toEqual([
      {
        code: 131047,
        title: 'Re-engagement message',
        message: 'Re-engagement message',
        error_data: { details: 'Re-engagement message' },
        href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
      },
    ]);
    expect(failed.pricing).toBeUndefined();
    expect(aStatus({ wamid, status: 'sent' }).conversation?.expiration_timestamp).toMatch(/^\d+$/);
    expect(aStatus({ wamid, status: 'delivered' }).pricing).toEqual({ billable: true, pricing_model: 'CBP', category: 'service' });
    expect(aStatus({ wamid, status: 'read' })).not.toHaveProperty('conversation');
  });

  it('progress sent → delivered → read, optionally skipping, reordering and duplicating', () => {
    const wamid = nextWamid('16505551234', 'outbound');
    const statusesOf = (payloads: ReturnType<typeof aStatusProgression>) =>
      payloads.map((p) => p.entry[0].changes[0].value.statuses![0].status);

    expect(statusesOf(aStatusProgression({ wamid }))).toEqual(['sent', 'delivered', 'read']);
    expect(statusesOf(aStatusProgression({ wamid, skipDelivered: true }))).toEqual(['sent', 'read']);
    expect(statusesOf(aStatusProgression({ wamid, outOfOrder: true, duplicate: 'delivered' }))).toEqual([
      'read',
      'delivered',
      'sent',
      'delivered',
    ]);
  });
});

describe('aBatchWebhook', () => {
  it('puts several messages and statuses in one change, listing each sender once', () => {
    const ours = nextWamid('16505551234', 'outbound');
    const payload = aBatchWebhook(
      [aTextMessage({ waId: '16505551234' }), anImageMessage({ waId: '447700900123' }), aTextMessage({ waId: '16505551234' })],
      [aStatus({ wamid: ours, status: 'delivered' })],
      { names: { '447700900123': 'Ada' } },
    );
    const value = payload.entry[0].changes[0].value;

    expect(value.contacts).toEqual([
      { profile: { name: 'Customer 16505551234' }, wa_id: '16505551234' },
      { profile: { name: 'Ada' }, wa_id: '447700900123' },
    ]);
    expect(value.messages!.map((m) => m.type)).toEqual(['text', 'image', 'text']);
    expect(value.statuses!.map((s) => s.id)).toEqual([ours]);
  });
});
