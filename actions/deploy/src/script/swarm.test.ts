import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HOST_PRELUDE, renderAssignments } from '../../../../lib/ssh/host-script.js';
import { parseServiceUpdates, rolloutRows } from '../rollout-report.js';
import { SWARM } from './swarm.js';

// What `docker service ls|inspect|ps` and `docker inspect` answer for a stack of four services,
// deployed at 1000000 ms: api updated start-first (its new task running 2500 ms later), nginx
// updated stop-first, worker created, db untouched since an earlier deploy.
const DOCKER_STUB = `docker() {
  case "$1 $2" in
    "service ls") printf '%s\\n' p_api p_db p_nginx p_worker ;;
    "service inspect")
      case "$3" in
        p_api) echo "900000 start-first 1000400" ;;
        p_db) echo "500000 stop-first 0" ;;
        p_nginx) echo "900000 stop-first 1000100" ;;
        p_worker) echo "1000200 stop-first 0" ;;
      esac ;;
    "service ps") echo "task-of-$9" ;;
    "inspect -f") shift 3; for t in "$@"; do case "$t" in task-of-p_api) echo 1002900 ;; task-of-p_db) echo 600000 ;; task-of-p_nginx) echo 1001300 ;; task-of-p_worker) echo 1001000 ;; esac; done ;;
  esac
}
`;

function run(body: string) {
  const script = `${HOST_PRELUDE}${renderAssignments({ PROJECT: 'p' })}\n${SWARM}${DOCKER_STUB}${body}`;
  return spawnSync('bash', ['-c', script], { encoding: 'utf8' });
}

const rolloutLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('::berth::rollout='))
    .map((l) => l.slice('::berth::rollout='.length));

describe('the swarm rollout rows', () => {
  it('says per service how this deploy updated it, and the time from the update to its task running', () => {
    const r = run('swarm_rollouts 1000000\n');
    expect(r.stderr).toBe('');
    expect(rolloutLines(r.stdout)).toEqual([
      'api start-first 2500',
      'db unchanged',
      'nginx recreated 1200',
      'worker created 800',
    ]);
  });

  it('reads garbage as nothing this deploy did, and a task not running yet as no time', () => {
    const r = run(
      "swarm_rollout_line 1000000 api 'x' start-first '1000500; rm -rf /' ''\nswarm_rollout_line 1000000 web 1 stop-first 1000500 ''\n",
    );
    expect(rolloutLines(r.stdout)).toEqual(['api unchanged', 'web recreated 0']);
  });

  it('renders a swarm start-first row without a drain of its own', () => {
    const [row] = rolloutRows(parseServiceUpdates(['api start-first 2500']));
    expect(row).toEqual([
      'Service `api`',
      expect.stringMatching(/^start-first \(swarm\): new tasks healthy after 2\.5 s, then the old ones left/),
    ]);
  });
});
