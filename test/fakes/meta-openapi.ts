import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * Where Meta's WhatsApp OpenAPI document (facebook/openapi `business-messaging-api_v23.0.yaml`, MIT)
 * is read from. It is not part of the repository (it is the vendor's document, ~1 MB): CI has it
 * beside the checkout, a fresh clone usually does not. Everything that reads it goes through
 * `META_OPENAPI_PATH`, so nothing needs a particular directory layout to run: the fake Cloud API falls
 * back to its own checks and the tests that need the document are skipped with a notice.
 */

/** The default, relative to the repository root: the shared folder CI keeps beside the checkout. */
export const META_OPENAPI_DEFAULT = '../shared/specs/meta/business-messaging-api_v23.0.yaml';

/**
 * The repository root: the nearest folder from the working directory up that holds a package.json.
 * npm scripts and Jest run there; walking up keeps a run from a sub-folder pointing at the same file.
 */
export function repositoryRoot(from = process.cwd()): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/**
 * The document's path: `META_OPENAPI_PATH` when set (a relative value is taken from the repository
 * root, like the default), else `META_OPENAPI_DEFAULT`.
 */
export function metaOpenApiPath(env: NodeJS.ProcessEnv = process.env, root = repositoryRoot()): string {
  const configured = env.META_OPENAPI_PATH?.trim();
  return path.resolve(root, configured ? configured : META_OPENAPI_DEFAULT);
}

/** This process's document path, fixed at start. */
export const META_OPENAPI_PATH = metaOpenApiPath();

/** Whether the document is there to read. */
export function metaOpenApiAvailable(specPath = META_OPENAPI_PATH): boolean {
  return existsSync(specPath);
}

/** The error every reader of the document throws when it is not there, saying how to point at it. */
export class MetaOpenApiMissingError extends Error {
  constructor(specPath: string) {
    super(`Meta's OpenAPI document is not at ${specPath}: set META_OPENAPI_PATH to business-messaging-api_v23.0.yaml (github.com/facebook/openapi)`);
  }
}
