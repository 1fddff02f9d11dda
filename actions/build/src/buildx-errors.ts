// buildx's own errors (`ERROR: ...` lines, not a step's `#N ERROR`) turned into a message that names
// the input that caused them, so "buildx exited with 1" is never all a user sees.
import { oneLine } from '../../../lib/action/untrusted.js';
import { Inputs as I } from './constants.js';

/** Patterns of buildx's top-level errors and the input each one is about. */
const CAUSES: [RegExp, string, string][] = [
  [
    /cache export is not supported|cache import is not supported/i,
    I.Cache,
    'this builder cannot export a cache',
  ],
  [
    /multiple platforms? (?:feature )?is (?:currently )?not supported/i,
    I.Platforms,
    'this builder builds one platform only',
  ],
  [
    /attestation.* not supported|provenance.* not supported|sbom.* not supported/i,
    I.Provenance,
    'this builder cannot attach attestations',
  ],
  [/push-by-digest.* not (?:implemented|supported)/i, I.Builder, 'this builder cannot push by digest'],
  [
    /docker exporter does not (?:currently )?support exporting manifest lists/i,
    I.Load,
    'several platforms cannot be loaded into this engine',
  ],
  [
    /(?:401 Unauthorized|unauthorized|authentication required|denied: requested access)/i,
    I.RegistryPassword,
    'the registry refused the credentials',
  ],
  [
    /no builder .* found|failed to find driver|no valid drivers? found/i,
    I.Builder,
    'the builder is not usable',
  ],
  [
    /failed to (?:parse|read) buildkitd config|buildkitd.toml/i,
    I.BuildkitdConfig,
    'BuildKit refused its configuration',
  ],
  [
    /invalid (?:argument|value) .* (?:for "?--driver-opt|driver option)|unknown driver option/i,
    I.DriverOpts,
    'buildx refused a driver option',
  ],
  [/failed to (?:resolve|solve).*sbom|generator/i, I.SbomGenerator, 'the SBOM generator failed'],
];

/** The last top-level `ERROR:` line of buildx's output, without the prefix. */
export function topLevelError(output: string): string | undefined {
  const lines = output.split('\n').filter((line) => /^ERROR: /.test(line));
  return lines.length > 0 ? lines[lines.length - 1]!.slice('ERROR: '.length) : undefined;
}

/**
 * The failure message: a failing step's error when a step failed, else buildx's own error with the
 * input it concerns (`Input "cache": ...`), else the exit code. One line: it quotes the build's output.
 */
export function buildFailureMessage(
  output: string,
  stepFailure: string | undefined,
  exitCode: number,
): string {
  if (stepFailure) return `the build failed: ${stepFailure}`;
  const error = topLevelError(output);
  if (!error) return `the build failed: buildx exited with ${exitCode}`;
  for (const [pattern, input, meaning] of CAUSES) {
    if (pattern.test(error)) return oneLine(`Input "${input}": ${meaning}: ${error}`);
  }
  return oneLine(`the build failed: ${error}`);
}
