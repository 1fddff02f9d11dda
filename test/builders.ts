// The lab's BuildKit for docker-container builders the build action creates (scripts/lab/buildkit.sh):
// its image (nothing can be pulled here), the host network (the registry is on loopback) and a
// buildkitd config that lets it speak plain HTTP to that registry.
import { join } from 'node:path';
import { envFile, labDir } from '../scripts/lab/lab.js';

const buildkit = envFile(join(labDir, 'buildkit', 'env'), '.lab/buildkit/env');

export const buildkitLab = {
  image: buildkit.get('LAB_BUILDKIT_IMAGE'),
  config: buildkit.get('LAB_BUILDKITD_CONFIG'),
  sbomGenerator: buildkit.get('LAB_SBOM_GENERATOR'),
};

/** The build action's inputs that shape a builder it creates, in the lab. */
export const builderInputs = {
  'driver-opts': `image=${buildkitLab.image}\nnetwork=host`,
  'buildkitd-config': buildkitLab.config,
};
