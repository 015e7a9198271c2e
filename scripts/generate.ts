/**
 * `npm run generate -- module <name> [--parent <module>] [--owned]`: writes a feature module in the house shape
 * with the plop generator in generator/, then regenerates openapi.json and the typed client, so that the new module
 * compiles, lints and passes its own tests and every existing one with no hand edit.
 *
 *   <name>            the plural, lower-case table name (`comments`, `line_items`); the folder, files and route are its
 *                     kebab-case form (src/line-items, /api/v1/line-items)
 *   --parent <module> rows belong to a row of that module (users, posts, or a generated module): nested list and
 *                     create routes, a foreign key, and a cascade: soft-deleted and restored with the parent
 *   --owned           rows are written by users: authorId is the caller, and only the author or an admin may change
 *                     or delete one (without it, only admins write)
 *   --singular <word> when the singular is not the name without its trailing "s"
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import nodePlop from 'node-plop';

const ROOT = join(__dirname, '..');
const USAGE = 'Usage: npm run generate -- module <name> [--parent <module>] [--owned] [--singular <word>]';
const NAME = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

class UsageError extends Error {}

const pascal = (snake: string) => snake.split('_').map((part) => part[0].toUpperCase() + part.slice(1)).join('');
const camel = (snake: string) => pascal(snake)[0].toLowerCase() + pascal(snake).slice(1);
const kebab = (snake: string) => snake.replace(/_/g, '-');
function singularOf(plural: string): string {
  if (plural.endsWith('ies')) return `${plural.slice(0, -3)}y`;
  if (/(ss|x|ch|sh)es$/.test(plural)) return plural.slice(0, -2);
  return plural.endsWith('s') ? plural.slice(0, -1) : plural;
}

/** The modules a new one may belong to, and how to reach their repository. */
function parentModule(parent: string): { moduleClass: string; moduleImport: string; repository: string; singular: string } {
  if (parent === 'users') return { moduleClass: 'UsersDataModule', moduleImport: '../users/users-data.module', repository: 'Users', singular: 'user' };
  const file = kebab(parent);
  if (!existsSync(join(ROOT, 'src', file, `${file}.repository.ts`)) || !existsSync(join(ROOT, 'test', 'fixtures', `${file}.fixture.ts`))) {
    throw new UsageError(`--parent ${parent}: no module with a repository (src/${file}/${file}.repository.ts) and a test fixture (test/fixtures/${file}.fixture.ts)`);
  }
  // The parent's singular as it was generated (it may have had --singular): the name of its model file.
  const models = readdirSync(join(ROOT, 'src', file, 'models')).filter((model) => model.endsWith('.model.ts'));
  const guessed = `${kebab(singularOf(parent))}.model.ts`;
  const model = models.includes(guessed) ? guessed : models.length === 1 ? models[0] : undefined;
  if (!model) throw new UsageError(`--parent ${parent}: cannot tell its model among src/${file}/models/${models.join(', ')}`);
  const singular = model.slice(0, -'.model.ts'.length).replace(/-/g, '_');
  return { moduleClass: `${pascal(parent)}Module`, moduleImport: `../${file}/${file}.module`, repository: pascal(parent), singular };
}

/** Names the templates import (Nest, Sequelize, the app's own models and helpers): a class of the same name would clash. */
const TAKEN = new Set(
  ['Order', 'Transaction', 'Model', 'Table', 'Column', 'DataType', 'Optional', 'NonAttribute', 'Body', 'Controller', 'Query', 'Module', 'Page', 'Actor']
    .concat(['Injectable', 'Delete', 'Get', 'Patch', 'Post', 'Put', 'Public', 'Repository', 'Sequelize', 'User', 'Tag', 'Comment', 'Session', 'AuditEvent', 'PostTag']),
);

