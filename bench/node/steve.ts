/**
 * Runs bench/steve_matplotlib.py (STEVE's per-update path in numpy + matplotlib) when a Python with matplotlib is
 * available: $STEVE_PYTHON, else /usr/bin/python3 (Debian's python3-matplotlib), else python3 on PATH. Node only.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { summarize, type Summary } from '../core/stats.ts';

/** One region's STEVE update times. */
export interface SteveRegion {
  readonly frames: readonly [number, number];
  readonly figurePixels: readonly [number, number];
  readonly softmaxMs: Summary;
  readonly cropSetDataMs: Summary;
  readonly setClimMs: Summary;
  readonly drawMs: Summary;
  readonly totalMs: Summary;
}

/** What the script reports, summarised. */
export interface SteveResult {
  readonly python: string;
  readonly pythonPath: string;
  readonly numpy: string;
  readonly matplotlib: string;
  readonly backend: string;
  readonly softmax: string;
  readonly regions: { readonly full: SteveRegion; readonly crop: SteveRegion };
}

/** The first Python that imports matplotlib, or undefined. */
export function findMatplotlibPython(): string | undefined {
  const candidates = [process.env.STEVE_PYTHON, '/usr/bin/python3', 'python3'].filter((path): path is string => !!path);
  for (const python of candidates) {
    if (python.startsWith('/') && !existsSync(python)) continue;
    const probe = spawnSync(python, ['-c', 'import matplotlib, numpy'], { stdio: 'ignore' });
    if (probe.status === 0) return python;
  }
  return undefined;
}

/** Options of runStevePeer: the file and map to show, the crop, and the updates per region. */
export interface StevePeerOptions {
  /** Path of bench/steve_matplotlib.py. */
  readonly script: string;
  readonly npyPath: string;
  readonly layer: number;
  readonly head: number;
  readonly cropStart: number;
  readonly cropFrames: number;
  readonly reps: number;
}

/** Runs the script; returns its summarised times, or a sentence saying why it could not run. */
export function runStevePeer(options: StevePeerOptions): SteveResult | { readonly skipped: string } {
  const python = findMatplotlibPython();
  if (!python) return { skipped: 'no Python with matplotlib and numpy (tried $STEVE_PYTHON, /usr/bin/python3, python3)' };
  const args = [
    options.script,
    '--npy', options.npyPath,
    '--layer', String(options.layer),
    '--head', String(options.head),
    '--crop-start', String(options.cropStart),
    '--crop-frames', String(options.cropFrames),
    '--reps', String(options.reps),
  ];
  const run = spawnSync(python, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (run.status !== 0) return { skipped: `${python} ${options.script} failed (${run.status}): ${run.stderr.trim().split('\n').slice(-3).join(' ')}` };
  const raw = JSON.parse(run.stdout) as {
    python: string;
    numpy: string;
    matplotlib: string;
    backend: string;
    softmax: string;
    regions: Record<'full' | 'crop', { frames: [number, number]; figurePixels: [number, number] } & Record<'softmaxMs' | 'cropSetDataMs' | 'setClimMs' | 'drawMs' | 'totalMs', number[]>>;
  };
  const region = (name: 'full' | 'crop'): SteveRegion => {
    const r = raw.regions[name];
    return {
      frames: r.frames,
      figurePixels: r.figurePixels,
      softmaxMs: summarize(r.softmaxMs),
      cropSetDataMs: summarize(r.cropSetDataMs),
      setClimMs: summarize(r.setClimMs),
      drawMs: summarize(r.drawMs),
      totalMs: summarize(r.totalMs),
    };
  };
  return {
    python: raw.python,
    pythonPath: python,
    numpy: raw.numpy,
    matplotlib: raw.matplotlib,
    backend: raw.backend,
    softmax: raw.softmax,
    regions: { full: region('full'), crop: region('crop') },
  };
}
