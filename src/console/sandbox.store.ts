import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomInt } from 'node:crypto';

/**
 * What the sandbox phone remembers, in memory only (a sandbox: a restart forgets it, and it is
 * bounded): its customers, each one's chat — what they sent and what the business sent them, with
 * the ticks — and the media either side handed over, so the service's media download and the
 * phone's pictures work.
 */

/** How many chat entries a customer keeps (the oldest go first). */
export const MAX_ENTRIES_PER_CUSTOMER = 200;
const MAX_CUSTOMERS = 100;
/** Media bytes kept in all; the oldest files go first. */
const MAX_MEDIA_BYTES = 64 * 1024 * 1024;
/** How long a media download URL works, as Meta's do (5 minutes). */
const MEDIA_URL_TTL_MS = 5 * 60_000;

/** A message's ticks: for the business's messages, what the sandbox reported (sent → delivered → read). */
export type SandboxTick = 'pending' | 'sent' | 'delivered' | 'read' | 'failed';

export interface SandboxButton {
  id: string;
  title: string;
  description?: string;
}

/** One bubble of a sandbox chat. */
export interface SandboxEntry {
  seq: number;
  at: Date;
  /** `customer`: the sandbox sent it (a webhook); `business`: the service sent it (the fake Cloud API). */
  from: 'customer' | 'business';
  wamid: string;
  kind: string;
  text?: string;
  caption?: string;
  media?: { id?: string; link?: string; mimeType?: string; filename?: string };
  location?: { latitude: number; longitude: number; name?: string; address?: string };
  /** A template: its name, language and the parameters it was sent with. */
  template?: { name: string; language?: string; params: string[] };
  /** An interactive message's header/footer, and its buttons or list rows (the customer can tap them). */
  header?: string;
  footer?: string;
  buttons?: SandboxButton[];
  /** The wamid this message answers (a tapped button names the menu it came from). */
  replyTo?: string;
  tick: SandboxTick;
  /** Why a customer's message did not arrive (the webhook's answer). */
  problem?: string;
}

export interface SandboxCustomer {
  waId: string;
  name: string;
  entries: SandboxEntry[];
}

export interface SandboxMedia {
  id: string;
  bytes: Buffer;
  mimeType: string;
  sha256Base64: string;
  filename?: string;
}

let seq = 0;

/** A `wamid.` id laid out like Meta's (base64 of a small record naming the wa_id and direction). */
export function sandboxWamid(waId: string, from: 'customer' | 'business'): string {
  const digits = waId.replace(/\D/g, '') || '0';
  const hexLength = from === 'customer' ? 20 : 18;
  const hex = ((++seq).toString(16).toUpperCase().padStart(8, '0') + randomBytes(hexLength).toString('hex').toUpperCase()).slice(0, hexLength);
  const record = Buffer.concat([
    Buffer.from([0x1c, 0x18, digits.length]),
    Buffer.from(digits, 'ascii'),
    Buffer.from([0x15, 0x02, 0x00, from === 'customer' ? 0x12 : 0x11, 0x18, hexLength]),
    Buffer.from(hex, 'ascii'),
    Buffer.from([0x00]),
  ]);
  return `wamid.${record.toString('base64')}`;
}

/** A fresh number in the +1 555 range the sandbox hands out (digits, as a wa_id). */
export function freshSandboxNumber(): string {
  return `1555${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
}

@Injectable()
export class SandboxStore {
  private readonly customers = new Map<string, SandboxCustomer>();
  private readonly media = new Map<string, SandboxMedia>();
  private mediaBytes = 0;
  private readonly downloads = new Map<string, { mediaId: string; expiresAt: number }>();
  private mediaSeq = randomInt(1, 1_000_000) * 1_000_000;

  /** The customer with this wa_id, created (with `name`, or a made-up one) when new; a given name replaces the old one. */
  customer(waId: string, name?: string): SandboxCustomer {
    let customer = this.customers.get(waId);
    if (!customer) {
      customer = { waId, name: name || `Sandbox ${waId.slice(-4)}`, entries: [] };
      this.customers.set(waId, customer);
      if (this.customers.size > MAX_CUSTOMERS) this.customers.delete(this.customers.keys().next().value as string);
    } else if (name) customer.name = name;
    return customer;
  }

  find(waId: string): SandboxCustomer | undefined {
    return this.customers.get(waId);
  }

  /** Every sandbox customer, the most recently active first. */
  list(): SandboxCustomer[] {
    const last = (c: SandboxCustomer) => c.entries.at(-1)?.seq ?? 0;
    return [...this.customers.values()].sort((a, b) => last(b) - last(a));
  }

  add(waId: string, entry: Omit<SandboxEntry, 'seq' | 'at'>): SandboxEntry {
    const customer = this.customer(waId);
    const full: SandboxEntry = { ...entry, seq: ++seq, at: new Date() };
    customer.entries.push(full);
    if (customer.entries.length > MAX_ENTRIES_PER_CUSTOMER) customer.entries.splice(0, customer.entries.length - MAX_ENTRIES_PER_CUSTOMER);
    return full;
  }

  /** The entry with this wamid, on any customer's chat. */
  entry(wamid: string): { customer: SandboxCustomer; entry: SandboxEntry } | undefined {
    for (const customer of this.customers.values()) {
      const entry = customer.entries.find((e) => e.wamid === wamid);
      if (entry) return { customer, entry };
    }
    return undefined;
  }

  addMedia(bytes: Buffer, mimeType: string, filename?: string): SandboxMedia {
    const id = String(1_000_000_000_000_000 + ++this.mediaSeq);
    const stored: SandboxMedia = { id, bytes: Buffer.from(bytes), mimeType, filename, sha256Base64: createHash('sha256').update(bytes).digest('base64') };
    this.media.set(id, stored);
    this.mediaBytes += bytes.length;
    for (const [oldId, old] of this.media) {
      if (this.mediaBytes <= MAX_MEDIA_BYTES || oldId === id) break;
      this.media.delete(oldId);
      this.mediaBytes -= old.bytes.length;
    }
    return stored;
  }

  getMedia(id: string): SandboxMedia | undefined {
    return this.media.get(id);
  }

  deleteMedia(id: string): boolean {
    const stored = this.media.get(id);
    if (!stored) return false;
    this.media.delete(id);
    this.mediaBytes -= stored.bytes.length;
    return true;
  }

  /** A one-off download token for a media id, valid for Meta's five minutes. */
  downloadToken(mediaId: string, now = Date.now()): string {
    for (const [token, d] of this.downloads) if (d.expiresAt <= now) this.downloads.delete(token);
    const token = randomBytes(24).toString('base64url');
    this.downloads.set(token, { mediaId, expiresAt: now + MEDIA_URL_TTL_MS });
    return token;
  }

  /** The media a download token names, while it lasts. */
  download(token: string, now = Date.now()): SandboxMedia | undefined {
    const d = this.downloads.get(token);
    if (!d || d.expiresAt <= now) return undefined;
    return this.media.get(d.mediaId);
  }
}