function timestamp(): string {
  const taken = new Set(readdirSync(join(ROOT, 'migrations')).map((file) => file.slice(0, 14)));
  // After every existing migration, so it runs last; the clock's second, or the next free one.
  let stamp = Math.max(Number(new Date().toISOString().replace(/\D/g, '').slice(0, 14)), ...[...taken].map((value) => Number(value) + 1));
  while (taken.has(String(stamp))) stamp += 1;
  return String(stamp);
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { parent: { type: 'string' }, owned: { type: 'boolean', default: false }, singular: { type: 'string' } },
  });
  const [kind, name, ...rest] = positionals;
  if (kind !== 'module' || !name || rest.length > 0) throw new UsageError(USAGE);
  if (!NAME.test(name) || name.length > 40) throw new UsageError(`${name}: a module name is lower-case letters and digits, words joined by "_" (at most 40 characters)`);
  if (existsSync(join(ROOT, 'src', kebab(name)))) throw new UsageError(`src/${kebab(name)} exists already`);
  const singular = values.singular ?? singularOf(name);
  if (!NAME.test(singular) || singular === name) throw new UsageError(`--singular ${singular}: needs a singular different from the name`);
  if (TAKEN.has(pascal(singular))) throw new UsageError(`${pascal(singular)} is a name the generated code imports already: choose another name, or another --singular`);
  const parent = values.parent;
  if (parent !== undefined && parent === name) throw new UsageError('a module cannot be its own parent');
  if (parent === 'users' && values.owned) throw new UsageError('--parent users --owned: rows that belong to a user are owned by that user already; use one');
  const parentInfo = parent === undefined ? undefined : parentModule(parent);

  const migrationFile = `${timestamp()}-create-${name.replace(/_/g, '-')}.js`;
  const parentKey = parentInfo ? `${camel(parentInfo.singular)}Id` : undefined;
  const data = {
    name,
    file: kebab(name),
    words: name.replace(/_/g, ' '),
    route: kebab(name),
    Name: pascal(name),
    camelName: camel(name),
    singular,
    singularFile: kebab(singular),
    singularWords: singular.replace(/_/g, ' '),
    Singular: pascal(singular),
    SINGULAR: singular.toUpperCase(),
    owned: values.owned,
    parent,
    parentFile: parent === undefined ? undefined : kebab(parent),
    parentRoute: parent === undefined ? undefined : kebab(parent),
    parentSingular: parentInfo?.singular,
    parentSingularFile: parentInfo ? kebab(parentInfo.singular) : undefined,
    parentCamelSingular: parentInfo ? camel(parentInfo.singular) : undefined,
    ParentSingular: parentInfo ? pascal(parentInfo.singular) : undefined,
    ParentName: parentInfo?.repository,
    parentCamelName: parentInfo ? camel(parent!) : undefined,
    parentKey,
    parentKeySnake: parentKey?.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`),
    parentModuleClass: parentInfo?.moduleClass,
    parentModuleImport: parentInfo?.moduleImport,
    hasCascades: parent !== undefined || values.owned,
    importsUser: values.owned || parent === 'users',
    importsParent: parent !== undefined && parent !== 'users',
    collectionPath: parent ? `${kebab(parent)}/:id/${kebab(name)}` : kebab(name),
    collectionPathJs: parent ? `${kebab(parent)}/\${${parentKey}}/${kebab(name)}` : kebab(name),
    createStatus: values.owned ? 201 : 403,
    writeStatus: values.owned ? 200 : 403,
    deleteStatus: values.owned ? 204 : 403,
    migrationFile,
  };

  const plop = await nodePlop(join(ROOT, 'generator', 'plopfile.mjs'));
  const { changes, failures } = await plop.getGenerator('module').runActions(data);
  for (const change of changes) console.log(`${change.type.padEnd(6)} ${change.path.replace(`${ROOT}/`, '')}`);
  if (failures.length > 0) {
    for (const failure of failures) console.error(`failed: ${failure.type} ${failure.path ?? ''} ${failure.error}`);
    process.exitCode = 1;
    return;
  }
  // The document and the client types follow the code (the e2e suite checks every response against the document).
  for (const script of ['openapi', 'openapi:client']) execFileSync('npm', ['run', '--silent', script], { cwd: ROOT, stdio: 'inherit' });
  console.log(`\nGenerated module ${name}. Next: npm run lint && npm test; then edit the fields (see the README, "Adding a feature module").`);
}

main().catch((error: unknown) => {
  console.error(error instanceof UsageError ? error.message : error);
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
