// Foundation rows: how long a warm `lab:up` takes, and what loading a bundled action costs over bare Node.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { medianOf, timeCommand } from './_measure.mjs';

const root = new URL('../..', import.meta.url).pathname;

export async function rows() {
  const out = [];
  const labUp = medianOf(3, () => timeCommand('bash', [join(root, 'scripts/lab/up.sh')]));
  out.push({
    area: 'lab',
    metric: 'lab:up when already up (s, median of 3)',
    value: (labUp / 1000).toFixed(2),
    target: '<= 5',
    ok: labUp <= 5000,
  });

  // A bundle run with no inputs stops at its first input check: that is load time plus parsing.
  const tmp = mkdtempSync(join(tmpdir(), 'berth-bench-'));
  const empty = join(tmp, 'empty.mjs');
  writeFileSync(empty, '');
  const bare = medianOf(5, () => timeCommand(process.execPath, [empty]));
  for (const action of readdirSync(join(root, 'actions'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()) {
    const env = { PATH: process.env.PATH, GITHUB_OUTPUT: join(tmp, 'o'), GITHUB_STATE: join(tmp, 's') };
    writeFileSync(env.GITHUB_OUTPUT, '');
    writeFileSync(env.GITHUB_STATE, '');
    const ms = medianOf(5, () =>
      timeCommand(process.execPath, [join(root, 'actions', action, 'dist/index.js')], {
        env,
        expectStatus: 1,
      }),
    );
    out.push({
      area: action,
      metric: 'bundle start over bare node (ms, median of 5)',
      value: (ms - bare).toFixed(0),
      target: '<= 250',
      ok: ms - bare <= 250,
    });
  }
  return out;
}
