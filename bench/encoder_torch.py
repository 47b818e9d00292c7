"""The PyTorch peer of the host's encoder (bench/encoder.ts --host): a Whisper encoder forward pass in float32
torch on the CPU, with random weights of openai/whisper-base's (or large-v3's) shapes, on a random log-mel of 3000
frames. The forward pass is the fixture generator's whisper_forward (tests/fixtures/model/make_model_fixtures.py,
written apart from our code), run in float32 as transformers runs the model.

    /usr/bin/python3 bench/encoder_torch.py [--large-layers N] [--threads N]

Prints one JSON line per model: forward seconds and GFLOP/s (same FLOP count as bench/encoder.ts).
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'model'))
from make_model_fixtures import whisper_forward  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--base-layers', type=int, default=6)
parser.add_argument('--large-layers', type=int, default=2)
parser.add_argument('--threads', type=int, default=os.cpu_count())
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


def weights(d, ffn, layers, mels):
    w = {'conv1.weight': torch.randn(d, mels, 3) * 0.05, 'conv1.bias': torch.zeros(d),
         'conv2.weight': torch.randn(d, d, 3) * 0.02, 'conv2.bias': torch.zeros(d),
         'embed_positions.weight': torch.randn(1500, d) * 0.1, 'layer_norm.weight': torch.ones(d), 'layer_norm.bias': torch.zeros(d)}
    for i in range(layers):
        p = f'layers.{i}.'
        for name, shape in (('self_attn.q_proj', (d, d)), ('self_attn.k_proj', (d, d)), ('self_attn.v_proj', (d, d)),
                            ('self_attn.out_proj', (d, d)), ('fc1', (ffn, d)), ('fc2', (d, ffn))):
            w[p + name + '.weight'] = torch.randn(*shape) / math.sqrt(shape[1])
            if name != 'self_attn.k_proj':
                w[p + name + '.bias'] = torch.zeros(shape[0])
        for norm in ('self_attn_layer_norm', 'final_layer_norm'):
            w[p + norm + '.weight'], w[p + norm + '.bias'] = torch.ones(d), torch.zeros(d)
    return w


def flop(d, ffn, layers, mels, frames=1500):
    front = 2 * d * mels * 3 * 2 * frames + 2 * d * d * 3 * frames
    layer = 2 * frames * (4 * d * d + 2 * d * ffn) + 2 * 2 * frames * frames * d
    return front + layers * layer


for name, d, heads, ffn, mels, layers in (('whisper-base', 512, 8, 2048, 80, args.base_layers),
                                          ('whisper-large-v3', 1280, 20, 5120, 128, args.large_layers)):
    if layers == 0:
        continue
    w = weights(d, ffn, layers, mels)
    mel = torch.randn(mels, 3000)
    with torch.no_grad():
        whisper_forward(mel, w, 1 if layers > 1 else layers, heads)  # warm-up
        started = time.perf_counter()
        whisper_forward(mel, w, layers, heads)
        seconds = time.perf_counter() - started
    print(json.dumps({'model': name, 'path': 'torch', 'torch': torch.__version__, 'threads': torch.get_num_threads(),
                      'layers': layers, 'forwardMs': seconds * 1e3, 'forwardGflopPerSec': flop(d, ffn, layers, mels) / seconds / 1e9}))
