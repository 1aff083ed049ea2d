/**
 * What can go wrong when an operator configures a connection. Messages are written for that
 * operator and never quote a secret; ConnectionsExceptionFilter turns them into HTTP answers.
 */

/** The base of every error below, so one filter maps them all. */
export abstract class ConnectionError extends Error {
  abstract readonly httpStatus: number;
}

/** No connector with this id is part of this build (e.g. a typo, or a removed connector). */
export class UnknownConnectorError extends ConnectionError {
  readonly httpStatus = 400;
  constructor(readonly connectorId: string, known: readonly string[]) {
    super(`unknown connector '${connectorId}'; known connectors: ${known.join(', ')}`);
    this.name = 'UnknownConnectorError';
  }
}

/** Credentials or settings that do not pass the connector's DTO. */
export class InvalidConnectionInputError extends ConnectionError {
  readonly httpStatus = 400;
  /** One line per field problem, e.g. "credentials.accessToken: accessToken should not be empty". */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid connection: ${problems.join('; ')}`);
    this.name = 'InvalidConnectionInputError';
    this.problems = problems;
  }
}

/** The vendor refused the credentials (or the account/URL they name). */
export class CredentialsRejectedError extends ConnectionError {
  readonly httpStatus = 400;
  constructor(readonly displayName: string, reason: string) {
    super(`${displayName} rejected the credentials: ${reason}`);
    this.name = 'CredentialsRejectedError';
  }
}

/** The vendor could not be reached (or asked us to slow down) while checking the credentials. */
export class VendorUnreachableError extends ConnectionError {
  readonly httpStatus = 502;
  constructor(readonly displayName: string, reason: string) {
    super(`could not reach ${displayName} to check the credentials, try again (${reason})`);
    this.name = 'VendorUnreachableError';
  }
}

export class ConnectionNotFoundError extends ConnectionError {
  readonly httpStatus = 404;
  constructor(id: string) {
    super(`connection ${id} not found`);
    this.name = 'ConnectionNotFoundError';
  }
}

export class DuplicateConnectionNameError extends ConnectionError {
  readonly httpStatus = 409;
  constructor(name: string) {
    super(`a connection named '${name}' exists already`);
    this.name = 'DuplicateConnectionNameError';
  }
}

/**
 * The connection would send requests where the egress policy does not let the service go (a
 * loopback, private, link-local or metadata address, or a name resolving to one).
 */
export class EgressRefusedConnectionError extends ConnectionError {
  readonly httpStatus = 422;
  constructor(
    readonly displayName: string,
    readonly url: string,
    reason: string,
  ) {
    super(`the ${displayName} connection would call ${url}, which the egress policy refuses: ${reason}`);
    this.name = 'EgressRefusedConnectionError';
  }
}
