/**
 * The layers of osis-store (README "How it is built", ../shared/STYLE.md), checked by `npm run lint:deps`
 * as part of `npm test`:
 *
 *   api ──→ projections ──→ log ←── backends
 *    └──────→ backends ──→ projections (a backend hands out its projection store)
 *
 * Inside api, the library (src/api/library) is what the CLI, the service, the web UI and migrate build on.
 */
const BACKEND = '^src/backends/([^/]+)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No module may reach itself through its imports (type-only imports count too).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'log-is-the-bottom',
      severity: 'error',
      comment: 'The log layer (event model, EventLog contract, codecs, errors) imports no other layer.',
      from: { path: '^src/log/' },
      to: { path: '^src/(api|projections|backends|bench)/' },
    },
    {
      name: 'projections-below-api-and-backends',
      severity: 'error',
      comment: 'Projections build on the log only: never on the api, a backend or the bench.',
      from: { path: '^src/projections/' },
      to: { path: '^src/(api|backends|bench)/' },
    },
    {
      name: 'backends-below-api',
      severity: 'error',
      comment: 'A backend builds on the log and the projection stores, never on the api or the bench.',
      from: { path: '^src/backends/' },
      to: { path: '^src/(api|bench)/' },
    },
    {
      name: 'no-backend-imports-another',
      severity: 'error',
      comment: 'Each backend folder stands alone: a new backend is one new folder.',
      from: { path: BACKEND },
      to: { path: '^src/backends/', pathNot: '^src/backends/$1/' },
    },
    {
      name: 'only-the-registry-knows-backends',
      severity: 'error',
      comment: 'In the api, only the backend registry imports a backend folder (the api looks backends up by URL scheme).',
      from: { path: '^src/api/', pathNot: '^src/api/library/backends\\.ts$' },
      to: { path: '^src/backends/' },
    },
    {
      name: 'front-ends-use-the-library',
      severity: 'error',
      comment: 'The CLI, the service, the web UI and migrate go through the library (src/api/library), never a projection or a backend.',
      from: { path: '^src/api/(cli|service|web|migrate)/' },
      to: { path: '^src/(projections|backends)/' },
    },
    {
      name: 'library-is-not-a-front-end',
      severity: 'error',
      comment: 'The library never imports the CLI, the service, the web UI or migrate.',
      from: { path: '^src/api/library/' },
      to: { path: '^src/api/(cli|service|web|migrate)/' },
    },
    {
      name: 'bench-uses-the-public-entries',
      severity: 'error',
      comment:
        'The benchmark drives the store through the package entries only (src/index.ts, src/service.ts, src/migrate.ts). ' +
        'The raw baselines (src/bench/raw-*.ts) may also read the table shapes and the TOML codec they mirror.',
      from: { path: '^src/bench/', pathNot: '^src/bench/raw-' },
      to: { path: '^src/', pathNot: '^src/(bench/|index\\.ts$|service\\.ts$|migrate\\.ts$)' },
    },
    {
      name: 'raw-baselines-mirror-only-shapes',
      severity: 'error',
      comment: 'A raw baseline may read the table shapes and the TOML codec, nothing else of the store.',
      from: { path: '^src/bench/raw-' },
      to: {
        path: '^src/',
        pathNot:
          '^src/(bench/|index\\.ts$|log/toml-codec\\.ts$|backends/sqlite/log-schema\\.ts$|projections/sqlite/tables\\.ts$)',
      },
    },
    {
      name: 'src-never-imports-test',
      severity: 'error',
      comment: 'Nothing in src/ imports test code.',
      from: { path: '^src/' },
      to: { path: '^(test|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
