/**
 * Summarises a V8 CPU profile written by `npm run bench -- --cpu-prof` (bench/results/profiles/):
 * self time by package and the hottest functions, idle time left out of the percentages.
 *
 *   npx tsx bench/profile-summary.ts bench/results/profiles/app/<file>.cpuprofile [--top 30]
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const ROOT = path.resolve(__dirname, '..');

/** Where a frame's code comes from: an npm package, Node itself, the app, or V8 bookkeeping. */
function origin(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  if (url.startsWith('node:')) return 'node (core)';
  const packageAt = url.lastIndexOf('node_modules/');
  if (packageAt >= 0) {
    const [scope, name] = url.slice(packageAt + 'node_modules/'.length).split('/');
    return scope.startsWith('@') ? `${scope}/${name}` : scope;
  }
  const file = url.replace(/^file:\/\//, '');
  return file.startsWith(ROOT) ? path.relative(ROOT, file).split(path.sep).slice(0, 2).join('/') : file;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } });
  if (positionals.length !== 1) throw new Error('usage: profile-summary.ts <file.cpuprofile> [--top N]');
  const profile = JSON.parse(readFileSync(positionals[0], 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));

  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const byOrigin = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)!;
    if (callFrame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const where = origin(callFrame.url, callFrame.functionName);
    byOrigin.set(where, (byOrigin.get(where) ?? 0) + us);
    const fn = `${callFrame.functionName || '(anonymous)'}  ${where}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  }

  const top = Number(values.top);
  const print = (title: string, entries: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [key, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((100 * us) / busy).toFixed(1).padStart(6)} %  ${(us / 1000).toFixed(0).padStart(8)} ms  ${key}`);
    }
  };
  console.log(`busy ${(busy / 1e6).toFixed(1)} s, idle ${(idle / 1e6).toFixed(1)} s (percentages are of busy time)`);
  print('Self time by origin', byOrigin);
  print('Hottest functions (self time)', byFunction);
}

main();
