// Removes dist/ so a build never runs tests that were deleted from the source tree.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
