/**
 * The local stack's stand-in for the digest bucket: a directory in the state
 * directory. No S3-compatible server installable from npm offers what the
 * bucket relies on (create-only writes, versioning, Object Lock), so the
 * directory keeps the one property the code depends on: an object is created
 * at most once (written aside, then hard-linked into place, which fails if the
 * name exists). Nothing stops a local user deleting files: that is what the
 * tests do to show the verifier notices.
 */
import { linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DigestStore } from '#shared/audit/digest-archive';

export function makeLocalDigestStore(root: string): DigestStore {
  const pathOf = (key: string) => {
    if (key.split('/').some((part) => part === '..' || part === '')) throw new Error(`bad object key ${key}`);
    return join(root, key);
  };
  return {
    async createObject(key, body) {
      const path = pathOf(key);
      mkdirSync(dirname(path), { recursive: true });
      const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(temporary, body, { flag: 'wx' });
      try {
        linkSync(temporary, path);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw error;
      } finally {
        unlinkSync(temporary);
      }
    },
    async readObject(key) {
      try {
        return readFileSync(pathOf(key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async listKeys(prefix, { limit, after }) {
      let names: string[];
      try {
        names = readdirSync(pathOf(prefix.replace(/\/$/, '')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { keys: [], more: false };
        throw error;
      }
      const keys = names
        .filter((name) => !name.endsWith('.tmp'))
        .map((name) => `${prefix}${name}`)
        .filter((key) => after === undefined || key > after)
        .sort();
      return { keys: keys.slice(0, limit), more: keys.length > limit };
    },
  };
}
