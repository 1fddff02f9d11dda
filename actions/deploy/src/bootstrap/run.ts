// mode bootstrap: host/bootstrap.sh over the pinned-key connection as root or a passwordless-sudo
// user. Phase prepare; then a second connection as the deploy user with the action's own key (and
// docker run by it); only when that works, phase harden (sshd, firewall), and a third login to be
// sure. A deploy user who cannot log in stops the run before sshd is touched.
import * as core from '@actions/core';
import { tmpdir } from 'node:os';
import { inputError } from '../../../../lib/action/inputs.js';
import { HostReport } from '../../../../lib/ssh/host-script.js';
import { connectSsh, openSshSession, sshLabel, sshTarget } from '../../../../lib/ssh/inputs.js';
import type { SshSession } from '../../../../lib/ssh/session.js';
import { Inputs as I, Outputs } from '../constants.js';
import type { Inputs } from '../inputs.js';
import type { BootstrapInputs } from './inputs.js';
import {
  bootstrapMarkdown,
  changeText,
  hostText,
  readPhaseReport,
  type Change,
  type PhaseReport,
} from './report.js';
import {
  bootstrapArgs,
  bootstrapPayload,
  bootstrapScript,
  PRIVILEGE_PROBE,
  readPrivilege,
  rootShell,
  type BootstrapSettings,
  type Phase,
} from './script.js';

/** The settings of a run: the inputs, with the project's remote-dir and backup directory. */
export function bootstrapSettings(inputs: Inputs, b: BootstrapInputs): BootstrapSettings {
  return {
    profile: b['bootstrap-profile'],
    'deploy-user': b['deploy-user'],
    'deploy-public-keys': b['deploy-public-keys'],
    'remote-dir': inputs['remote-dir'],
    'backup-dir': `/var/backups/${inputs.project}`,
    'docker-source': b['docker-source'],
  };
}

/** The remote shell that runs as root; a user who is neither root nor a passwordless sudoer is refused. */
async function rootShellFor(session: SshSession, inputs: Inputs): Promise<string> {
  const probe = await session.exec(PRIVILEGE_PROBE, { silent: true, ignoreReturnCode: true });
  const privilege = readPrivilege(probe.stdout);
  if (privilege === 'none')
    throw inputError(
      I.User,
      `${inputs.user} on ${inputs.host} is neither root nor allowed to run sudo without a password (sudo -n): mode bootstrap needs one of them; nothing was changed`,
    );
  core.info(`${inputs.user} runs the bootstrap as root${privilege === 'sudo' ? ' through sudo -n' : ''}`);
  return rootShell(privilege);
}

/** Runs one phase; its rows join `rows`; a failed phase throws with the script's own error. */
async function runPhase(
  session: SshSession,
  shell: string,
  s: BootstrapSettings,
  phase: Phase,
  rows: Change[],
): Promise<PhaseReport> {
  const payload = bootstrapPayload(bootstrapScript(), bootstrapArgs(s, phase), s['deploy-public-keys']);
  const result = await session.exec(shell, { input: payload, ignoreReturnCode: true });
  const report = readPhaseReport(HostReport.parse(result.stdout));
  rows.push(...report.changes);
  for (const warning of report.warnings) core.warning(warning);
  if (result.exitCode !== 0) {
    const why = report.error ?? hostText(result.stderr.trim().split('\n').at(-1) ?? '');
    throw new Error(
      `host/bootstrap.sh (phase ${phase}) on ${session.destination} failed: ${why || `exit code ${result.exitCode}`}`,
    );
  }
  return report;
}

/** Why the deploy user cannot log in with the action's key and run docker, or undefined when it can. */
async function deployLoginProblem(
  inputs: Inputs,
  user: string,
  tempDir: string,
): Promise<string | undefined> {
  let session: SshSession;
  try {
    session = await connectSsh(sshTarget(inputs, { user }), { tempDir });
  } catch (error) {
    return `the action's ssh-key cannot log in as ${user} (${hostText(error instanceof Error ? error.message : String(error))})`;
  }
  try {
    const r = await session.exec(
      "docker version --format '{{.Server.Version}}' && docker compose version --short",
      {
        silent: true,
        ignoreReturnCode: true,
      },
    );
    if (r.exitCode !== 0)
      return `${user} logs in but cannot run docker (${hostText(r.stderr.trim().split('\n').at(-1) ?? '')})`;
    core.info(
      `${user} logs in with the action's key and runs docker ${hostText(r.stdout.split('\n')[0] ?? '')}`,
    );
    return undefined;
  } finally {
    await session.close();
  }
}

export async function runBootstrap(inputs: Inputs, b: BootstrapInputs, started: number): Promise<void> {
  const s = bootstrapSettings(inputs, b);
  const tempDir = process.env.RUNNER_TEMP || tmpdir();
  const user = s['deploy-user'];
  const rows: Change[] = [];
  let prepared: PhaseReport | undefined;
  let hardening = 'not hardened (the run stopped before)';
  try {
    const session = await openSshSession(sshTarget(inputs), tempDir);
    try {
      const shell = await rootShellFor(session, inputs);
      prepared = await core.group('Bootstrap: prepare', () => runPhase(session, shell, s, 'prepare', rows));
      const problem = await core.group(`Log in as ${user}`, () => deployLoginProblem(inputs, user, tempDir));
      if (problem) {
        hardening = `not hardened: ${problem}`;
        throw inputError(
          I.DeployPublicKeys,
          `${problem}: hardening sshd now would lock the caller out, so sshd and the firewall were left as they were. Put the public key of ssh-key among deploy-public-keys and run again`,
        );
      }
      await core.group('Bootstrap: harden', () => runPhase(session, shell, s, 'harden', rows));
      const after = await core.group(`Log in as ${user} again`, () =>
        deployLoginProblem(inputs, user, tempDir),
      );
      if (after) {
        await core.group('Bootstrap: revert', () => runPhase(session, shell, s, 'revert', rows));
        hardening = `reverted: ${after} once hardened`;
        throw new Error(`${after} after the hardening: it was undone (sshd drop-in removed, ufw disabled)`);
      }
      hardening = `hardened after ${user} logged in with the action's key`;
    } finally {
      await session.close();
    }
  } finally {
    for (const c of rows) core.info(`${c.item}: ${changeText(c)}`);
    const facts = {
      target: sshLabel(inputs),
      profile: s.profile,
      deployUser: user,
      os: prepared?.os,
      docker: prepared?.docker,
      hardening,
      seconds: (Date.now() - started) / 1000,
    };
    core.setOutput(Outputs.DurationSeconds, String(Math.round(facts.seconds)));
    if (rows.length > 0 || prepared) await core.summary.addRaw(bootstrapMarkdown(facts, rows)).write();
  }
  core.setOutput(Outputs.Status, '');
  const count = rows.filter((c) => c.before !== c.after).length;
  core.info(count === 0 ? 'Nothing changed: the host was already bootstrapped' : `${count} items changed`);
}
