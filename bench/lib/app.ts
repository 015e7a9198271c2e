/**
 * The app as the benchmarks run it: built as `npm run build` builds it, started with the Node flags of `npm start`,
 * and the deep page its scenarios read. Shared by `npm run bench` and `npm run bench:scale`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MAX_OFFSET } from '../../src/common/pagination/list-query.dto';
import type { ScenarioContext } from './scenarios';

export const ROOT = path.resolve(__dirname, '..', '..');

export function buildApp(log: (message: string) => void): void {
  log('building the app (npm run build)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], timeout: 300_000 });
  if (result.status !== 0) throw new Error(`npm run build failed (${result.error?.message ?? `exit ${result.status}`})`);
}

/**
 * The Node flags of the production start command (`npm start`: `node <flags> dist/main.js`), so that the app is
 * measured as it runs in production (e.g. its V8 heap settings). Any other form of that script fails the run rather
 * than letting the two drift apart silently.
 */
export function productionNodeFlags(): string[] {
  const start = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
  const words = start.trim().split(/\s+/);
  // `exec` lets the shell npm starts hand its process to node, so signals reach the server (issue 12).
  if (words[0] === 'exec') words.shift();
  if (words[0] !== 'node' || words.at(-1) !== 'dist/main.js' || !words.slice(1, -1).every((word) => word.startsWith('--'))) {
    throw new Error(`package.json "start" must be \`[exec] node [--flags] dist/main.js\` for the bench to start the app the same way; it is \`${start}\``);
  }
  return words.slice(1, -1);
}

/**
 * The deep-page scenarios' page: at the deepest offset the app allows (MAX_OFFSET), or half the published posts on a
 * small seed, with the cursor that starts at the same row (taken from the page before it; both servers accept it).
 */
export async function deepPage(baseUrl: string, published: number): Promise<ScenarioContext['deepPage']> {
  if (published < 2) throw new Error(`the deep-page scenarios need at least 2 published posts in the seed (${published})`);
  const offset = Math.min(MAX_OFFSET, Math.floor(published / 2));
  const response = await fetch(`${baseUrl}/api/v1/posts?published=true&limit=1&offset=${offset - 1}&withTotal=false`);
  const cursor = ((await response.json()) as { meta?: { nextCursor?: unknown } }).meta?.nextCursor;
  if (response.status !== 200 || typeof cursor !== 'string') throw new Error(`no cursor for the deep page (${response.status})`);
  return { offset, cursor };
}
