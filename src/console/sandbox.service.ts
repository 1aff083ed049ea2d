import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { LOGGER } from '../common/logger';
import { metaSignature } from '../whatsapp/webhook-signature';
import { SANDBOX_DISPLAY_NUMBER, SANDBOX_WABA_ID } from './sandbox.setup';
import { type SandboxButton, type SandboxEntry, SandboxStore, sandboxWamid } from './sandbox.store';

/** What the customer does on the sandbox phone, as the inbound message Meta would deliver. */
export type CustomerAction =
  | { kind: 'text'; text: string }
  | { kind: 'image'; bytes: Buffer; mimeType: string; caption?: string; filename?: string }
  | { kind: 'location'; latitude: number; longitude: number; name?: string; address?: string }
  | { kind: 'button'; replyTo: string; id: string; title: string; list: boolean };

/** When the fake reports a business message sent, then delivered (ms after Meta accepted it). */
const SENT_AFTER_MS = 300;
const DELIVERED_AFTER_MS = 1_200;
const WEBHOOK_TIMEOUT_MS = 10_000;

const unixSeconds = (at = new Date()) => String(Math.floor(at.getTime() / 1000));

/**
 * The sandbox phone's behaviour. A customer's action becomes the webhook Meta would send (its
 * exact envelope), signed with the service's app secret over the exact bytes and POSTed over HTTP
 * to this process's own /webhooks/whatsapp, so it takes the production path: signature check,
 * ingest, CRM sync, auto-replies. What the service sends arrives at the built-in fake Cloud API,
 * lands on the customer's chat, and is answered with status webhooks (sent, delivered; read
 * when the customer looks at the chat), as Meta does, so ticks move.
 *
 * The webhooks go to this process's own address, never a configured one, so they need no egress
 * rule: nothing a request names decides where they go.
 */
@Injectable()
export class SandboxService implements OnApplicationShutdown {
  /** Status webhooks per customer, one after another, so sent, delivered and read arrive in that order. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    readonly store: SandboxStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  get businessNumberId(): string {
    return this.config.whatsapp.phoneNumberId ?? '';
  }

  /** Plays one customer action: records it on the chat and delivers its webhook. Resolves to the chat entry. */
  async act(waId: string, name: string, action: CustomerAction): Promise<SandboxEntry> {
    const customer = this.store.customer(waId, name);
    const wamid = sandboxWamid(waId, 'customer');
    const message: Record<string, unknown> = { from: waId, id: wamid, timestamp: unixSeconds(), type: action.kind };
    let entry: Omit<SandboxEntry, 'seq' | 'at'>;
    switch (action.kind) {
      case 'text':
        message.text = { body: action.text };
        entry = { from: 'customer', wamid, kind: 'text', text: action.text, tick: 'pending' };
        break;
      case 'image': {
        const media = this.store.addMedia(action.bytes, action.mimeType, action.filename);
        message.image = { ...(action.caption ? { caption: action.caption } : {}), mime_type: media.mimeType, sha256: media.sha256Base64, id: media.id };
        entry = { from: 'customer', wamid, kind: 'image', caption: action.caption, media: { id: media.id, mimeType: media.mimeType }, tick: 'pending' };
        break;
      }
      case 'location': {
        const location = { latitude: action.latitude, longitude: action.longitude, ...(action.name ? { name: action.name } : {}), ...(action.address ? { address: action.address } : {}) };
        message.location = location;
        entry = { from: 'customer', wamid, kind: 'location', location, tick: 'pending' };
        break;
      }
      case 'button': {
        message.type = 'interactive';
        message.context = { from: SANDBOX_DISPLAY_NUMBER, id: action.replyTo };
        message.interactive = action.list
          ? { type: 'list_reply', list_reply: { id: action.id, title: action.title } }
          : { type: 'button_reply', button_reply: { id: action.id, title: action.title } };
        entry = { from: 'customer', wamid, kind: 'button', text: action.title, replyTo: action.replyTo, tick: 'pending' };
        break;
      }
    }
    const added = this.store.add(waId, entry);
    const status = await this.deliver({ contacts: [{ profile: { name: customer.name }, wa_id: waId }], messages: [message] });
    // The service's 200 is the second tick: the business has it. A refusal is shown on the bubble.
    if (status === 200) added.tick = added.tick === 'read' ? 'read' : 'delivered';
    else {
      added.tick = 'failed';
      added.problem = status === 0 ? 'the service did not answer' : `the service answered ${status}`;
    }
    return added;
  }

  /**
   * A message the service sent through the fake Cloud API: onto the customer's chat, then its
   * statuses. Returns the wamid the fake answers with.
   */
  received(waId: string, body: Record<string, unknown>): string {
    const wamid = sandboxWamid(waId, 'business');
    this.store.add(waId, { ...describeSend(body), from: 'business', wamid, tick: 'pending' });
    this.later(SENT_AFTER_MS, () => this.report(waId, wamid, 'sent'));
    this.later(DELIVERED_AFTER_MS, () => this.report(waId, wamid, 'delivered'));
    return wamid;
  }

  /** The service marked a customer's message read (POST /messages with status: read): blue ticks on it. */
  markedRead(wamid: string): boolean {
    const found = this.store.entry(wamid);
    if (!found || found.entry.from !== 'customer') return false;
    // Reading one message reads the ones before it too, as on a phone.
    for (const e of found.customer.entries) if (e.from === 'customer' && e.seq <= found.entry.seq && e.tick !== 'failed') e.tick = 'read';
    return true;
  }

