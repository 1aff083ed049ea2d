/**
 * URLs of the connection webhook. Vendors sign the URL they called (HubSpot v3 signs the full
 * URL), so a webhook is checked against the URL as the vendor saw it: behind a proxy that is
 * PUBLIC_URL followed by the path, not the address this process listens on.
 */

/** The path of a connection's webhook. */
export function connectionWebhookPath(connectionId: string): string {
  return `/webhooks/connections/${connectionId}`;
}

/**
 * The public origin of this service (no trailing slash): PUBLIC_URL when set, else what the
 * request's Host header and protocol say (right when nothing sits in front of the service).
 */
export function publicBase(publicUrl: string | undefined, request: { protocol: string; host: string | undefined }): string {
  if (publicUrl) return publicUrl.replace(/\/+$/, '');
  return `${request.protocol}://${request.host ?? 'localhost'}`;
}

/** The full URL a vendor called: the public base and the request's path and query as received. */
export function calledUrl(publicUrl: string | undefined, request: { protocol: string; host: string | undefined; originalUrl: string }): string {
  return `${publicBase(publicUrl, request)}${request.originalUrl}`;
}
