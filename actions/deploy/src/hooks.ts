// The `pre-deploy` and `post-deploy` hooks: `SERVICE: COMMAND` lines, each run on the host as a
// one-off container of the release (`docker compose run --rm --no-deps -T SERVICE argv...`). The
// command is split into argv here, on the runner, with shell-like quoting but no expansions, and
// reaches the host only as quoted values: no shell on the host ever parses it.
import { getListInput, inputError } from '../../../lib/action/inputs.js';
import type { HostValues } from '../../../lib/ssh/host-script.js';
import { composeConfig, type ComposeConfig } from '../../../lib/tools/compose.js';
import type { StagedBundle } from './bundle.js';
import { Inputs as I } from './constants.js';
import type { Inputs } from './inputs.js';

export interface Hook {
  service: string;
  argv: string[];
}

/** The hook inputs, keyed like action.yml (read apart from inputs.ts's getInputs, which is full). */
export interface HookInputs {
  /** one-off commands in a service of the release before it takes traffic */
  'pre-deploy': Hook[];
  /** the same, after the switch */
  'post-deploy': Hook[];
}

export function getHookInputs(): HookInputs {
  const read = (name: string) => parseHooks(name, getListInput(name, { newlinesOnly: true }));
  return { 'pre-deploy': read(I.PreDeploy), 'post-deploy': read(I.PostDeploy) };
}

/** Compose's own rule for service names. */
const SERVICE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * `text` as argv, split like a POSIX shell splits words, without any expansion: single quotes keep
 * everything, double quotes keep everything but `\"`, `\\`, `\$` and `` \` `` escapes, a backslash
 * outside quotes keeps the next character. `$`, `*`, `~`, `;`, `|` are plain characters. Throws a
 * plain message (the caller names the input and line) on an unbalanced quote (at `column` + its index)
 * or a trailing backslash.
 */
export function splitCommand(text: string, column = 1): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const take = (close: string, escapable: string): void => {
    const start = i;
    i += 1;
    while (i < text.length && text[i] !== close) {
      if (text[i] === '\\' && escapable.includes(text[i + 1] ?? '')) i += 1;
      word += text[i];
      i += 1;
    }
    if (i >= text.length) throw new Error(`unbalanced ${close} quote at column ${start + column}`);
    i += 1;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i += 1;
      continue;
    }
    inWord = true;
    if (c === "'") take("'", '');
    else if (c === '"') take('"', '"\\$`');
    else if (c === '\\') {
      if (i + 1 >= text.length) throw new Error('a trailing backslash escapes nothing');
      word += text[i + 1];
      i += 2;
    } else {
      word += c;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The hooks of input `name`, one per `SERVICE: COMMAND` line. */
export function parseHooks(name: string, lines: readonly string[]): Hook[] {
  return lines.map((line, index) => {
    const at = `line ${index + 1}`;
    const colon = line.indexOf(':');
    const service = line.slice(0, colon).trim();
    if (colon <= 0 || !SERVICE.test(service)) {
      throw inputError(name, `${at} is not "SERVICE: COMMAND" (e.g. "api: migrate")`);
    }
    let argv: string[];
    try {
      argv = splitCommand(line.slice(colon + 1), colon + 2);
    } catch (error) {
      throw inputError(name, `${at} (${service}): ${(error as Error).message}`);
    }
    if (argv.length === 0) throw inputError(name, `${at} (${service}) has no command`);
    if (argv.some((a) => a.includes('\0'))) throw inputError(name, `${at} (${service}) holds a NUL`);
    return { service, argv };
  });
}

/**
 * Checks every hook's service against the release's compose model (failing on an unknown one, naming
 * the input) and returns the services the pre-deploy hooks depend on, transitively: on a first
 * deploy nothing runs yet, so the host starts them before the hooks.
 */
export function hookDependencies(
  config: Pick<ComposeConfig, 'services'>,
  hooks: Readonly<Record<string, readonly Hook[]>>,
): string[] {
  const known = Object.keys(config.services);
  for (const [name, list] of Object.entries(hooks)) {
    for (const hook of list) {
      if (!known.includes(hook.service)) {
        throw inputError(
          name,
          `service "${hook.service}" is not in the compose files (services: ${known.join(', ')})`,
        );
      }
    }
  }
  const deps = new Set<string>();
  const visit = (service: string): void => {
    const dependsOn = config.services[service]?.depends_on;
    const direct = Array.isArray(dependsOn) ? dependsOn : Object.keys(dependsOn ?? {});
    for (const dep of direct as string[]) {
      if (!deps.has(dep)) {
        deps.add(dep);
        visit(dep);
      }
    }
  };
  for (const hook of hooks[I.PreDeploy] ?? []) visit(hook.service);
  return [...deps].sort();
}

/**
 * A list of hooks as host values: bash has no nested arrays, so each hook is its service, its argv
 * length and its words appended to one flat array (`<PREFIX>_SERVICES`, `_ARGC`, `_ARGV`).
 */
export function hookValues(prefix: string, hooks: readonly Hook[]): HostValues {
  return {
    [`${prefix}_SERVICES`]: hooks.map((h) => h.service),
    [`${prefix}_ARGC`]: hooks.map((h) => String(h.argv.length)),
    [`${prefix}_ARGV`]: hooks.flatMap((h) => h.argv),
  };
}

/**
 * The hooks as the deploy script's values, once their services are checked against the release's
 * compose model (compose's own merge of the staged files and .env), before the host is touched.
 */
export async function hookScriptValues(
  inputs: Pick<Inputs, 'project' | 'mode'>,
  hooks: HookInputs,
  staged: Pick<StagedBundle, 'dir' | 'composeFiles'>,
): Promise<HostValues> {
  const pre = hooks['pre-deploy'];
  const post = hooks['post-deploy'];
  let deps: string[] = [];
  if (pre.length + post.length > 0) {
    const name = pre.length > 0 ? I.PreDeploy : I.PostDeploy;
    if (inputs.mode !== 'deploy')
      throw inputError(name, `hooks run with mode deploy only, not ${inputs.mode}`);
    const config = await composeConfig({
      projectDirectory: staged.dir,
      project: inputs.project,
      files: staged.composeFiles,
    }).catch((error: unknown) => {
      throw inputError(I.ComposeFiles, (error as Error).message);
    });
    deps = hookDependencies(config, { [I.PreDeploy]: pre, [I.PostDeploy]: post });
  }
  return { ...hookValues('PRE', pre), ...hookValues('POST', post), PRE_DEPS: deps };
}
