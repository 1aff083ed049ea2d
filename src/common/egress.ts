import * as dns from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import ipaddr from 'ipaddr.js';
import { Agent as UndiciAgent, buildConnector, fetch as undiciFetch } from 'undici';

/**
 * The egress policy: every outbound request the service makes (connector APIs, media and
 * attachment downloads, setup calls) may connect only to public unicast addresses, unless
 * EGRESS_ALLOW names the destination. The check runs on the address a name resolved to, at the
 * moment the socket connects, so a name that resolves to a private address, a DNS answer that
 * changed since the URL was checked, or a redirect to an internal host is refused before any
 * packet is sent to it. ipaddr.js classifies the address: anything it does not call "unicast"
 * (loopback, private, link-local and cloud metadata, CGNAT, multicast, unspecified, reserved,
 * IPv6 ULA, and the IPv4-mapped or -embedding forms of those) is refused.
 */

/** The code on every error the policy raises, so callers and connectors can tell it from a network failure. */
export const EGRESS_REFUSED = 'EGRESS_REFUSED';

export class EgressRefusedError extends Error {
  readonly code = EGRESS_REFUSED;
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`egress to ${host} refused: ${reason}`);
    this.name = 'EgressRefusedError';
  }
}

/** The policy's refusal anywhere in an error's cause chain (HTTP clients wrap it), or undefined. */
export function egressRefusalIn(error: unknown): { message: string; reason?: string } | undefined {
  let current = error as { code?: unknown; cause?: unknown; message?: string; reason?: string } | undefined;
  for (let depth = 0; current && depth < 8; depth += 1) {
    if (current.code === EGRESS_REFUSED) return { message: String(current.message), reason: current.reason };
    current = current.cause as typeof current;
  }
  return undefined;
}

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** `host:port` → the lowercased host without IPv6 brackets and the port, or undefined when it is not one. */
function parseHostPort(entry: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(entry);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1].toLowerCase(), port };
}

function defaultPort(protocol: string): number {
  return protocol === 'https:' ? 443 : 80;
}

export class EgressPolicy {
  private readonly hostPorts = new Set<string>();
  private readonly cidrs: Cidr[] = [];
  private agents = new Map<string, http.Agent>();
  private connectors = new Map<number, buildConnector.connector>();
  private dispatcher?: UndiciAgent;

  /**
   * `allow` is EGRESS_ALLOW: comma-separated `host:port` entries (a name or an address, as the URL
   * spells it or as it resolves) and CIDRs. Throws on an entry that is neither, so a typo stops the boot.
   */
  constructor(allow = '') {
    for (const raw of allow.split(',')) {
      const entry = raw.trim();
      if (!entry) continue;
      if (entry.includes('/')) {
        try {
          this.cidrs.push(ipaddr.parseCIDR(entry));
          continue;
        } catch {
          throw new Error(`EGRESS_ALLOW: '${entry}' is not a CIDR`);
        }
      }
      const hostPort = parseHostPort(entry);
      if (!hostPort) throw new Error(`EGRESS_ALLOW: '${entry}' is neither host:port nor a CIDR`);
      this.hostPorts.add(`${normaliseHost(hostPort.host)}:${hostPort.port}`);
    }
  }

  /** Why connecting to `address`:`port` (reached by the name `host`) is refused; undefined when it is allowed. */
  refusal(host: string, address: string, port: number): string | undefined {
    if (this.hostPorts.has(`${normaliseHost(host)}:${port}`) || this.hostPorts.has(`${normaliseHost(address)}:${port}`)) return undefined;
    let ip: ipaddr.IPv4 | ipaddr.IPv6;
    try {
      // process() turns ::ffff:a.b.c.d into a.b.c.d, so a mapped loopback is judged as loopback.
      ip = ipaddr.process(address);
    } catch {
      return `${address} is not an IP address`;
    }
    for (const [range, bits] of this.cidrs) {
      if (range.kind() === ip.kind() && ip.match(range as never, bits)) return undefined;
    }
    const kind = ip.range();
    if (kind === 'unicast') return undefined;
    return `${address} is a ${kind} address (EGRESS_ALLOW can name ${formatHostPort(host, port)} for a local test service)`;
  }

