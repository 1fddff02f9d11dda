import { describe, expect, it } from 'vitest';
import { directReferences, scanReferences } from './references.js';

describe('compose references', () => {
  it('reads include (strings and path lists, with env files) and extends files', () => {
    const text = `include:
  - a.yml
  - path: [b.yml, c.yml]
    env_file: b.env
services:
  web:
    extends:
      file: base.yml
      service: web
  api:
    extends: web
`;
    expect(directReferences(text)).toEqual([
      { via: 'include', written: 'a.yml' },
      { via: 'include', written: 'b.yml' },
      { via: 'include', written: 'c.yml' },
      { via: 'include env_file', written: 'b.env' },
      { via: 'service web extends', written: 'base.yml' },
    ]);
  });

  it('follows includes relative to the including file, once each, and sets aside paths with variables', () => {
    const files: Record<string, string> = {
      '/w/compose.yml': 'include: [sub/inc.yml, "${X}.yml"]\n',
      '/w/sub/inc.yml': 'include: [../compose.yml]\nservices: {a: {extends: {file: base.yml, service: b}}}\n',
      '/w/sub/base.yml': 'services: {b: {image: x}}\n',
    };
    const scan = scanReferences(['/w/compose.yml'], (p) => files[p]);
    expect(scan.references.map((r) => [r.path, r.via])).toEqual([
      ['/w/sub/inc.yml', 'include'],
      ['/w/compose.yml', 'include'],
      ['/w/sub/base.yml', 'service a extends'],
    ]);
    expect(scan.interpolated).toEqual([{ from: '/w/compose.yml', via: 'include', written: '${X}.yml' }]);
  });
});
