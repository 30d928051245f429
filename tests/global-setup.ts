import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/** Build dist/ once so that tests of bin/lsar.js run the current sources. */
export default function setup(): void {
  const root = resolve(import.meta.dirname, '..');
  execFileSync(process.execPath, [resolve(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
}
