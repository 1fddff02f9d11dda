import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { contentId, contentPlan, FILES_LABEL } from './content.js';
import type { BindMount } from './model.js';
import { sharedOverride } from './stage.js';

let staged: string;
beforeEach(() => {
  staged = mkdtempSync(join(tmpdir(), 'berth-content-'));
  mkdirSync(join(staged, 'nginx/conf.d'), { recursive: true });
  writeFileSync(join(staged, 'nginx/conf.d/a.conf'), 'a');
  writeFileSync(join(staged, 'nginx/conf.d/b.conf'), 'b');
  writeFileSync(join(staged, 'site.conf'), 'site');
  writeFileSync(join(staged, 'other.conf'), 'other');
  mkdirSync(join(staged, 'secrets'));
  writeFileSync(join(staged, 'secrets/db_password'), 'pw');
});
afterEach(() => rmSync(staged, { recursive: true, force: true }));

describe('contentId', () => {
  it('changes with a byte, a name, a new file or an x bit; not with the other mode bits', () => {
    const dir = join(staged, 'nginx/conf.d');
    const first = contentId(dir);
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(contentId(dir)).toBe(first);
    chmodSync(join(dir, 'a.conf'), 0o600);
    expect(contentId(dir)).toBe(first);
    chmodSync(join(dir, 'a.conf'), 0o755);
    const executable = contentId(dir);
    expect(executable).not.toBe(first);
    chmodSync(join(dir, 'a.conf'), 0o644);
    writeFileSync(join(dir, 'a.conf'), 'A');
    expect(contentId(dir)).not.toBe(first);
    writeFileSync(join(dir, 'a.conf'), 'a');
    expect(contentId(dir)).toBe(first);
    writeFileSync(join(dir, 'c.conf'), '');
    expect(contentId(dir)).not.toBe(first);
    rmSync(join(dir, 'c.conf'));
    // The same bytes under another name are another entry: files/<id>/<name> is one path.
    mkdirSync(join(staged, 'copy'));
    writeFileSync(join(staged, 'copy/a.conf'), 'a');
    writeFileSync(join(staged, 'copy/b.conf'), 'b');
    expect(contentId(join(staged, 'copy'))).not.toBe(first);
    // File boundaries count: "ab" + "" is not "a" + "b".
    writeFileSync(join(dir, 'a.conf'), 'ab');
    writeFileSync(join(dir, 'b.conf'), '');
    expect(contentId(dir)).not.toBe(first);
  });
});

const bind = (service: string, path: string, readOnly: boolean): BindMount => ({
  service,
  source: `/wd/${path}`,
  written: `./${path}`,
  readOnly,
  volume: { type: 'bind', source: `/wd/${path}`, target: `/etc/${path}`, read_only: readOnly },
});

describe('contentPlan and the override', () => {
  const model = {
    binds: [
      bind('nginx', 'nginx/conf.d', true),
      bind('proxy', 'nginx/conf.d', true),
      bind('api', 'data', false),
      bind('api', 'secrets', true),
    ],
    files: [
      { what: 'configs.site', path: '/wd/site.conf', services: ['api'] },
      { what: 'configs.unused', path: '/wd/other.conf', services: [] },
      { what: 'secrets.db_password', path: '/wd/secrets/db_password', secret: 'db_password' },
      { what: 'service api env_file', path: '/wd/api.env' },
    ],
  };

  it('stores each read-only bind source and config file once, never a secret (not even bind-mounted) or data', () => {
    const plan = contentPlan(model, '/wd', staged);
    const conf = contentId(join(staged, 'nginx/conf.d'));
    const site = contentId(join(staged, 'site.conf'));
    expect(plan.entries).toEqual([
      { id: conf, path: 'nginx/conf.d' },
      { id: contentId(join(staged, 'other.conf')), path: 'other.conf' },
      { id: site, path: 'site.conf' },
    ]);
    expect(plan.binds.map((b) => [b.service, b.id])).toEqual([
      ['nginx', conf],
      ['proxy', conf],
    ]);
    // One label per service that reads stored files, the same for the same files.
    expect(Object.keys(plan.labels).sort()).toEqual(['api', 'nginx', 'proxy']);
    expect(plan.labels.nginx).toBe(plan.labels.proxy);
    expect(plan.labels.api).not.toBe(plan.labels.nginx);
  });

  it('changes the label of exactly the services whose files changed', () => {
    const before = contentPlan(model, '/wd', staged).labels;
    writeFileSync(join(staged, 'site.conf'), 'site v2');
    const after = contentPlan(model, '/wd', staged).labels;
    expect(after.nginx).toBe(before.nginx);
    expect(after.api).not.toBe(before.api);
  });

  it('points the mounts and configs at files/<id>/<name>, with the labels; swarm keeps its configs', () => {
    const plan = contentPlan(model, '/wd', staged);
    const conf = plan.entries[0]!.id;
    const site = plan.entries[2]!.id;
    const doc = parse(sharedOverride([], '/opt/shop', plan)) as Record<string, Record<string, unknown>>;
    expect(doc.services!.nginx).toEqual({
      labels: { [FILES_LABEL]: plan.labels.nginx },
      volumes: [
        {
          type: 'bind',
          source: `/opt/shop/files/${conf}/conf.d`,
          target: '/etc/nginx/conf.d',
          read_only: true,
        },
      ],
    });
    expect(doc.services!.api).toEqual({ labels: { [FILES_LABEL]: plan.labels.api } });
    expect(doc.configs!.site).toEqual({ file: `/opt/shop/files/${site}/site.conf` });
    const swarm = parse(sharedOverride([], '/opt/shop', plan, false)) as Record<string, unknown>;
    expect(swarm.configs).toBeUndefined();
  });
});
