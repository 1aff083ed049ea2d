import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { redactPaths, redactText } from './redaction';

export interface LoggerOptions {
  level: string;
  redact: boolean;
  destination?: pino.DestinationStream;
}

/** The process's pino logger. Phone numbers, message bodies and secrets are redacted by default. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'threadbridge' },
      redact: options.redact ? { paths: redactPaths(), censor: '[redacted]' } : { paths: ['*.authorization', '*.secret', '*.accessToken'], censor: '[redacted]' },
      hooks: options.redact
        ? {
            logMethod(args, method) {
              // Free-text arguments (messages, error strings) are scrubbed too.
              const scrubbed = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>;
              method.apply(this, scrubbed);
            },
          }
        : undefined,
      serializers: {
        err: (err: Error) => ({
          type: err?.name,
          message: options.redact ? redactText(String(err?.message ?? err)) : String(err?.message ?? err),
          stack: options.redact ? redactText(String(err?.stack ?? '')) : err?.stack,
        }),
      },
    },
    options.destination,
  );
}

/** Lets Nest's own logging go through pino. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) {
    this.logger.info({ context }, String(message));
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
