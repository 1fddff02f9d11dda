import { describe, expect, it } from 'vitest';
import { classifyProject, topmost, type ClassifyOptions, type PathFacts } from './classify.js';
import type { BindMount, ProjectModel } from './model.js';

const wd = '/w';
const fs: Record<string, PathFacts> = {
  '/w/conf': { kind: 'dir', real: '/w/conf' },
  '/w/conf/a.conf': { kind: 'file', real: '/w/conf/a.conf' },
  '/w/seed': { kind: 'dir', real: '/w/seed' },
  '/w/link': { kind: 'dir', real: '/etc' },
  '/w/fifo': { kind: 'special', real: '/w/fifo' },
  '/w/app.env': { kind: 'file', real: '/w/app.env' },
};
const opts: ClassifyOptions = {
  workingDirectory: wd,
  realWorkingDirectory: wd,
  secrets: ['db_password'],
  hostPaths: ['/proc'],
  filesGiven: false,
  info: (p) => fs[p] ?? { kind: 'missing', real: p },
};

const bind = (service: string, source: string, written: string, readOnly: boolean): BindMount => ({
  service,
  source,
  written,
  readOnly,
  volume: { type: 'bind', source, target: '/t', read_only: readOnly || undefined },
});

function model(binds: BindMount[], files: ProjectModel['files'] = []): ProjectModel {
  return {
    binds,
    files,
    interpolated: [],
    composeTexts: { '/w/compose.yml': 'services: ./conf ../secret', '/w/other.yml': 'x' },
    services: {},
  };
}

describe('classifyProject', () => {
  it('copies read-only sources, keeps writable ones as data (seeded when present), allows host-paths', () => {
    const plan = classifyProject(
      model([
        bind('web', '/w/conf', './conf', true),
        bind('app', '/w/data', './data', false),
        bind('app', '/w/seed', './seed', false),
        bind('exporter', '/proc/stat', '/proc/stat', true),
      ]),
      opts,
    );
    expect(plan.errors).toEqual([]);
    expect(plan.copies.map((c) => c.path)).toEqual(['conf', 'seed']);
    expect(plan.data.map((d) => [d.service, d.path])).toEqual([
      ['app', 'data'],
      ['app', 'seed'],
    ]);
  });

  it('refuses paths outside, escaping symlinks, fifos and missing read-only sources, naming file and service', () => {
    const plan = classifyProject(
      model([
        bind('a', '/secret', '../secret', true),
        bind('b', '/w/link', './link', true),
        bind('c', '/w/fifo', './fifo', false),
        bind('d', '/w/nothing', './nothing', true),
        bind('e', '/w', '.', true),
      ]),
      opts,
    );
    expect(plan.errors).toEqual([
      'compose.yml: service a bind-mounts ../secret (/secret), outside working-directory; only paths listed in "host-paths" may be mounted from the host',
      'compose.yml, other.yml: service b bind-mounts ./link, which is a symlink to /etc, outside working-directory',
      'compose.yml, other.yml: service c bind-mounts ./fifo, which is a socket, fifo or device',
      'compose.yml, other.yml: service d bind-mounts ./nothing read-only, and it does not exist',
      'compose.yml: service e bind-mounts ., the whole working-directory; mount a subdirectory',
    ]);
    expect(plan.copies).toEqual([]);
  });

  it('copies env files and repository secrets; a secret from the input needs no file, one from neither is an error', () => {
    const plan = classifyProject(
      model(
        [],
        [
          { what: 'service api env_file', path: '/w/app.env' },
          { what: 'service api env_file', path: '/w/optional.env', optional: true },
          { what: 'secrets.db_password', path: '/w/secrets/db_password', secret: 'db_password' },
          { what: 'secrets.api_key', path: '/w/secrets/api_key', secret: 'api_key' },
          { what: 'configs.outside', path: '/etc/passwd' },
        ],
      ),
      opts,
    );
    expect(plan.copies.map((c) => c.path)).toEqual(['app.env']);
    expect(plan.errors).toEqual([
      'compose.yml, other.yml: secrets.api_key: secrets/api_key is neither in the repository nor given by the "secrets" input (add api_key to "secrets")',
      'compose.yml, other.yml: configs.outside names /etc/passwd, outside working-directory',
    ]);
  });

  it('asks for "files" when an include path has a variable, unless "files" is set', () => {
    const m = {
      ...model([]),
      interpolated: [{ from: '/w/compose.yml', via: 'include', written: '${X}.yml' }],
    };
    expect(classifyProject(m, opts).errors).toEqual([
      'compose.yml: include ${X}.yml has a variable in its path; list the file(s) it names in "files"',
    ]);
    expect(classifyProject(m, { ...opts, filesGiven: true }).errors).toEqual([]);
  });
});

describe('topmost', () => {
  it('drops duplicates and paths inside a copied directory', () => {
    const c = (path: string) => ({ path, origin: path });
    expect(topmost([c('a/b'), c('a'), c('a'), c('ab'), c('c/d')]).map((x) => x.path)).toEqual([
      'a',
      'ab',
      'c/d',
    ]);
  });
});
