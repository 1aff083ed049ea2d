import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { META_OPENAPI_DEFAULT, metaOpenApiPath, repositoryRoot } from './meta-openapi';

describe('META_OPENAPI_PATH', () => {
  const root = '/checkout/threadbridge';

  it('defaults to ../shared/specs/meta/… beside the repository root', () => {
    expect(META_OPENAPI_DEFAULT).toBe('../shared/specs/meta/business-messaging-api_v23.0.yaml');
    expect(metaOpenApiPath({}, root)).toBe('/checkout/shared/specs/meta/business-messaging-api_v23.0.yaml');
    expect(metaOpenApiPath({ META_OPENAPI_PATH: '  ' }, root)).toBe('/checkout/shared/specs/meta/business-messaging-api_v23.0.yaml');
  });

  it('takes an absolute path as it is and a relative one from the repository root', () => {
    expect(metaOpenApiPath({ META_OPENAPI_PATH: '/specs/meta.yaml' }, root)).toBe('/specs/meta.yaml');
    expect(metaOpenApiPath({ META_OPENAPI_PATH: 'vendor/meta.yaml' }, root)).toBe('/checkout/threadbridge/vendor/meta.yaml');
  });

  it('finds the repository root from a sub-folder', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tb-root-'));
    try {
      writeFileSync(path.join(dir, 'package.json'), '{}');
      mkdirSync(path.join(dir, 'test', 'fakes'), { recursive: true });
      expect(repositoryRoot(path.join(dir, 'test', 'fakes'))).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
