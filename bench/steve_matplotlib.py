"""STEVE's per-update path, timed: the peer that `npm run bench` compares the web engine with.

STEVE (github.com/erfanashams/steve, steve.py) redraws on every slider or checkbox change (its update()):
    self_attn = encoder_attn[layer][0][head]            # one map, already in memory
    self_attn = torch.nn.functional.softmax(self_attn, dim=-1)   # when the Softmax box is ticked
    self_attn = self_attn[start:stop + 1, start:stop + 1]        # the chosen words' frames
    im.set_data(self_attn)
    im.set_clim(vmin=np.min(self_attn), vmax=np.max(self_attn))
    fig.canvas.draw_idle()
on a figure of 10 x 9.5 inches made by imshow(..., interpolation='bessel'), with two lines per phone boundary.
This script does the same with numpy in place of torch (torch is not installed here; numpy's exp/sum over a
float32 array is the same arithmetic on the CPU), on the Agg backend, drawing synchronously with
fig.canvas.draw() so that the draw is actually timed (draw_idle only schedules it).

Usage: python3 steve_matplotlib.py --npy FILE --layer 0 --head 0 --crop-start 300 --crop-frames 60 --reps 3
Prints one JSON object on stdout: versions, figure size, and per region (full map, crop) the milliseconds of each
step of each update.

With --savefig DIR it times what a figure on disk costs instead (the peer of `steve render`, bench/cli.ts): per
format (png, svg) `reps` full-map updates each followed by fig.savefig, and with --batch FILE... one update and one
PNG savefig per file given there (each map read from its own file, as a batch of figures reads them), on one figure.
"""
import argparse
import json
import platform
import sys
import time

import numpy as np
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# STEVE's figure: plt.subplots(figsize=(10, 9.5)) and these margins (steve.py), at matplotlib's default 100 dpi.
FIGSIZE = (10, 9.5)
MARGINS = dict(left=0.125, bottom=0.155, right=0.9, top=0.765, wspace=0, hspace=0)
# Phone boundaries every 5 frames (100 ms), as the TypeScript benchmark draws them.
PHONE_FRAMES = 5


def softmax_last_axis(values):
    """torch.nn.functional.softmax(x, dim=-1) for a float32 array: subtract the row max, exp, normalise."""
    shifted = values - values.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


def boundary_lines(ax, start, stop):
    """STEVE's draw_lines: for each phone boundary a horizontal and a vertical line across the crop."""
    ticks = np.arange(start, stop + 1, PHONE_FRAMES) + 0.5
    span = list(range(int(start), int(stop) + 2))
    lines = []
    for tick in ticks:
        (horizontal,) = ax.plot(span, [tick] * len(span), color="black", linewidth=0.8, alpha=0.5)
        (vertical,) = ax.plot([tick] * len(span), span, color="black", linewidth=0.8, alpha=0.5)
        lines += [horizontal, vertical]
    return lines


def time_region(attn, start, stop, reps, softmax):
    """Times `reps` updates showing frames [start, stop] (inclusive, as STEVE's chosen_frames_w) of `attn`."""
    fig, ax = plt.subplots(figsize=FIGSIZE, num=f"steve-{start}-{stop}")
    plt.subplots_adjust(**MARGINS)
    extent = [start, stop + 1, stop + 1, start]
    first = attn[start : stop + 1, start : stop + 1]
    im = ax.imshow(first, extent=extent, interpolation="bessel")
    boundary_lines(ax, start, stop)
    ax.set_title(f"frames {start}..{stop}")
    fig.canvas.draw()  # STEVE draws the figure once before any update; not timed
    steps = {"softmaxMs": [], "cropSetDataMs": [], "setClimMs": [], "drawMs": [], "totalMs": []}
    for _ in range(reps):
        t0 = time.perf_counter()
        values = softmax_last_axis(attn.copy()) if softmax else attn
        t1 = time.perf_counter()
        values = values[start : stop + 1, start : stop + 1]
        im.set_data(values)
        t2 = time.perf_counter()
        im.set_clim(vmin=np.min(values), vmax=np.max(values))
        im.set_extent(extent)
        t3 = time.perf_counter()
        fig.canvas.draw()
        t4 = time.perf_counter()
        for key, (a, b) in zip(steps, [(t0, t1), (t1, t2), (t2, t3), (t3, t4), (t0, t4)]):
            steps[key].append((b - a) * 1000)
    width, height = fig.canvas.get_width_height()
    plt.close(fig)
    return {"frames": [int(start), int(stop)], "figurePixels": [width, height], **steps}


