// Every action as the runner sees it: metadata that the runner accepts, a committed bundle that
// starts on Node 24, and input/output names that match the code's constants.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { actionDir, readActionMetadata, runAction } from '../scripts/lab/harness.js';
import { tableNames, tableRows } from './markdown.js';

const ACTIONS = ['build', 'scan', 'deploy', 'backup'] as const;

describe.each(ACTIONS)('actions/%s', (name) => {
  const dir = actionDir(name);
  const meta = readActionMetadata(dir);

  it('declares a node24 action with a committed bundle, a README and branding', () => {
    expect(meta.name).toMatch(/^Berth /);
    expect((meta as { description?: string }).description).toBeTruthy();
    expect((meta as { branding?: { icon?: string; color?: string } }).branding).toMatchObject({
      icon: expect.any(String),
      color: expect.any(String),
    });
    expect(meta.runs.using).toBe('node24');
    expect(meta.runs.main).toBe('dist/index.js');
    expect(existsSync(join(dir, 'dist/index.js'))).toBe(true);
    expect(existsSync(join(dir, 'README.md'))).toBe(true);
    if (meta.runs.post) expect(meta.runs.post).toBe('dist/index.js');
  });

  it('keeps action.yml and the Inputs/Outputs constants in step', async () => {
    const constants = (await import(join(dir, 'src/constants.ts'))) as {
      Inputs: Record<string, string>;
      Outputs: Record<string, string>;
    };
    expect(Object.keys(meta.inputs ?? {}).sort()).toEqual(Object.values(constants.Inputs).sort());
    expect(Object.keys(meta.outputs ?? {}).sort()).toEqual(Object.values(constants.Outputs).sort());
    for (const [input, spec] of Object.entries(meta.inputs ?? {})) {
      expect(spec.description, `${name}: input ${input} has no description`).toBeTruthy();
    }
  });

  it('documents exactly its inputs and outputs in README tables', () => {
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    const declared = { Inputs: Object.keys(meta.inputs ?? {}), Outputs: Object.keys(meta.outputs ?? {}) };
    for (const [section, names] of Object.entries(declared)) {
      if (names.length === 0) continue; // an action still being specified has no tables yet
      expect(tableNames(tableRows(readme, section)), `${name}/README.md "## ${section}"`).toEqual(names);
    }
  });

  it('starts on Node 24 and fails through core.setFailed, not with a loader error', async () => {
    // With no inputs every action stops at its first check and says why in one annotation.
    const r = await runAction(name, { post: false, inputs: {} });
    expect(r.exitCode).toBe(1);
    expect(r.log).not.toMatch(/ERR_MODULE_NOT_FOUND|ERR_REQUIRE_ESM|Dynamic require|SyntaxError/);
    expect(r.errors).toHaveLength(1);
  });
});
