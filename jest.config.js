// Unit specs sit beside the code; e2e specs live in test/ and run against a real PostgreSQL
// (embedded, or DATABASE_URL as an admin connection), one cloned database per worker.
const fs = require('node:fs');
const path = require('node:path');

const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2023',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
  },
];

// Jest 30 on Node 20 cannot require ES modules, and Nest 12 plus some of its dependencies ship only
// those: find every installed package marked "type": "module" and let the transform compile it.
function esmPackages() {
  const root = path.join(__dirname, 'node_modules');
  const names = fs.readdirSync(root).flatMap((entry) =>
    entry.startsWith('@') ? fs.readdirSync(path.join(root, entry)).map((name) => `${entry}/${name}`) : [entry],
  );
  return names.filter((name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(root, name, 'package.json'), 'utf8')).type === 'module';
    } catch {
      return false;
    }
  });
}

const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.(t|j)s$': swcTransform },
  transformIgnorePatterns: [`/node_modules/(?!(${esmPackages().map((name) => name.replace(/[.]/g, '\\.')).join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
};

const e2eHarness = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup/worker-environment.ts'],
};

const projects = [
  { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
  { ...shared, ...e2eHarness, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
];
// Only when asked for (`npm run test:scale-out`): it needs Debian's HAProxy, which its script installs as root.
const optIn = [{ ...shared, ...e2eHarness, displayName: 'scale-out', testMatch: ['<rootDir>/test/scale-out/**/*.scale-spec.ts'] }];

// `npm run test:e2e -- test/users.e2e-spec.ts` must run that file only, but Jest's --selectProjects takes every word
// after it as another project name; so the test:unit and test:e2e scripts name their project here instead.
const only = process.env.TEST_PROJECT;
const chosen = only ? [...projects, ...optIn].filter((project) => project.displayName === only) : projects;
if (only && chosen.length === 0) throw new Error(`TEST_PROJECT=${only}: no such Jest project`);

module.exports = {
  projects: chosen,
  testTimeout: 60_000,
};
