// The `destinations` opened as stores (one SSH connection per ssh:// destination), and the backup
// that restore and verify read: `backup-id`, or the newest complete one, from the first store that has it.
import { inputError } from '../../../lib/action/inputs.js';
import { openSshSession, SSH_INPUT_NAMES, sshTarget } from '../../../lib/ssh/inputs.js';
import type { SshSession } from '../../../lib/ssh/session.js';
import type { SshFieldNames } from '../../../lib/ssh/target.js';
import { Inputs as I } from './constants.js';
import { destinationLabel, type Destination, type Inputs } from './inputs.js';
import { authenticity, pickGenuine, type Skipped } from './genuine.js';
import type { Manifest } from './manifest.js';
import { ShellStore, type BackupStore } from './store.js';
import { ArtifactStore } from './store-artifact.js';
import { SftpStore } from './store-sftp.js';

/** An ssh:// destination's host, port and user come from `destinations`, its key from its own input. */
const DESTINATION_SSH_NAMES: SshFieldNames = {
  ...SSH_INPUT_NAMES,
  host: I.Destinations,
  port: I.Destinations,
  user: I.Destinations,
  key: I.DestinationSshKey,
};

/** An artifact destination works only inside a job: checked before any connection is made. */
export function requireArtifactService(inputs: Inputs): void {
  if (!inputs.destinations.some((d) => d.kind === 'artifact')) return;
  if (!process.env.ACTIONS_RUNTIME_TOKEN || !process.env.ACTIONS_RESULTS_URL) {
    throw inputError(
      I.Destinations,
      'artifact needs the runner’s artifact service (ACTIONS_RUNTIME_TOKEN and ACTIONS_RESULTS_URL), which only a step of a GitHub Actions job has',
    );
  }
}

/** Opens the store of `d`; an ssh:// destination's session is added to `sessions` (to close). */
export async function openStore(
  d: Destination,
  host: SshSession,
  inputs: Inputs,
  tempRoot: string,
  sessions: SshSession[],
): Promise<BackupStore> {
  if (d.kind === 'host') return new ShellStore(host, d.dir, destinationLabel(d));
  if (d.kind === 'artifact')
    return new ArtifactStore(inputs.project, tempRoot, inputs['artifact-retention-days']);
  const remote = await openSshSession(
    sshTarget(inputs, {
      host: d.host,
      port: d.port,
      user: d.user,
      privateKey: inputs['destination-ssh-key'],
      jumpHost: undefined,
    }),
    tempRoot,
    ' (destination)',
    DESTINATION_SSH_NAMES,
  );
  sessions.push(remote);
  return new SftpStore(remote, d.dir, destinationLabel(d), tempRoot);
}

/** A backup to read, and the store it is read from. */
export interface PickedBackup {
  store: BackupStore;
  manifest: Manifest;
  /** whether its signature was checked (absent: the backup was just written by this run) */
  signed?: boolean;
  /** newer or other candidates passed over, and why */
  skipped?: Skipped[];
}

/** Finds the backup (`backup-id`, or the newest genuine one) at the first destination where it is genuine. */
export function pickBackup(stores: BackupStore[], inputs: Inputs): Promise<PickedBackup> {
  return pickGenuine(stores, authenticity(inputs), inputs['backup-id']);
}
