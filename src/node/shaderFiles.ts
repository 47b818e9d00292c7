/**
 * Node-side twin of shaders/index.ts: the same WGSL files, read from disk, keyed by their path under shaders/.
 * Used by the CLI and benchmarks, which run under tsx rather than Vite.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SHADERS_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));

/**
 * Every .wgsl file under `dir`, keyed by its path there. A file is read when its source is first asked for: a
 * figure computed and drawn on the host compiles no shader, and reading all ~40 files was ~5 ms of its start.
 */
export function readShaderSources(dir = SHADERS_DIR): Record<string, string> {
  const sources: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.wgsl')) {
        let source: string | undefined;
        Object.defineProperty(sources, relative(dir, path).split(sep).join('/'), { enumerable: true, get: () => (source ??= readFileSync(path, 'utf8')) });
      }
    }
  };
  walk(dir);
  return sources;
}
