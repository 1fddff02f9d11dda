// Package URLs (`pkg:type/namespace/name@version?qualifiers#subpath`) as the ignore file's `purls`
// and Trivy's findings write them, and whether a finding's package is the one an entry names.

export interface PackageUrl {
  type: string;
  namespace: string;
  name: string;
  version: string;
  qualifiers: Record<string, string>;
  subpath: string;
}

const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

/** `pkg:type/namespace/name@version?key=value#subpath`, undefined when it is not a purl. */
export function parsePurl(text: string): PackageUrl | undefined {
  if (!text.startsWith('pkg:')) return undefined;
  let rest = text.slice(4).replace(/^\/+/, '');
  let subpath = '';
  const hash = rest.indexOf('#');
  if (hash !== -1) [rest, subpath] = [rest.slice(0, hash), rest.slice(hash + 1)];
  const qualifiers: Record<string, string> = {};
  const question = rest.indexOf('?');
  if (question !== -1) {
    for (const pair of rest.slice(question + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq > 0) qualifiers[pair.slice(0, eq).toLowerCase()] = decode(pair.slice(eq + 1));
    }
    rest = rest.slice(0, question);
  }
  let version = '';
  const at = rest.lastIndexOf('@');
  if (at > rest.indexOf('/')) [rest, version] = [rest.slice(0, at), decode(rest.slice(at + 1))];
  const parts = rest.split('/').filter(Boolean);
  if (parts.length < 2) return undefined;
  return {
    type: parts[0]!.toLowerCase(),
    namespace: parts.slice(1, -1).map(decode).join('/'),
    name: decode(parts[parts.length - 1]!),
    version,
    qualifiers,
    subpath: subpath.replace(/^\/+|\/+$/g, ''),
  };
}

/** Whether `target` satisfies `constraint`: same package; version, subpath and qualifiers only where given. */
export function purlMatches(constraint: PackageUrl, target: PackageUrl): boolean {
  if (constraint.type !== target.type || constraint.namespace !== target.namespace) return false;
  if (constraint.name !== target.name) return false;
  if (constraint.version && constraint.version !== target.version) return false;
  if (constraint.subpath && constraint.subpath !== target.subpath) return false;
  return Object.entries(constraint.qualifiers).every(([k, v]) => target.qualifiers[k] === v);
}
