// Import rules checked by `npm run lint` (dependency-cruiser): no cycles between files. A cycle compiles and lints,
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
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count too: one today is a value import tomorrow.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
