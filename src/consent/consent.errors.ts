/** Errors of the consent capability; the consent API's filter turns them into answers. */
export abstract class ConsentError extends Error {
  abstract readonly httpStatus: number;
}

export class ContactNotFoundError extends ConsentError {
  readonly httpStatus = 404;
  constructor(readonly contactId: string) {
    super(`no contact with id ${contactId}`);
    this.name = 'ContactNotFoundError';
  }
}

export class InvalidConsentError extends ConsentError {
  readonly httpStatus = 400;
  constructor(message: string) {
    super(message);
    this.name = 'InvalidConsentError';
  }
}