  /** The customer looks at the chat: everything delivered to them is read (blue ticks for the agent). */
  viewed(waId: string): void {
    const customer = this.store.find(waId);
    for (const e of customer?.entries ?? []) {
      if (e.from === 'business' && e.tick === 'delivered') void this.report(waId, e.wamid, 'read');
    }
  }

  /** Posts one status webhook for a business message, after the ones before it, and moves its tick. */
  private report(waId: string, wamid: string, status: 'sent' | 'delivered' | 'read'): Promise<void> {
    const found = this.store.entry(wamid);
    if (!found) return Promise.resolve();
    const rank = { pending: 0, sent: 1, delivered: 2, read: 3, failed: 4 } as const;
    if (rank[found.entry.tick] >= rank[status]) return Promise.resolve();
    // Moved before the webhook goes, so a second look at the chat does not report it twice.
    found.entry.tick = status;
    const statusItem: Record<string, unknown> = { id: wamid, status, timestamp: unixSeconds(), recipient_id: waId };
    if (status !== 'read') {
      statusItem.conversation = { id: `SANDBOX_${waId}`, origin: { type: 'service' } };
      statusItem.pricing = { billable: false, pricing_model: 'PMP', category: 'service' };
    }
    const next = (this.chains.get(waId) ?? Promise.resolve()).then(async () => {
      const answer = await this.deliver({ statuses: [statusItem] });
      if (answer !== 200) this.logger.warn({ status, answer }, 'sandbox: a status webhook was not accepted');
    });
    this.chains.set(waId, next);
    void next.finally(() => this.chains.get(waId) === next && this.chains.delete(waId));
    return next;
  }

  /** Signs and POSTs one notification to this process's /webhooks/whatsapp; resolves to the HTTP status (0: no answer). */
  private async deliver(value: Record<string, unknown>): Promise<number> {
    if (this.stopped || !this.config.sandbox.selfUrl) return 0;
    const payload = {
      object: 'whatsapp_business_account',
      entry: [
        {
          id: SANDBOX_WABA_ID,
          changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: SANDBOX_DISPLAY_NUMBER, phone_number_id: this.businessNumberId }, ...value } }],
        },
      ],
    };
    // Serialised once: the signature is over exactly these bytes, as Meta signs them.
    const raw = Buffer.from(JSON.stringify(payload), 'utf8');
    const secret = this.config.whatsapp.appSecrets[0];
    const signature = metaSignature(raw, secret);
    try {
      const response = await fetch(`${this.config.sandbox.selfUrl}/webhooks/whatsapp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature, 'user-agent': 'threadbridge-sandbox' },
        body: raw,
        signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      return response.status;
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'sandbox: the webhook could not be delivered');
      return 0;
    }
  }

  private later(ms: number, run: () => unknown): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) void run();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const obj = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});

/** What a send's body shows on the phone: its text, media, template, or menu with buttons. */
export function describeSend(body: Record<string, unknown>): Omit<SandboxEntry, 'seq' | 'at' | 'from' | 'wamid' | 'tick'> {
  const type = str(body.type) ?? 'text';
  const payload = obj(body[type]);
  const replyTo = str(obj(body.context).message_id);
  switch (type) {
    case 'text':
      return { kind: 'text', text: str(payload.body) ?? '', replyTo };
    case 'image':
    case 'video':
    case 'audio':
    case 'document':
    case 'sticker':
      return { kind: type, caption: str(payload.caption), media: { id: str(payload.id), link: str(payload.link), filename: str(payload.filename) }, replyTo };
    case 'location':
      return { kind: 'location', location: { latitude: Number(payload.latitude), longitude: Number(payload.longitude), name: str(payload.name), address: str(payload.address) }, replyTo };
    case 'reaction':
      return { kind: 'reaction', text: str(payload.emoji) ?? '', replyTo: str(payload.message_id) };
    case 'template': {
      const params: string[] = [];
      for (const component of Array.isArray(payload.components) ? payload.components : []) {
        for (const parameter of Array.isArray(obj(component).parameters) ? (obj(component).parameters as unknown[]) : []) {
          const p = obj(parameter);
          const shown = str(p.text) ?? str(obj(p.currency).fallback_value) ?? str(obj(p.date_time).fallback_value) ?? str(p.payload);
          if (shown) params.push(shown);
        }
      }
      return { kind: 'template', template: { name: str(payload.name) ?? '(unnamed)', language: str(obj(payload.language).code), params }, replyTo };
    }
    case 'interactive': {
      const action = obj(payload.action);
      const buttons: SandboxButton[] = [];
      for (const b of Array.isArray(action.buttons) ? action.buttons : []) {
        const reply = obj(obj(b).reply);
        if (str(reply.id) && str(reply.title)) buttons.push({ id: str(reply.id)!, title: str(reply.title)! });
      }
      for (const section of Array.isArray(action.sections) ? action.sections : []) {
        for (const row of Array.isArray(obj(section).rows) ? (obj(section).rows as unknown[]) : []) {
          const r = obj(row);
          if (str(r.id) && str(r.title)) buttons.push({ id: str(r.id)!, title: str(r.title)!, description: str(r.description) });
        }
      }
      return {
        kind: str(payload.type) === 'list' ? 'list' : 'buttons',
        text: str(obj(payload.body).text) ?? '',
        header: str(obj(payload.header).text),
        footer: str(obj(payload.footer).text),
        buttons,
        replyTo,
      };
    }
    default:
      return { kind: type, text: `(${type} message)`, replyTo };
  }
}
