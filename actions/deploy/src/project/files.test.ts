import { describe, expect, it } from 'vitest';
import { matchFiles } from './files.js';

describe('matchFiles', () => {
  const tree = ['scripts', 'scripts/migrate.sh', 'certs', 'certs/a.pem', 'certs/.hidden.pem', 'README.md'];

  it('matches files and directories, dot files included', () => {
    expect(matchFiles(['scripts', 'certs/*.pem'], tree)).toEqual({
      paths: ['scripts', 'certs/a.pem', 'certs/.hidden.pem'],
      errors: [],
    });
    expect(matchFiles(['./scripts/'], tree).paths).toEqual(['scripts']);
  });

  it('names an entry that matches nothing or reaches outside', () => {
    expect(matchFiles(['nope/*', '../x', '/etc/passwd'], tree).errors).toEqual([
      'nope/*: matches nothing in working-directory',
      '../x: not a path inside working-directory',
      '/etc/passwd: not a path inside working-directory',
    ]);
  });
});