  /**
   * Checks a URL the service is about to store (a connection's base URL): http(s), and every
   * address its host resolves to allowed. Resolves to the reason it is refused, or undefined.
   */
  async checkUrl(url: string): Promise<string | undefined> {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return `${url} is not a URL`;
    }
    if (target.protocol !== 'https:' && target.protocol !== 'http:') return `${target.protocol} is not http(s)`;
    const host = target.hostname.replace(/^\[|\]$/g, '');
    const port = target.port ? Number(target.port) : defaultPort(target.protocol);
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
      } catch {
        return `${host} does not resolve`;
      }
    }
    for (const address of addresses) {
      const reason = this.refusal(host, address, port);
      if (reason) return addresses.length > 1 || address !== host ? `${host} resolves to ${reason}` : reason;
    }
    return undefined;
  }

  /**
   * A dns.lookup for net/tls.connect that refuses the connection when any address the name
   * resolves to is refused (a name with one public and one private address is treated as
   * hostile: the resolver may pick either).
   */
  lookupFor(port: number): net.LookupFunction {
    return ((hostname: string, options: dns.LookupOptions, callback: (...args: unknown[]) => void) => {
      dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) return callback(err);
        for (const { address } of addresses) {
          const reason = this.refusal(hostname, address, port);
          if (reason) return callback(new EgressRefusedError(hostname, reason));
        }
        if (options.all) return callback(null, addresses);
        return callback(null, addresses[0].address, addresses[0].family);
      });
    }) as net.LookupFunction;
  }

  /** Refuses an address literal before connecting (net.connect never calls lookup for one). */
  private literalRefusal(host: string, port: number): EgressRefusedError | undefined {
    const bare = host.replace(/^\[|\]$/g, '');
    if (!net.isIP(bare)) return undefined;
    const reason = this.refusal(bare, bare, port);
    return reason ? new EgressRefusedError(bare, reason) : undefined;
  }

  /**
   * An http(s).Agent whose every socket is checked: for clients that take an agent (axios, SDKs
   * built on node-fetch). `arm` may decorate each socket (e.g. an idle timeout). Cached per
   * protocol and options key, so keep-alive sockets are shared.
   */
  agent(protocol: string, options: http.AgentOptions = {}, arm?: (socket: Duplex) => Duplex, key = ''): http.Agent {
    const cacheKey = `${protocol}|${key}|${JSON.stringify(options)}`;
    const cached = this.agents.get(cacheKey);
    if (cached) return cached;
    const literalRefusal = (host: string, port: number) => this.literalRefusal(host, port);
    const lookupFor = (port: number) => this.lookupFor(port);
    type Create = (options: Record<string, unknown>, callback?: (err: Error | null, socket?: Duplex) => void) => Duplex | undefined;
    const guard = (base: Create): Create =>
      function (this: http.Agent, opts, callback) {
        const host = String(opts.host ?? opts.hostname ?? 'localhost');
        const port = Number(opts.port) || defaultPort(protocol);
        const refused = literalRefusal(host, port);
        if (refused) {
          // The Agent passes a callback and accepts the error through it; without one, throwing
          // is the only way to fail the request before a socket exists.
          if (callback) {
            process.nextTick(() => callback(refused));
            return undefined;
          }
          throw refused;
        }
        const socket = base.call(this, { ...opts, lookup: lookupFor(port) }, callback);
        return socket && arm ? arm(socket) : socket;
      };
    const agent =
      protocol === 'https:'
        ? new (class extends https.Agent {})(options)
        : new (class extends http.Agent {})(options);
    const base = (agent as unknown as { createConnection: Create }).createConnection;
    (agent as unknown as { createConnection: Create }).createConnection = guard(base);
    this.agents.set(cacheKey, agent);
    return agent;
  }

  /** fetch() whose every connection, also after a redirect, is checked. */
  readonly fetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
    undiciFetch(input, { ...init, dispatcher: this.fetchDispatcher() })) as unknown as typeof globalThis.fetch;

  private fetchDispatcher(): UndiciAgent {
    this.dispatcher ??= new UndiciAgent({
      connect: (opts, callback) => {
        const port = Number(opts.port) || defaultPort(opts.protocol);
        const refused = this.literalRefusal(opts.hostname, port);
        if (refused) {
          callback(refused, null);
          return;
        }
        let connector = this.connectors.get(port);
        if (!connector) {
          connector = buildConnector({ lookup: this.lookupFor(port) } as buildConnector.BuildOptions);
          this.connectors.set(port, connector);
        }
        connector(opts, callback);
      },
    });
    return this.dispatcher;
  }

  /** Closes idle sockets (shutdown). */
  async close(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents = new Map();
    await this.dispatcher?.close().catch(() => undefined);
    this.dispatcher = undefined;
    this.connectors = new Map();
  }
}

function normaliseHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (!net.isIP(bare)) return bare;
  // One spelling per address: ::ffff:127.0.0.1 and 127.0.0.1 are the same entry.
  return ipaddr.process(bare).toString();
}

function formatHostPort(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** True when `host` matches one of `patterns` (exact names, or `*.example.com` for any subdomain). */
export function hostMatches(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase();
  return patterns.some((p) => {
    const pattern = p.toLowerCase();
    return pattern.startsWith('*.') ? h.endsWith(pattern.slice(1)) : h === pattern;
  });
}
