// Input checks that several actions share, written once: the registry credential pair and the
// compose project name.
import { getString, inputError } from './inputs.js';
import { maskSecret } from './secrets.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * The registry-username/registry-password pair: both or neither. The password is masked before
 * anything can fail.
 */
export function getRegistryCredentials(
  names: { username: string; password: string } = {
    username: 'registry-username',
    password: 'registry-password',
  },
): RegistryCredentials | undefined {
  const password = getString(names.password) || undefined;
  maskSecret(password);
  const username = getString(names.username) || undefined;
  if (Boolean(password) !== Boolean(username)) {
    const missing = password ? names.username : names.password;
    throw inputError(missing, 'is required when the other registry credential is given');
  }
  return username && password ? { username, password } : undefined;
}

/** What compose accepts as a project name (it also names containers, volumes and remote directories). */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function parseProjectName(name: string, value: string): string {
  if (!PROJECT_NAME.test(value)) {
    throw inputError(
      name,
      `${JSON.stringify(value)} is not a compose project name (lower-case letters, digits, "-" and "_", starting with a letter or digit)`,
    );
  }
  return value;
}
