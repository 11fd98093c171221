/**
 * Whatever the local stack keeps on disk is replaced whole: written to a temporary
 * file beside it and renamed over it, so that a crash mid-write leaves the previous
 * version, never a truncated one.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';

export function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number } = {}) {
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, data, { mode: options.mode ?? 0o644 });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
