// Import rules checked by `npm run lint` (dependency-cruiser): no cycles between files, and modules that meet only
// through what they export. A cycle compiles and lints,
// then fails at start-up depending on which module loads first (decorator metadata reads a class before its file
// has finished loading: "Cannot access 'X' before initialization").
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files importing each other, directly or through others: move what both need into a third file.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'module-boundaries',
      severity: 'error',
      comment:
        'A feature module reaches another only through what that module exports: its Nest module, service and repository ' +
        '(the providers it exports), its DTOs and its models (for associations). Policies, controllers and helpers stay inside.',
      from: { path: '^src/([^/]+)/' },
      to: {
        path: '^src/[^/]+/',
        pathNot: [
          '^src/$1/',
          '^src/(common|config|database|observability)/',
          '^src/[^/]+/(dto|models)/',
          // The decorator every audited model carries.
          '^src/audit/audit-trail\\.ts$',
          // The decorator every POST that creates carries.
          '^src/idempotency/idempotency\\.interceptor\\.ts$',
          '^src/[^/]+/[^/]+\\.(module|service|repository)\\.ts$',
        ],
      },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: one today is a value import tomorrow.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
