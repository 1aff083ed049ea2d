import { Inject, Injectable } from '@nestjs/common';
import axios, { type AxiosInstance, isAxiosError } from 'axios';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { APP_CONFIG, type AppConfig } from '../../config/configuration';
import { EGRESS_REFUSED, EgressPolicy, hostMatches } from '../common/egress';

/** A failed call to the Cloud API, with Meta's error code when it sent one. */
export class WhatsAppApiError extends Error {
  constructor(
    message: string,
    readonly httpStatus: number | undefined,
    readonly code: number | undefined,
    /** True when trying again later can succeed (5xx, timeouts, throttling). */
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'WhatsAppApiError';
  }
}

export interface MediaInfo {
  url: string;
  mimeType?: string;
  sha256?: string;
  fileSize?: number;
}

export interface DownloadedMedia {
  bytes: Buffer;
  sha256Hex: string;
  sha256Base64: string;
}

export class MediaTooLargeError extends Error {}

/** The body of a send: `type` names the key that holds the payload (text, template…). */
export interface OutboundMessageBody {
  messaging_product: 'whatsapp';
  recipient_type: 'individual';
  /** The customer's wa_id. */
  to: string;
  type: string;
  context?: { message_id: string };
  [payload: string]: unknown;
}

/** Meta codes that mean "slow down" rather than "this request is wrong". */
const THROTTLE_CODES = new Set([4, 80007, 130429, 131056]);

