// Copies the data files that sit beside source modules (e.g. the test driver's default.xml)
// into dist/, so compiled modules find them next to themselves exactly as under tsx; and links
// test fixtures the same way.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ASSET = /\.(xml|png)$/;

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (ASSET.test(name)) {
      const out = join('dist', p);
      mkdirSync(dirname(out), { recursive: true });
      copyFileSync(p, out);
    }
  }
}

walk('src');

// Tests may find their fixtures relative to themselves: give dist/test the same fixtures folder.
if (existsSync('dist/test') && !existsSync('dist/test/fixtures')) symlinkSync('../../test/fixtures', 'dist/test/fixtures', 'dir');
