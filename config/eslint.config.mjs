// Lint rules that keep the architecture honest: connectors import only the connector kit, the
// core reaches vendor code only through connectors/index.ts, and tests' expectations are awaited.
import { readdirSync } from 'node:fs';
import jest from 'eslint-plugin-jest';
import tseslint from 'typescript-eslint';

// Every connector folder (not _sdk): a new connector is covered without editing this file.
const vendorFolders = readdirSync(new URL('../connectors', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith('_') && !entry.name.startsWith('.'))
  .map((entry) => entry.name);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  { files: ['**/*.cjs'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: `connectors/(?!index$|_sdk(/|$))`,
              message: 'src/ reaches vendor code only through connectors/index.ts and connectors/_sdk (add a capability instead).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['connectors/**/*.ts'],
    ignores: ['connectors/index.ts', 'connectors/index.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '(^|/)src/', message: 'A connector must not import the core: use the ports in connectors/_sdk.' },
            { regex: '(^|/)test/(?!fakes)', message: 'A connector must not import the core tests.' },
            ...vendorFolders.map((v) => ({
              regex: `\\.\\./(\\.\\./)*${v}(/|$)`,
              message: 'A connector must not import another connector: shared code belongs in connectors/_sdk.',
            })),
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    plugins: { jest },
    rules: {
      'jest/valid-expect': ['error', { alwaysAwait: true }],
      'jest/no-focused-tests': 'error',
      'jest/no-identical-title': 'error',
    },
  },
);
