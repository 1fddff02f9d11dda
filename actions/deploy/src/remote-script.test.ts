import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFilter } from './gate.js';
import { DEPLOY_BODY, renderDeployScript, type DeployScriptParams } from './remote-script.js';

const marker = `/tmp/berth-pwned-${process.pid}`;
const hostile = `x; touch ${marker} $(touch ${marker}) \`touch ${marker}\` "q" 'q' \\ \n next`;

const params: DeployScriptParams = {
  mode: 'compose',
  operation: 'deploy',
  remoteDir: `/opt/app dir/${hostile}`,
  project: 'shop',
  release: '20260101T000000Z-abcdef0-1a2b',
  composeFiles: ['docker-compose.yml', `my ${hostile}.yml`],
  waitTimeoutSeconds: 30,
  lockTimeoutSeconds: 5,
  rollback: true,
  keepReleases: 3,
  prune: false,
  holder: hostile,
  auditPrefix: `{"actor":${JSON.stringify(hostile)}`,
  probes: [
    { url: 'https://localhost:8443/healthz', status: 200, maxLatencyMs: 500 },
    { url: 'https://localhost:8443/a|b?token=s3cret-token&x', status: 204 },
  ],
  registry: 'localhost:5000',
  registryUser: hostile,
};

describe('renderDeployScript', () => {
  it('renders a script bash accepts', () => {
    execFileSync('bash', ['-n'], { input: renderDeployScript(params) });
    execFileSync('bash', ['-n'], { input: renderDeployScript({ ...params, mode: 'swarm' }) });
  });

  it('passes every value as data, never as code', () => {
    const script = renderDeployScript(params);
    const header = script.slice(0, script.indexOf(DEPLOY_BODY));
    const out = execFileSync('bash', [
      '-c',
      `${header}\nprintf '%s\\0' "$REMOTE_DIR" "$HOLDER" "$REGISTRY_USER" "\${COMPOSE_FILES[@]}" "$AUDIT_PREFIX" "\${PROBE_URLS[@]}" "\${PROBE_STATUS[@]}" "\${PROBE_MAX[@]}"`,
    ]);
    expect(out.toString().split('\0').slice(0, -1)).toEqual([
      params.remoteDir,
      hostile,
      hostile,
      ...params.composeFiles,
      params.auditPrefix,
      // A `|` in a URL stays in it (the probes used to be `url|status|max` strings that it split).
      'https://localhost:8443/healthz',
      'https://localhost:8443/a|b?token=***&***',
      '200',
      '204',
      '500',
      '',
    ]);
    expect(existsSync(marker)).toBe(false);
  });

  it("never puts a probe URL's query values in the script (curl reads the URL from a file)", () => {
    expect(renderDeployScript(params)).not.toContain('s3cret-token');
  });

  it('keeps bash parameter expansions intact in the body', () => {
    const script = renderDeployScript(params);
    expect(script).toContain('"${COMPOSE_FILES[@]}"');
    expect(script).not.toContain('$\\{');
  });

  it('bakes after the probes and before the switch, with the filter as an encoded query value', () => {
    const gate = {
      'alertmanager-url': 'http://127.0.0.1:9093',
      'alert-filter': [{ name: 'note', op: '=' as const, value: hostile }],
      'bake-seconds': 5,
    };
    const script = renderDeployScript({ ...params, gate });
    execFileSync('bash', ['-n'], { input: script });
    const at = (text: string) => DEPLOY_BODY.indexOf(text);
    expect(at('enter probe')).toBeLessThan(at('enter bake'));
    expect(at('enter bake')).toBeLessThan(at('enter switch'));
    const header = script.slice(0, script.indexOf(DEPLOY_BODY));
    const out = execFileSync('bash', [
      '-c',
      `${header}\nprintf '%s\\0' "$AM_URL" "$AM_QUERY" "$BAKE_SECONDS"`,
    ]);
    const [url, query, bake] = out.toString().split('\0');
    expect([url, bake]).toEqual(['http://127.0.0.1:9093', '5']);
    expect(query).toMatch(/^active=true&silenced=false&inhibited=false&filter=[A-Za-z0-9%._~*'()!-]+$/);
    // The hostile value comes back whole from the query Alertmanager reads.
    expect(parseFilter(decodeURIComponent(query!.split('filter=')[1]!))).toEqual(gate['alert-filter']);
    expect(existsSync(marker)).toBe(false);
  });
});
