// Shared helpers for the XML fixture tests: locate fixtures and the source configs.
import { readFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseNodeConfig, type NodeConfig } from '../../src/api/xml/node-config.js';

/** Repository root, found from this file whether run from test/ (tsx) or dist/test (tsc). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export const fixtureDir = join(repoRoot, 'test/fixtures/xml');
/** Copies of the configs the fixtures were captured from (see scripts/capture-xml-fixtures.sh). */
export const TESTDATA = join(fixtureDir, 'sources');

export interface ManifestRow {
  kind: 'domain' | 'network' | 'pool' | 'volume' | 'interface';
  name: string;
  pool: string;
  file: string;
}

export function manifest(set: string): ManifestRow[] {
  return readFileSync(join(fixtureDir, set, 'manifest.tsv'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind, name, pool, file] = l.split('\t');
      return { kind: kind as ManifestRow['kind'], name, pool, file };
    });
}

export const fixture = (set: string, file: string): string => readFileSync(join(fixtureDir, set, file), 'utf8');

export function loadConfig(path: string): NodeConfig {
  const dir = dirname(path);
  return parseNodeConfig(readFileSync(path, 'utf8'), (f) => readFileSync(resolve(dir, f), 'utf8'));
}

/** The config each fixture set was captured from. */
export const CONFIGS: Record<string, string> = {
  default: join(repoRoot, 'src/drivers/test/default.xml'),
  testnode: join(TESTDATA, 'libvirt-testnode/testnode.xml'),
  testdriver: join(TESTDATA, 'virt-manager-testdriver/testdriver.xml'),
};

/** With XML_DIFF=DIR set, writes our output and the fixture side by side for `diff -r`. */
export function dumpDiff(set: string, file: string, got: string, want: string): void {
  const dir = process.env.XML_DIFF;
  if (!dir) return;
  mkdirSync(join(dir, 'got', set), { recursive: true });
  mkdirSync(join(dir, 'want', set), { recursive: true });
  writeFileSync(join(dir, 'got', set, file), got);
  writeFileSync(join(dir, 'want', set, file), want);
}
