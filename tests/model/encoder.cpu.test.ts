import { describe, expect, it } from 'vitest';
import { loadEncoderWeights, selectModelFiles } from '../../src/model/checkpoint.ts';
import { prepareModelAudio } from '../../src/model/audio.ts';
import { encoderCpu, erf, gelu, geluTanh, type EncoderTrace } from '../../src/model/encoder.cpu.ts';
import { whisperLogMel } from '../../src/model/whisperFeatures.ts';
import { MODEL_FIXTURES, fixtureAudio, folderSources, maxAbsDifference, readExpected, type ModelFolder } from './modelFixtures.ts';

/** The tolerance on raw scores. */
const SCORE_TOLERANCE = 2e-3;

async function run(folder: ModelFolder, options = {}): Promise<{ trace: EncoderTrace; expected: Awaited<ReturnType<typeof readExpected>> }> {
  const weights = await loadEncoderWeights(selectModelFiles(folderSources(folder), `${MODEL_FIXTURES}/${folder}`));
  const config = weights.config;
  const audio = fixtureAudio(config.family === 'whisper' ? 'whisper' : 'wav2vec2');
  const input = config.family === 'whisper' ? whisperLogMel(audio.samples, config.features).data : prepareModelAudio(audio.samples, audio.sampleRate, config).samples;
  const expected = await readExpected(folder === 'whisper_sharded' ? 'whisper_f32' : folder === 'hubert_bin' ? 'hubert' : folder);
  return { trace: encoderCpu(config, weights.tensors, input, options), expected };
}

function stacked(scores: readonly Float64Array[]): Float64Array {
  const all = new Float64Array(scores.reduce((n, s) => n + s.length, 0));
  scores.reduce((offset, s) => (all.set(s, offset), offset + s.length), 0);
  return all;
}

/** max |a - b| relative to max |b|. */
function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return maxAbsDifference(a, b) / maxAbsDifference(b, new Float64Array(b.length));
}

describe('encoderCpu against the float64 torch reference', () => {
  for (const folder of ['whisper_f32', 'whisper_f16', 'whisper_sharded', 'wav2vec2_base', 'wav2vec2_large', 'hubert', 'hubert_bin'] as const) {
    it(`${folder}: every stage and the pre-softmax scores`, async () => {
      const { trace, expected } = await run(folder);
      const scores = expected.get('scores')!;
      const [layers, heads, queries, keys] = scores.shape;
      expect([trace.scores.length, trace.frames, trace.frames]).toEqual([layers, queries, keys]);
      expect(trace.scores[0].length).toBe(heads * queries * keys);
      const scoreError = maxAbsDifference(stacked(trace.scores), scores.data);
      expect(scoreError).toBeLessThan(SCORE_TOLERANCE / 20);
      const stages: [string, Float64Array | undefined][] = [
        ['front_end', trace.frontEnd],
        ['final', trace.final],
        ['conv_features', trace.convFeatures],
        ['projected', trace.projected],
        ...trace.hidden.map((h, i): [string, Float64Array] => [`hidden_${i}`, h]),
      ];
      for (const [name, ours] of stages) {
        const reference = expected.get(name);
        if (!reference || !ours) continue;
        expect(relativeDifference(ours, reference.data), `${folder} ${name}`).toBeLessThan(1e-5);
      }
    });
  }

  it('a tanh GELU or a bias on Whisper k_proj misses the scores by far more than the tolerance', async () => {
    const { trace: tanh, expected } = await run('whisper_f32', { activation: geluTanh });
    const truth = expected.get('scores')!.data;
    expect(maxAbsDifference(stacked(tanh.scores), truth)).toBeGreaterThan(10 * SCORE_TOLERANCE);
    // ...and is what the reference computes for the same mistake, so the switch did what it says.
    expect(maxAbsDifference(stacked(tanh.scores), expected.get('scores_tanh_gelu')!.data)).toBeLessThan(SCORE_TOLERANCE / 20);
    const { trace: kBias } = await run('whisper_f32', { whisperKBiasFromV: true });
    expect(maxAbsDifference(stacked(kBias.scores), truth)).toBeGreaterThan(100 * SCORE_TOLERANCE);
    expect(maxAbsDifference(stacked(kBias.scores), expected.get('scores_k_bias')!.data)).toBeLessThan(SCORE_TOLERANCE / 20);
  });
});

describe('erf and GELU', () => {
  it('erf matches known values to 1e-15', () => {
    // From scipy.special.erf.
    const known: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497148],
      [2, 0.9953222650189527],
      [2.9, 0.9999589021219005],
      [3.1, 0.9999883513426328],
      [4, 0.9999999845827421],
    ];
    for (const [x, value] of known) {
      expect(Math.abs(erf(x) - value), `erf(${x})`).toBeLessThan(1e-15);
      expect(erf(-x)).toBe(-erf(x));
    }
    expect(erf(0)).toBe(0);
    expect(erf(7)).toBe(1);
  });

  it('GELU is x Phi(x), and the tanh form differs from it', () => {
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(gelu(-3)).toBeCloseTo(-0.00404969409489031, 15);
    expect(Math.abs(geluTanh(2) - gelu(2))).toBeGreaterThan(5e-5);
  });
});