/** Thin client for the WhatsApp Cloud API (graph.facebook.com or WHATSAPP_API_URL). */
@Injectable()
export class CloudApiClient {
  private readonly http: AxiosInstance;
  /** Where the access token may go: the Graph API host and Meta's media hosts, nowhere else. */
  private readonly tokenHosts: string[];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    egress: EgressPolicy,
  ) {
    this.tokenHosts = [new URL(config.whatsapp.apiUrl).host, ...config.whatsapp.mediaHosts];
    this.http = axios.create({
      baseURL: `${config.whatsapp.apiUrl}/${config.whatsapp.apiVersion}`,
      timeout: 15_000,
      headers: { Authorization: `Bearer ${config.whatsapp.accessToken ?? ''}` },
      // Every socket, also after a redirect, goes through the egress policy; no proxy from the
      // environment can route around it.
      httpAgent: egress.agent('http:', { keepAlive: true }),
      httpsAgent: egress.agent('https:', { keepAlive: true }),
      proxy: false,
    });
  }

  /** True when the access token may be sent to `url` (its host:port, or its name under a `*.` media host). */
  private mayReceiveToken(url: URL): boolean {
    return hostMatches(url.host, this.tokenHosts) || (url.port === '' && hostMatches(url.hostname, this.tokenHosts));
  }

  get configured(): boolean {
    return Boolean(this.config.whatsapp.accessToken);
  }

  /** Step 1 of a download: the short-lived URL of a media id. */
  async getMediaInfo(mediaId: string): Promise<MediaInfo> {
    try {
      const { data } = await this.http.get(`/${encodeURIComponent(mediaId)}`);
      return { url: data.url, mimeType: data.mime_type, sha256: data.sha256, fileSize: data.file_size === undefined ? undefined : Number(data.file_size) };
    } catch (error) {
      throw toWhatsAppApiError(error);
    }
  }

  /**
   * Sends one message (POST /{phone-number-id}/messages) and returns the wamid Meta assigned. A 200
   * only means Meta accepted it; delivery arrives later as status webhooks. Throws WhatsAppApiError
   * with Meta's error code (131047 outside the window, 131056 pair limit, 130429 throughput…).
   */
  async sendMessage(phoneNumberId: string, message: OutboundMessageBody): Promise<{ wamid: string }> {
    try {
      const { data } = await this.http.post(`/${encodeURIComponent(phoneNumberId)}/messages`, message);
      const wamid = (data as { messages?: { id?: unknown }[] })?.messages?.[0]?.id;
      if (typeof wamid !== 'string' || wamid === '') throw new WhatsAppApiError('the send was answered without a message id', 200, undefined, true);
      return { wamid };
    } catch (error) {
      throw toWhatsAppApiError(error);
    }
  }

  /**
   * Uploads a file for a media message (POST /{phone-number-id}/media, multipart with
   * messaging_product=whatsapp and the MIME type as `type`, which Meta reads rather than the file
   * part's header). Returns the media id a send names (`{ image: { id } }`); Meta keeps it 30 days.
   */
  async uploadMedia(phoneNumberId: string, file: { bytes: Buffer; mimeType: string; filename?: string }): Promise<{ id: string }> {
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', file.mimeType);
    form.append('file', new Blob([new Uint8Array(file.bytes)], { type: file.mimeType }), file.filename ?? 'file');
    try {
      // A 100 MB document takes longer than a send: the timeout grows with the file.
      const timeout = 15_000 + Math.ceil(file.bytes.length / 1_000_000) * 1_000;
      const { data } = await this.http.post(`/${encodeURIComponent(phoneNumberId)}/media`, form, { timeout, maxBodyLength: Infinity });
      const id = (data as { id?: unknown })?.id;
      if (typeof id !== 'string' || id === '') throw new WhatsAppApiError('the upload was answered without a media id', 200, undefined, true);
      return { id };
    } catch (error) {
      throw toWhatsAppApiError(error);
    }
  }

  /**
   * Step 2: the bytes, with the same bearer token. Streams and stops as soon as the file passes
   * `maxBytes`, so an oversized file never sits in memory whole.
   */
  async download(url: string, maxBytes: number): Promise<DownloadedMedia> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      throw new WhatsAppApiError('the media URL is not a URL', undefined, undefined, false);
    }
    // The URL comes from Meta's answer, but the token is only ever sent to Meta: a media URL on
    // any other host is refused rather than fetched with (or without) the token.
    if ((target.protocol !== 'https:' && target.protocol !== 'http:') || !this.mayReceiveToken(target)) {
      throw new WhatsAppApiError(`the media URL's host ${target.host} is not the Graph API's or one of WHATSAPP_MEDIA_HOSTS`, undefined, undefined, false);
    }
    let stream: Readable;
    try {
      const response = await this.http.get<Readable>(target.toString(), {
        baseURL: '',
        responseType: 'stream',
        maxContentLength: maxBytes,
        // follow-redirects drops Authorization on a redirect; this keeps it off any host but Meta's
        // even if that changes.
        beforeRedirect: (options: Record<string, unknown>) => {
          const headers = options.headers as Record<string, unknown> | undefined;
          const next = new URL(String(options.href ?? `${String(options.protocol)}//${String(options.host)}`));
          if (headers && !this.mayReceiveToken(next)) for (const name of Object.keys(headers)) if (name.toLowerCase() === 'authorization') delete headers[name];
        },
      });
      stream = response.data;
    } catch (error) {
      // The URL expires within minutes: any failure here is worth a retry, which starts again
      // from the media id and gets a fresh URL.
      const e = toWhatsAppApiError(error);
      throw new WhatsAppApiError(e.message, e.httpStatus, e.code, true, e.retryAfterMs);
    }
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream) {
      size += chunk.length;
      if (size > maxBytes) {
        stream.destroy();
        throw new MediaTooLargeError(`media is larger than the ${maxBytes}-byte limit`);
      }
      hash.update(chunk);
      chunks.push(chunk);
    }
    const digest = hash.digest();
    return { bytes: Buffer.concat(chunks), sha256Hex: digest.toString('hex'), sha256Base64: digest.toString('base64') };
  }
}

/** Translates axios failures into WhatsAppApiError, reading Meta's error body. */
export function toWhatsAppApiError(error: unknown): WhatsAppApiError {
  if (error instanceof WhatsAppApiError) return error;
  // The egress policy refused the address: trying again reaches the same address.
  if ((error as { code?: unknown })?.code === EGRESS_REFUSED) return new WhatsAppApiError((error as Error).message, undefined, undefined, false);
  if (!isAxiosError(error)) return new WhatsAppApiError(String(error), undefined, undefined, true);
  const status = error.response?.status;
  const body = error.response?.data as { error?: { code?: number; message?: string } } | undefined;
  const code = typeof body?.error?.code === 'number' ? body.error.code : undefined;
  const retryAfter = Number(error.response?.headers?.['retry-after']);
  const retryable = status === undefined || status >= 500 || status === 429 || (code !== undefined && THROTTLE_CODES.has(code));
  const message = body?.error?.message ?? error.message;
  return new WhatsAppApiError(message, status, code, retryable, Number.isFinite(retryAfter) ? retryAfter * 1000 : undefined);
}
