// The project's services while berth/backup works on them: held stopped while their volumes are
// archived (restarted by the host whatever happens), and awaited healthy before a database restore.
import * as core from '@actions/core';
import { PassThrough } from 'node:stream';
import { readReportLine, runHostScript } from '../../../lib/ssh/host-script.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import { STOP_LABEL } from './constants.js';
import type { Inputs } from './inputs.js';
import { HOLD_STOPPED, WAIT_HEALTHY } from './script/project.js';

/** How long a service may take to become healthy before its database is restored. */
const HEALTHY_TIMEOUT_SECONDS = 180;

/**
 * Stops `stop-services` and the project's containers labelled berth.backup.stop=true until the
 * returned function is called; the host restarts them if we vanish.
 */
export async function holdStopped(host: SshSession, inputs: Inputs): Promise<() => Promise<void>> {
  const stdin = new PassThrough();
  let onStopped: ((count: string) => void) | undefined;
  const stopped = new Promise<string>((resolve) => (onStopped = resolve));
  const values = { PROJECT: inputs.project, LABEL: STOP_LABEL, SERVICES: inputs['stop-services'] };
  const held = runHostScript(host, HOLD_STOPPED, values, {
    input: stdin,
    silent: true,
    onStdoutLine: (line) => {
      const entry = readReportLine(line);
      if (entry?.key === 'stopped' && /^\d+$/.test(entry.value)) onStopped!(entry.value);
    },
  });
  const count = await Promise.race([
    stopped,
    held.then(() => Promise.reject(new Error('stopping the services ended early'))),
  ]);
  const what = [...inputs['stop-services'], `label ${STOP_LABEL}`].join(', ');
  core.info(
    count === '0' ? `No running container to stop (${what})` : `Stopped ${count} container(s) (${what})`,
  );
  return async () => {
    stdin.end();
    await held;
    if (count !== '0') core.info(`Started ${count} container(s) again`);
  };
}

/** Waits until the service's containers are healthy (or running, without a health check). */
export async function waitHealthy(host: SshSession, project: string, service: string): Promise<void> {
  const values = { PROJECT: project, SERVICE: service, TIMEOUT: HEALTHY_TIMEOUT_SECONDS };
  await runHostScript(host, WAIT_HEALTHY, values);
}
