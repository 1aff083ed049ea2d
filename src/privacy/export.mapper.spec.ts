import { describe, expect, it } from '@jest/globals';
import { buildContactExport, EXPORT_FORMAT, mediaUrl, toExportedMedia } from './export.mapper';
import type { ContactRow, ConversationRow, LinkRow, MessageRow } from './privacy.repository';

const at = (iso: string) => new Date(iso);
const contact: ContactRow = { id: 'k1', waId: '4915200000001', e164: '+4915200000001', profileName: 'Greta Berg', createdAt: at('2026-01-01T00:00:00Z'), updatedAt: at('2026-01-02T00:00:00Z') };
const conversation = (id: string, openedAt: string): ConversationRow => ({
  id,
  phoneNumberId: '106540352242922',
  displayPhoneNumber: '15550783881',
  status: 'closed',
  openedAt: at(openedAt),
  lastMessageAt: null,
  lastInboundAt: null,
  firstResponseAt: null,
  resolvedAt: null,
  closedAt: null,
  createdAt: at(openedAt),
});
const message = (id: string, conversationId: string, overrides: Partial<MessageRow> = {}): MessageRow => ({
  id,
  conversationId,
  wamid: `wamid.${id}`,
  direction: 'inbound',
  type: 'text',
  body: `body of ${id}`,
  content: null,
  media: null,
  mediaStatus: 'none',
  context: null,
  referral: null,
  errors: null,
  forwarded: false,
  waTimestamp: at('2026-01-01T10:00:00Z'),
  status: 'received',
  statusAt: null,
  errorCode: null,
  errorTitle: null,
  origin: 'whatsapp',
  author: null,
  createdAt: at('2026-01-01T10:00:01Z'),
  ...overrides,
});

describe('mediaUrl', () => {
  it('is a path without PUBLIC_URL and an absolute URL with it', () => {
    expect(mediaUrl(undefined, 'm1')).toBe('/api/v1/media/m1');
    expect(mediaUrl('https://tb.example.com/', 'm1')).toBe('https://tb.example.com/api/v1/media/m1');
  });
});

describe('toExportedMedia', () => {
  it('links a stored file', () => {
    const media = toExportedMedia({ id: '123', mimeType: 'image/jpeg', storageKey: 'a'.repeat(64), sizeBytes: 10, caption: 'receipt' }, 'stored', '/api/v1/media/m1');
    expect(media).toMatchObject({ mimeType: 'image/jpeg', caption: 'receipt', sizeBytes: 10, downloadUrl: '/api/v1/media/m1', whatsappMediaId: '123' });
    expect(media).not.toHaveProperty('unavailableReason');
    expect(JSON.stringify(media)).not.toContain('a'.repeat(64)); // the store's key is internal
  });

  it('says why a file is not there', () => {
    expect(toExportedMedia({ id: '123', failureReason: 'WhatsApp refused the download' }, 'failed', '/x')).toMatchObject({
      downloadUrl: null,
      unavailableReason: 'WhatsApp refused the download',
    });
    expect(toExportedMedia({ id: '123' }, 'pending', '/x')).toMatchObject({ downloadUrl: null, unavailableReason: 'not downloaded yet' });
  });
});

describe('buildContactExport', () => {
  it('puts each message under its conversation, in the order given, with its delivery statuses', () => {
    const doc = buildContactExport(
      {
        contact,
        conversations: [conversation('c1', '2026-01-01T09:00:00Z'), conversation('c2', '2026-02-01T09:00:00Z')],
        messages: [message('m1', 'c1'), message('m2', 'c1', { direction: 'outbound', status: 'read' }), message('m3', 'c2')],
        statusEvents: [
          { wamid: 'wamid.m2', status: 'sent', occurredAt: at('2026-01-01T10:00:02Z'), errors: null },
          { wamid: 'wamid.m2', status: 'read', occurredAt: at('2026-01-01T10:05:00Z'), errors: null },
        ],
        links: [],
        consent: [{ action: 'opt_in', scope: 'marketing' }],
      },
      { now: at('2026-03-01T00:00:00Z') },
    );
    expect(doc.format).toBe(EXPORT_FORMAT);
    expect(doc.contact).toMatchObject({ id: 'k1', waId: '4915200000001', phone: '+4915200000001', profileName: 'Greta Berg' });
    expect(doc.conversations.map((c) => [c.id, c.messages.map((m) => m.id)])).toEqual([
      ['c1', ['m1', 'm2']],
      ['c2', ['m3']],
    ]);
    expect(doc.conversations[0].messages[1].statusHistory.map((s) => s.status)).toEqual(['sent', 'read']);
    expect(doc.conversations[0].messages[0].statusHistory).toEqual([]);
    expect(doc.consent).toEqual([{ action: 'opt_in', scope: 'marketing' }]);
  });

  it('says what each remote link points from', () => {
    const link = (entityType: string): LinkRow => ({
      connectionId: 'x',
      connectionName: 'HubSpot sales',
      connectorId: 'hubspot',
      entityType,
      localId: 'l',
      remoteId: 'r',
      remoteType: 't',
      remoteUrl: null,
      createdAt: at('2026-01-01T00:00:00Z'),
    });
    const doc = buildContactExport(
      { contact, conversations: [], messages: [], statusEvents: [], links: ['contact', 'ticket', 'message', 'transcript'].map(link), consent: [] },
      { now: new Date() },
    );
    expect(doc.remoteLinks.map((l) => [l.kind, l.localType])).toEqual([
      ['contact', 'contact'],
      ['ticket', 'conversation'],
      ['message', 'message'],
      ['transcript', 'conversation'],
    ]);
  });
});
