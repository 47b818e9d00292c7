/**
 * Every WGSL file under shaders/, as source text keyed by its path relative to this folder
 * (e.g. 'compute/softmax.wgsl'). This is the only file with Vite imports of WGSL; Node code that runs without
 * Vite (the CLI through tsx) uses src/node/shaderFiles.ts, which reads the very same files from disk.
 */
const modules = import.meta.glob('./**/*.wgsl', { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>;

export const SHADER_SOURCES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(modules).map(([path, code]) => [path.replace(/^\.\//, ''), code]),
);
