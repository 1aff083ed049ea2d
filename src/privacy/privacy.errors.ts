/** Domain errors of the privacy features; the controller turns them into 404s. */

export class ContactNotFoundError extends Error {
  constructor(readonly contactId: string) {
    super('contact not found');
  }
}

export class ErasureNotFoundError extends Error {
  constructor(readonly erasureId: string) {
    super('erasure not found');
  }
}

/** The message has no stored file: never downloaded, download failed, removed by retention or erased. */
export class MediaNotStoredError extends Error {
  constructor(readonly messageId: string) {
    super('no stored media for this message');
  }
}
