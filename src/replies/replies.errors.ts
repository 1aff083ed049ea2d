/** Errors of the replies API; RepliesExceptionFilter answers them (their messages hold no personal data). */
export abstract class RepliesError extends Error {
  abstract readonly httpStatus: number;
}

export class ReplyTargetNotFoundError extends RepliesError {
  readonly httpStatus = 404;
  constructor(what: 'conversation' | 'contact' | 'connection', id: string) {
    super(`no ${what} with id ${id}`);
    this.name = 'ReplyTargetNotFoundError';
  }
}

/** The connection cannot take agent replies (its connector, or its settings, do not offer them). */
export class RepliesNotSupportedError extends RepliesError {
  readonly httpStatus = 409;
  constructor(message: string) {
    super(message);
    this.name = 'RepliesNotSupportedError';
  }
}

/** The vendor refused or failed the set-up of replies; `httpStatus` 400 when retrying cannot help, else 502. */
export class ReplySetupFailedError extends RepliesError {
  constructor(
    message: string,
    readonly httpStatus: 400 | 502,
  ) {
    super(message);
    this.name = 'ReplySetupFailedError';
  }
}
