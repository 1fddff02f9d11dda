import { describe, expect, it } from 'vitest';
import { matchFiles } from './files.js';

describe('matchFiles', () => {
  const tree = ['scripts', 'scripts/migrate.sh', 'certs', 'certs/a.pem', 'certs/.hidden.pem', 'README.md'];

  it('matches files and directories, dot files included', () => {
    expect(matchFiles(['scripts', 'certs/*.pem'], tree)).toEqual({
      paths: [
        { path: 'scripts', glob: 'scripts' },
        { path: 'certs/a.pem', glob: 'certs/*.pem' },
        { path: 'certs/.hidden.pem', glob: 'certs/*.pem' },
      ],
      errors: [],
    });
    expect(matchFiles(['./scripts/'], tree).paths).toEqual([{ path: 'scripts', glob: './scripts/' }]);
  });

  it('names an entry that matches nothing or reaches outside', () => {
    expect(matchFiles(['nope/*', '../x', '/etc/passwd'], tree).errors).toEqual([
      'nope/*: matches nothing in working-directory',
      '../x: not a path inside working-directory',
      '/etc/passwd: not a path inside working-directory',
    ]);
  });
});