def time_savefig(npy_path, batch_paths, layer, head, reps, out_dir, softmax):
    """Full-map update + savefig of `npy_path`, per format, then a batch over `batch_paths` (update + PNG savefig each)."""
    import os

    def read_map(path):
        return np.array(np.load(path, mmap_mode="r")[layer, 0, head], dtype=np.float32)

    attn = read_map(npy_path)
    stop = attn.shape[-1] - 1
    fig, ax = plt.subplots(figsize=FIGSIZE, num="steve-savefig")
    plt.subplots_adjust(**MARGINS)
    extent = [0, stop + 1, stop + 1, 0]
    im = ax.imshow(attn, extent=extent, interpolation="bessel")
    boundary_lines(ax, 0, stop)
    ax.set_title(f"frames 0..{stop}")
    fig.canvas.draw()  # the figure STEVE has on screen before the update; not timed

    def update(values):
        values = softmax_last_axis(values.copy()) if softmax else values
        im.set_data(values)
        im.set_clim(vmin=np.min(values), vmax=np.max(values))

    result = {}
    for fmt in ("png", "svg"):
        update_ms, save_ms, total_ms = [], [], []
        for rep in range(reps):
            t0 = time.perf_counter()
            update(attn)
            t1 = time.perf_counter()
            fig.savefig(os.path.join(out_dir, f"full-{rep}.{fmt}"), format=fmt)
            t2 = time.perf_counter()
            update_ms.append((t1 - t0) * 1000)
            save_ms.append((t2 - t1) * 1000)
            total_ms.append((t2 - t0) * 1000)
        result[fmt] = {"updateMs": update_ms, "savefigMs": save_ms, "totalMs": total_ms}
    if batch_paths:
        t0 = time.perf_counter()
        for index, path in enumerate(batch_paths):
            update(read_map(path))
            fig.savefig(os.path.join(out_dir, f"batch-{index}.png"), format="png")
        result["batch"] = {"figures": len(batch_paths), "totalMs": (time.perf_counter() - t0) * 1000}
    width, height = fig.canvas.get_width_height()
    plt.close(fig)
    return {"figurePixels": [width, height], "dpi": fig.dpi, **result}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--npy", required=True, help="attention .npy, layers x 1 x heads x rows x cols")
    parser.add_argument("--layer", type=int, default=0)
    parser.add_argument("--head", type=int, default=0)
    parser.add_argument("--crop-start", type=int, default=300)
    parser.add_argument("--crop-frames", type=int, default=60)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-softmax", action="store_true")
    parser.add_argument("--savefig", metavar="DIR", help="time update + savefig into DIR instead of on-screen updates")
    parser.add_argument("--batch", nargs="*", default=[], metavar="FILE", help="with --savefig: one figure per file")
    args = parser.parse_args()

    if args.savefig:
        result = {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "matplotlib": matplotlib.__version__,
            "backend": matplotlib.get_backend(),
            "interpolation": "bessel",
            "savefig": time_savefig(args.npy, args.batch, args.layer, args.head, args.reps, args.savefig, not args.no_softmax),
        }
        json.dump(result, sys.stdout)
        sys.stdout.write("\n")
        return

    load_start = time.perf_counter()
    tensor = np.load(args.npy, mmap_mode="r")
    attn = np.array(tensor[args.layer, 0, args.head], dtype=np.float32)
    load_ms = (time.perf_counter() - load_start) * 1000
    frames = attn.shape[-1]
    crop_start = min(args.crop_start, frames - 1)
    crop_stop = min(crop_start + args.crop_frames, frames) - 1
    result = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "matplotlib": matplotlib.__version__,
        "backend": matplotlib.get_backend(),
        "softmax": "numpy (torch is not installed here)" if not args.no_softmax else "off",
        "interpolation": "bessel",
        "mapShape": list(attn.shape),
        "loadMapMs": load_ms,
        "regions": {
            "full": time_region(attn, 0, frames - 1, args.reps, not args.no_softmax),
            "crop": time_region(attn, crop_start, crop_stop, args.reps, not args.no_softmax),
        },
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
