import { describe, it } from '@jest/globals';
import { META_OPENAPI_PATH, metaOpenApiAvailable } from '../fakes/meta-openapi';

let noticed = false;

/**
 * `describe` for tests that read Meta's OpenAPI document. Without the document (a fresh clone has no
 * ../shared beside it) the block is skipped, not failed: its title says why and the file prints one
 * notice naming META_OPENAPI_PATH, so a green run without the document does not pass for a full one.
 * CI has the document, so there these tests always run.
 */
export function describeWithMetaOpenApi(title: string, body: () => void): void {
  if (metaOpenApiAvailable()) {
    describe(title, body);
    return;
  }
  if (!noticed) {
    noticed = true;
    console.warn(`Skipping the tests that need Meta's OpenAPI document: none at ${META_OPENAPI_PATH} (set META_OPENAPI_PATH).`);
  }
  // The body is not run: it may read the document while collecting its tests (it.each over examples).
  // One placeholder stands for the block, so the summary counts it as skipped.
  describe.skip(`${title} [skipped: no Meta OpenAPI document at META_OPENAPI_PATH=${META_OPENAPI_PATH}]`, () => {
    it('needs META_OPENAPI_PATH', () => undefined);
  });
}
