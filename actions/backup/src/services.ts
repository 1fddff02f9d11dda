// The project's services while berth/backup works on them: held stopped while their volumes are
// archived (restarted by the host whatever happens), and awaited healthy before a database restore.
import * as core from '@actions/core';
import { runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { STOP_LABEL } from './constants.js';
import { holdOnHost, stderrTail } from './hold.js';
import type { Inputs } from './inputs.js';
import { HOLD_STOPPED, WAIT_HEALTHY } from './script/project.js';

/** How long a service may take to become healthy before its database is restored. */
const HEALTHY_TIMEOUT_SECONDS = 180;

/**
 * Stops `stop-services` and the project's containers labelled berth.backup.stop=true until the
 * returned function is called; the host restarts them if we vanish.
 */
export async function holdStopped(host: SshSession, inputs: Inputs): Promise<() => Promise<void>> {
  const values = { PROJECT: inputs.project, LABEL: STOP_LABEL, SERVICES: inputs['stop-services'] };
  const held = await holdOnHost(host, HOLD_STOPPED, values, {
    ready: 'stopped',
    failed: (r) => new Error(`stopping the services ended early: ${stderrTail(r)}`),
  });
  const count = /^\d+$/.test(held.value) ? held.value : '0';
  const what = [...inputs['stop-services'], `label ${STOP_LABEL}`].join(', ');
  core.info(
    count === '0' ? `No running container to stop (${what})` : `Stopped ${count} container(s) (${what})`,
  );
  return async () => {
    const r = await held.release();
    if (r.exitCode !== 0) throw new Error(`starting the services again failed: ${stderrTail(r)}`);
    if (count !== '0') core.info(`Started ${count} container(s) again`);
  };
}

/** Waits until the service's containers are healthy (or running, without a health check). */
export async function waitHealthy(host: SshSession, project: string, service: string): Promise<void> {
  const values = { PROJECT: project, SERVICE: service, TIMEOUT: HEALTHY_TIMEOUT_SECONDS };
  await runHostScript(host, WAIT_HEALTHY, values);
}
