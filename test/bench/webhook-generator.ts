/**
 * The load generator of bench:ingest's long phases, in a process of its own (forked by
 * ingest.bench.ts), so that neither the service nor a fake shares its event loop.
 *
 * Open loop at a fixed rate: request i is due at start + i / rate and goes out then whether or not
 * earlier ones were answered (no connection limit), and its latency counts from when it was due,
 * not from when it went out. A slow answer therefore never delays the requests behind it out of
 * the figures (coordinated omission). A stall of this process would count too, so its own
 * event-loop delay is reported beside the latencies, to tell the two apart.
 *
 * IPC: receives { url, rate, seconds, secret, customers, waIdPrefix }, answers { summary }.
 */
import { createHmac } from 'node:crypto';
import * as http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { aTextMessageWebhook, nextWamid } from '../factories/whatsapp-webhook.factory';

export interface GeneratorRun {
  url: string;
  rate: number;
  seconds: number;
  secret: string;
  /** Recurring customers the messages come from (their wa_ids differ only in the last digits). */
  customers: number;
  /** Start of every wa_id: runs with different prefixes never share customers. */
  waIdPrefix: string;
}

/** Latency figures of one window (ms, from when each request was due). */
export interface LatencyFigures {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface GeneratorSummary extends LatencyFigures {
  /** Requests due in the run. */
  sent: number;
  /** Non-2xx answers, network errors and timeouts. */
  errors: number;
  /** Answered requests per second over the run. */
  achieved: number;
  /** The generator's own event-loop delay (ms): high values mean the generator itself stalled. */
  generatorLoopDelay: { p99: number; max: number };
  /** One entry per 10 s of the run, by when the requests were due. */
  windows: (LatencyFigures & { fromS: number })[];
}

const WINDOW_MS = 10_000;
const TIMEOUT_MS = 10_000;

export function latencyFigures(values: number[]): LatencyFigures {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
  return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted.length ? sorted[sorted.length - 1] : NaN };
}

async function run(spec: GeneratorRun): Promise<GeneratorSummary> {
  const target = new URL(spec.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const latencies: { dueAt: number; ms: number }[] = [];
  let errors = 0;
  let answered = 0;
  const total = Math.round(spec.rate * spec.seconds);
  const intervalMs = 1000 / spec.rate;

  const send = (dueAt: number) =>
    new Promise<void>((resolve) => {
      const waId = `${spec.waIdPrefix}${String(Math.floor(Math.random() * spec.customers)).padStart(6, '0')}`;
      const body = JSON.stringify(aTextMessageWebhook({ wamid: nextWamid(waId), waId, name: 'Bench Customer', text: 'Is my order on its way?' }));
      const req = http.request(
        {
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: 'POST',
          agent,
          timeout: TIMEOUT_MS,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'x-hub-signature-256': `sha256=${createHmac('sha256', spec.secret).update(body).digest('hex')}`,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push({ dueAt, ms: performance.now() - dueAt });
            if (res.statusCode === 200) answered++;
            else errors++;
            resolve();
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        errors++;
        latencies.push({ dueAt, ms: performance.now() - dueAt });
        resolve();
      });
      req.end(body);
    });

  loop.enable();
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((done) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out now, each stamped with its own due time.
      while (next < total && start + next * intervalMs <= now) inFlight.push(send(start + next++ * intervalMs));
      if (next >= total) return done();
      setTimeout(tick, Math.max(0, start + next * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  const elapsedS = (performance.now() - start) / 1000;
  loop.disable();
  agent.destroy();

  const windows: GeneratorSummary['windows'] = [];
  for (let from = 0; from < spec.seconds * 1000; from += WINDOW_MS) {
    const inWindow = latencies.filter((l) => l.dueAt - start >= from && l.dueAt - start < from + WINDOW_MS).map((l) => l.ms);
    windows.push({ fromS: from / 1000, ...latencyFigures(inWindow) });
  }
  return {
    sent: total,
    errors,
    achieved: answered / elapsedS,
    ...latencyFigures(latencies.map((l) => l.ms)),
    generatorLoopDelay: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    windows,
  };
}

process.on('message', (spec: GeneratorRun) => {
  run(spec).then(
    (summary) => process.send?.({ summary }),
    (error) => process.send?.({ error: String(error) }),
  );
});
process.send?.({ ready: true });
