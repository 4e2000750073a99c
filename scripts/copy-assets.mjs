// Copies the data files that sit beside source modules (e.g. the test driver's default.xml)
// into dist/, so compiled modules find them next to themselves exactly as under tsx.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
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
