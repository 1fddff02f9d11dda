// The inputs of mode bootstrap (bootstrap-profile, deploy-user, deploy-public-keys, docker-source):
// required and checked there, refused in the other modes (deploy-user has a default, so it is not).
import { getEnumInput, getString, inputError } from '../../../../lib/action/inputs.js';
import { parseUser } from '../../../../lib/ssh/inputs.js';
import { Inputs as I } from '../constants.js';
import type { Mode } from '../modes/mode.js';
import { parseKeyLines } from './keys.js';
import { DOCKER_SOURCES, PROFILES, type DockerSource, type Profile } from './script.js';

export interface BootstrapInputs {
  'bootstrap-profile': Profile;
  'deploy-user': string;
  /** checked key lines (keys.ts) */
  'deploy-public-keys': string[];
  'docker-source': DockerSource;
}

const BOOTSTRAP_ONLY = [I.BootstrapProfile, I.DeployPublicKeys, I.DockerSource] as const;

export function getBootstrapInputs(mode: Mode): { bootstrap?: BootstrapInputs } {
  if (mode !== 'bootstrap') {
    for (const name of BOOTSTRAP_ONLY) {
      if (getString(name)?.trim())
        throw inputError(name, `is only used with mode bootstrap (mode is ${mode})`);
    }
    return {};
  }
  const keys = getString(I.DeployPublicKeys)?.trim();
  if (!keys)
    throw inputError(
      I.DeployPublicKeys,
      'is required with mode bootstrap: the public key lines the deploy user accepts',
    );
  const user = parseUser(I.DeployUser, getString(I.DeployUser, { default: 'deploy' }));
  if (user === 'root')
    throw inputError(I.DeployUser, 'cannot be root: deploys log in as a user of their own');
  return {
    bootstrap: {
      'bootstrap-profile': getEnumInput(I.BootstrapProfile, PROFILES, { required: true }),
      'deploy-user': user,
      'deploy-public-keys': parseKeyLines(I.DeployPublicKeys, keys),
      'docker-source': getEnumInput(I.DockerSource, DOCKER_SOURCES, { default: 'distro' }),
    },
  };
}
