/**
 * Node-side twin of shaders/index.ts: the same WGSL files, read from disk, keyed by their path under shaders/.
 * Used by the CLI and benchmarks, which run under tsx rather than Vite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHADERS_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

export function readShaderSources(dir = SHADERS_DIR): Record<string, string> {
  const sources: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.wgsl')) sources[relative(dir, path).split(sep).join('/')] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return sources;
}
