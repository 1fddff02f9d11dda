// The OpenSSH client programs (ssh, ssh-keygen, sftp): found on PATH with one hint, and run by the
// shared process runner with an environment that cannot make them ask a person or an agent for a key.
import { runProcess, which, type ProcessOptions, type RunResult } from '../action/exec.js';

export type OpenSshTool = 'ssh' | 'ssh-keygen' | 'sftp';

/** The absolute path of an OpenSSH client program, or an error saying to install the client. */
export function findTool(tool: OpenSshTool): Promise<string> {
  return which(tool, 'install the OpenSSH client (openssh-client) on the runner');
}

/** Our environment without anything that could make ssh ask a person or an agent for a key. */
export function sshEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['SSH_AUTH_SOCK', 'SSH_ASKPASS', 'SSH_ASKPASS_REQUIRE', 'DISPLAY']) delete env[name];
  return env;
}

/** Runs an OpenSSH program (its path from findTool) with the scrubbed environment. */
export function runTool(
  file: string,
  args: readonly string[],
  options: Omit<ProcessOptions, 'env' | 'cwd'> = {},
): Promise<RunResult> {
  return runProcess(file, args, { ...options, env: sshEnv() });
}
