import { describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = process.cwd();
const CONFIG = path.join(ROOT, 'config', 'dependency-cruiser.cjs');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

/** Runs the layer rules (npm run lint:layers) over the src/ of `cwd`. */
function cruise(cwd: string): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG], { cwd, encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** A tiny src/ tree with the given files (path → content). */
function tree(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadbridge-layers-'));
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), content);
  }
  return dir;
}

describe('the layers of src/ (config/dependency-cruiser.cjs)', () => {
  it('hold for the code as it is', () => {
    const { status, output } = cruise(ROOT);
    expect(output).toContain('no dependency violations found');
    expect(status).toBe(0);
  });

  it.each([
    ['the ground floor importing a feature', 'src/common/helper.ts', "import { x } from '../replies/x';\nexport const y = x;\n", 'ground-common'],
    ['a feature importing one above it', 'src/conversations/helper.ts', "import { x } from '../replies/x';\nexport const y = x;\n", 'layer-conversations'],
    ['a feature importing the composition root', 'src/replies/helper.ts', "import { x } from '../bootstrap';\nexport const y = x;\n", 'layer-replies'],
  ])('refuse %s', (_what, file, content, rule) => {
    const dir = tree({ 'src/replies/x.ts': 'export const x = 1;\n', 'src/bootstrap.ts': 'export const x = 1;\n', [file]: content });
    try {
      const { status, output } = cruise(dir);
      expect(output).toContain(`error ${rule}: ${file}`);
      expect(status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an import cycle', () => {
    const dir = tree({ 'src/replies/a.ts': "import { b } from './b';\nexport const a = b;\n", 'src/replies/b.ts': "import { a } from './a';\nexport const b = () => a;\n" });
    try {
      const { status, output } = cruise(dir);
      expect(output).toContain('error no-circular');
      expect(status).not.toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
