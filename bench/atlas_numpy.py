"""The numpy reference of the head atlas, timed: the peer of `steve atlas` in bench/node/atlasBench.ts.

Usage: python3 bench/atlas_numpy.py STEM:TENSOR.npy ... (STEM: the path of a TIMIT utterance without extension, whose
.phn and .wrd sit beside it). Prints one JSON object: utterances, seconds (from the first file opened to the last sum),
and the corpus sums of every metric. The per-utterance statistics are those of the fixtures' independent reference,
tests/fixtures/atlas/make_atlas_fixtures.py (utterance_sums); only the query rows are softmaxed, in float64.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'fixtures', 'atlas'))
from make_atlas_fixtures import read_timit, softmax, utterance_sums, frame_of  # noqa: E402


def main():
    pairs = [arg.split(':', 1) for arg in sys.argv[1:]]
    started = time.perf_counter()
    totals = {}
    for stem, tensor in pairs:
        phones, words = read_timit(stem)
        scores = np.load(tensor, mmap_mode='r')
        layers, _, heads, frames, _ = scores.shape
        spf = 320.0 if frames == 1500 else float(os.path.getsize(stem + '.wav') - 44) / 2 / frames
        named = [w for w in words if w[2].strip()]
        q0, q1 = frame_of(named[0][0], spf, frames), frame_of(named[-1][1], spf, frames)
        # P outside the query rows is never read: leave it zero (calloc'd, so it costs no memory until written).
        P = np.zeros((layers, heads, frames, frames))
        P[:, :, q0:q1, :] = softmax(np.asarray(scores[:, 0, :, q0:q1, :], dtype=np.float64))
        metrics = utterance_sums(P, spf, phones, words)[0]
        for name, value in metrics.items():
            totals[name] = totals.get(name, 0) + value
    seconds = time.perf_counter() - started
    print(json.dumps({'utterances': len(pairs), 'seconds': seconds, 'numpy': np.__version__, 'sums': {k: v.tolist() for k, v in totals.items()}}))


if __name__ == '__main__':
    main()
