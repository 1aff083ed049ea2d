/**
 * The layers of src/ (README "Architecture"): a file imports only from its own folder, from the
 * folders below it, or from the ground floor. `npm run lint:layers` checks it (CI runs it with
 * the lint); test/architecture/layers.spec.ts shows an upward import is refused.
 *
 * Top to bottom. The composition root (src/*.ts and src/migrations/) may import anything.
 */
const FEATURES = ['console', 'replies', 'privacy', 'sync', 'service-policy', 'whatsapp', 'consent', 'conversations', 'contacts', 'connections', 'rate-limit', 'health', 'admin'];
const GROUND = ['tasks', 'database', 'common'];

const folder = (name) => `^src/${name}/`;
const ROOT = '^src/([^/]+\\.ts|migrations/)';

/** Each feature may not import a feature above it, nor the composition root. */
const featureRules = FEATURES.map((name, i) => ({
  name: `layer-${name}`,
  comment: `src/${name}/ imports only the features below it (${FEATURES.slice(i + 1).join(', ') || 'none'}) and the ground floor`,
  severity: 'error',
  from: { path: folder(name) },
  to: { path: [...FEATURES.slice(0, i).map(folder), ROOT] },
}));

/** The ground floor knows no feature: tasks, database and common import only each other downward. */
const groundRules = GROUND.map((name, i) => ({
  name: `ground-${name}`,
  comment: `src/${name}/ is on the ground floor: it imports no feature, no composition-root file${i > 0 ? `, and not ${GROUND.slice(0, i).join(' or ')}` : ''}`,
  severity: 'error',
  from: { path: folder(name) },
  to: { path: [...FEATURES.map(folder), ...GROUND.slice(0, i).map(folder), ROOT] },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycle in production code',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.(spec|int-spec|e2e-spec)\\.ts$' },
      to: { circular: true, pathNot: '\\.(spec|int-spec|e2e-spec)\\.ts$' },
    },
    ...featureRules,
    ...groundRules,
    {
      name: 'vendor-only-in-connectors',
      comment: 'src/ never imports a vendor folder; connectors/index.ts is the only list',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^connectors/(?!_sdk/|index\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.(spec|int-spec|e2e-spec)\\.ts$' },
    tsPreCompilationDeps: true,
  },
};
