import { describe, expect, it } from 'vitest';
import { parseVolumes, reportedImage } from './discover.js';

describe('parseVolumes', () => {
  it('maps compose names to docker names, skipping volumes without a compose label', () => {
    expect(
      parseVolumes('shop', [
        ['shop_data', '"data"'],
        ['shop_x', '""'],
      ]),
    ).toEqual(new Map([['data', 'shop_data']]));
  });
  it.each(['"a\\nb /"', '"../etc"', '"a/b"', '"a b"', '".."', 'nojson', '7'])(
    'refuses the label %s, naming it',
    (label) => {
      expect(() => parseVolumes('shop', [['shop_x', label]])).toThrow(
        `project shop: the host reports volume "shop_x" with the label com.docker.compose.volume=${label}, which is not a volume name`,
      );
    },
  );
  it('refuses a docker name that is not one', () => {
    expect(() => parseVolumes('shop', [['/', '"data"']])).toThrow(/reports volume "\/"/);
  });
});

describe('reportedImage', () => {
  it('accepts an image id, or nothing', () => {
    const id = `sha256:${'a'.repeat(64)}`;
    expect(reportedImage(` ${id} `)).toBe(id);
    expect(reportedImage(undefined)).toBe('');
  });
  it('refuses anything else', () => {
    expect(() => reportedImage('x -v /:/host')).toThrow(/as an image id/);
  });
});
