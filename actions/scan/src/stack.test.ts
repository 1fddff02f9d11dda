import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseComposeConfig } from './compose-service.js';
import { readComposeSources } from './compose-source.js';
import { composeProjectName, imagesNeedingFacts, normalizeProjectName } from './stack.js';

const repo = join(import.meta.dirname, '../../..');
const fixtures = 'test/fixtures/compose-audit';
const merged = (name: string) => parseComposeConfig(readFileSync(join(repo, fixtures, name), 'utf8'));

describe('composeProjectName', () => {
  it("takes the files' name:, else the project directory's, normalised as compose does", () => {
    const bad = readComposeSources([`${fixtures}/docker-compose.bad.yml`], repo);
    expect(composeProjectName(bad, join(repo, fixtures))).toBe('bad');
    const example = readComposeSources(
      ['example/docker-compose.yml', 'example/docker-compose.production.yml'],
      repo,
    );
    expect(composeProjectName(example, join(repo, 'example'))).toBe('example');
    expect(composeProjectName([], '/srv/My Shop.v2')).toBe('myshopv2');
    expect(composeProjectName([{ path: 'a.yml', text: 'name: ${PROJECT}\n' }], '/srv/shop')).toBe('shop');
    expect(composeProjectName([{ path: 'a.yml', text: 'name: [\n' }], '/srv/shop')).toBe('shop');
    expect(
      composeProjectName(
        [
          { path: 'a.yml', text: 'name: first\n' },
          { path: 'b.yml', text: 'name: Second\n' },
        ],
        '/x',
      ),
    ).toBe('second');
    expect(normalizeProjectName('__-x')).toBe('x');
  });
});

describe('imagesNeedingFacts', () => {
  it('only images of services that leave user or health check to the image', () => {
    expect(imagesNeedingFacts(merged('example.production.merged.json'))).toEqual([]);
    expect(imagesNeedingFacts(merged('bad.merged.json'))).toEqual(['postgres:16']);
    expect(
      imagesNeedingFacts({
        services: {
          a: { image: 'x:1', user: '1000' },
          b: { image: 'x:1', healthcheck: { test: ['CMD', 'true'] } },
          c: { image: 'y:1', user: '1000', healthcheck: { disable: true } },
          d: { build: '.' } as never,
        },
      }),
    ).toEqual(['x:1']);
  });
});
