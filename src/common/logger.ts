import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { redactPaths, redactText, secretPaths } from './redaction';

export interface LoggerOptions {
  level: string;
  redact: boolean;
  destination?: pino.DestinationStream;
}

/**
 * The process's pino logger. Redaction is by field: pino's redact paths remove the fields that
 * carry phone numbers, bodies, names and secrets wherever they appear in a log object, and the
 * error serializer scrubs phone numbers and tokens from error messages (a driver or vendor may
 * quote either). The message string itself is ours and never carries personal data.
 * LOG_REDACT=false (a development machine) keeps only the secrets out.
 */
export function createLogger(options: LoggerOptions): Logger {
  const scrub = options.redact ? redactText : (text: string) => text;
  return pino(
    {
      level: options.level,
      base: { service: 'threadbridge' },
      redact: { paths: options.redact ? redactPaths() : secretPaths(), censor: '[redacted]' },
      serializers: {
        err: (err: Error) => ({
          type: err?.name,
          message: scrub(String(err?.message ?? err)),
          stack: scrub(String(err?.stack ?? '')),
        }),
      },
    },
    options.destination,
  );
}

/** Nest's start-up chatter (one line per module and per route): debug, so the banner stays readable. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** Lets Nest's own logging go through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    if (context && BOOT_CONTEXTS.has(context)) this.logger.debug({ context }, String(message));
    else this.logger.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string) {
    this.logger.error({ context, trace }, String(message));
  }
  warn(message: unknown, context?: string) {
    this.logger.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string) {
    this.logger.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string) {
    this.logger.trace({ context }, String(message));
  }
}

export const LOGGER = Symbol('LOGGER');
