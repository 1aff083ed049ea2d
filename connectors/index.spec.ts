import { describe, it, expect } from '@jest/globals';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { CONNECTORS, CONNECTOR_IDS, connectorById } from './index';

/** Connector folders on disk: every directory under connectors/ except _sdk and hidden ones. */
function connectorFolders(): string[] {
  return readdirSync(path.resolve(process.cwd(), 'connectors'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_') && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

describe('the connector list', () => {
  it('lists every connectors/* folder (a folder missing here is a connector nobody can use)', () => {
    const missing = connectorFolders().filter((folder) => !CONNECTOR_IDS.includes(folder));
    expect(missing).toEqual([]);
  });

  it('has no entry without its folder, and no id twice', () => {
    expect([...CONNECTOR_IDS].sort()).toEqual(connectorFolders());
    expect(new Set(CONNECTOR_IDS).size).toBe(CONNECTORS.length);
  });

  it('finds a connector by id', () => {
    for (const definition of CONNECTORS) expect(connectorById(definition.manifest.id)).toBe(definition);
    expect(connectorById('no-such-crm')).toBeUndefined();
  });
});
