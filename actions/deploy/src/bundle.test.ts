import { describe, expect, it } from 'vitest';
import { dotenvLine, imagesOverride } from './bundle.js';

describe('dotenvLine', () => {
  it('quotes values so compose reads them literally', () => {
    expect(dotenvLine('A', 'plain')).toBe('A="plain"');
    expect(dotenvLine('A', '$(id) ${HOME}')).toBe('A="$$(id) $${HOME}"');
    expect(dotenvLine('A', 'end\\')).toBe('A="end\\\\"');
    expect(dotenvLine('A', 'say "hi"\nbye')).toBe('A="say \\"hi\\"\\nbye"');
    expect(dotenvLine('A', "it's # not a comment")).toBe('A="it\'s # not a comment"');
  });
});

describe('imagesOverride', () => {
  it('pins each service by digest', () => {
    expect(imagesOverride({ api: 'reg/api@sha256:' + 'a'.repeat(64) })).toBe(
      `# Written by berth/deploy: each service runs the image pinned by digest.\nservices:\n  "api":\n    image: "reg/api@sha256:${'a'.repeat(64)}"\n`,
    );
  });
});
