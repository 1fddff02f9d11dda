import { afterEach, describe, expect, it, vi } from 'vitest';
import { getRegistryCredentials, parseProjectName } from './input-checks.js';

/** How the runner passes input `name` to the action. */
function setInput(name: string, value: string): void {
  vi.stubEnv(`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value);
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('getRegistryCredentials', () => {
  it('gives both or neither, naming the missing one', () => {
    expect(getRegistryCredentials()).toBeUndefined();
    setInput('registry-password', 's3cret');
    expect(() => getRegistryCredentials()).toThrow(
      'Input "registry-username": is required when the other registry credential is given',
    );
    setInput('registry-username', 'ci');
    expect(getRegistryCredentials()).toEqual({ username: 'ci', password: 's3cret' });
    vi.stubEnv('INPUT_REGISTRY-PASSWORD', '');
    expect(() => getRegistryCredentials()).toThrow('Input "registry-password": is required');
  });
});

describe('parseProjectName', () => {
  it('accepts compose project names and refuses anything a path or a shell could misread', () => {
    expect(parseProjectName('project', 'shop-2_a')).toBe('shop-2_a');
    for (const bad of ['Shop', '-x', '_x', '../x', 'a b', 'a;b', '']) {
      expect(() => parseProjectName('project', bad)).toThrow(
        /^Input "project": .* is not a compose project name/,
      );
    }
  });
});
