// Host bootstrap rows: berth/deploy mode bootstrap (profile production) of the lab's bare host, reset
// to bare first (scripts/lab/bare-host.sh): the first run (apt installs Docker, ufw, unattended-upgrades
// from Debian's mirror, then the deploy user's login check and the hardening) and a second run that
// finds everything in place and changes nothing. The wall time is the step's, as a runner sees it.
import { addBareAccounts, bootstrapBare, readBareHost, resetBareHost } from '../lab/bare-host.ts';

const project = 'berth-bench-boot';

async function timed(fn) {
  const start = process.hrtime.bigint();
  const result = await fn();
  if (result.exitCode !== 0) throw new Error(`bench: bootstrap failed:\n${result.log.slice(-3000)}`);
  return { result, s: Number(process.hrtime.bigint() - start) / 1e9 };
}

export async function rows() {
  const bare = readBareHost();
  await resetBareHost();
  await addBareAccounts(bare);
  const first = await timed(() => bootstrapBare(bare, 'root', project));
  // Root is refused once hardened: the second run goes through sudo, as a re-run would.
  const second = await timed(() => bootstrapBare(bare, 'admin', project));
  const changed = (summary) =>
    /\| changed \| (\d+) of (\d+) items \|/.exec(summary)?.slice(1, 3).join(' of ');
  const unchanged = /\| changed \| nothing/.test(second.result.summary);
  return [
    {
      area: 'bootstrap',
      metric: `mode bootstrap of the bare host, profile production, first run (${changed(first.result.summary) ?? '?'} items changed; apt from Debian's mirror)`,
      value: `${first.s.toFixed(1)} s`,
    },
    {
      area: 'bootstrap',
      metric: 'the same, second run (nothing to change: no apt; the two login checks as the deploy user)',
      value: `${second.s.toFixed(1)} s`,
      target: 'nothing changed',
      ok: unchanged,
    },
  ];
}
