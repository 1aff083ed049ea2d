import type { AttachmentDownload } from './contract';

/**
 * Reads a fetched file up to `maxBytes` and stops there: a file over the limit is never held
 * whole (Content-Length over the limit is refused before reading, a body without one as soon as it
 * passes). Read errors are thrown as they are, for the connector to turn into a ConnectorError.
 */
export async function readCapped(response: Response, maxBytes: number): Promise<AttachmentDownload> {
  const mimeType = response.headers.get('content-type')?.split(';')[0].trim().toLowerCase() || undefined;
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { status: 'too_large', sizeBytes: declared, mimeType };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of (response.body ?? []) as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      return { status: 'too_large', mimeType };
    }
    chunks.push(Buffer.from(chunk));
  }
  return { status: 'ok', bytes: Buffer.concat(chunks), mimeType };
}
