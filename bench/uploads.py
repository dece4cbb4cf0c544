"""What an uploaded image costs: peak memory and CPU of hostile files against a typical photo.

``.venv/bin/python bench/uploads.py`` builds the files of ``tests/forums/crafted_images.py``, then
runs ``forums.images.clean_image`` on each in a fresh process (so peak memory is that file's
alone: the peak resident size is reset just before the call) and prints each case's CPU time and
peak memory above the process's baseline, and both as a ratio to storing a typical 12-megapixel
phone photo, measured in the same run. Each case runs three times; the table shows the least CPU
time and the largest peak of the three.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.forums import crafted_images as crafted  # noqa: E402

CASES = {
    "typical photo, 4000 x 3000 JPEG": lambda: crafted.photo((4000, 3000)),
    "GIF, 20 frames of 4000 x 4000 (the report)": lambda: crafted.gif_animation(20, (4000, 4000)),
    "GIF, 1,000 frames of 100 x 100": lambda: crafted.gif_animation(1000, (100, 100)),
    "PNG decompression bomb, 8000 x 8000": lambda: crafted.png_bomb(8000),
    "tiny PNG claiming 12000 x 10000": lambda: crafted.png_claiming(12000, 10000),
    "GIF growing its canvas to 7000 x 7000": lambda: crafted.gif_growing_canvas(7000),
    "GIF, 200,000 frames of 1 x 1 on 1000 x 1000 (5 MB)": (
        lambda: crafted.gif_animation(200_000, (1000, 1000))
    ),
    "GIF with 5 MB of junk bytes between frames": lambda: crafted.gif_with_junk(5_000_000),
    "animated GIF within budget, 50 x 400 x 400": lambda: crafted.gif_animation(50, (400, 400)),
    "animated GIF at the budget, 10 x 2000 x 2000": lambda: crafted.gif_animation(10, (2000, 2000)),
    "animated GIF at the budget, 200 x 447 x 447": lambda: crafted.gif_animation(200, (447, 447)),
}

CHILD = r"""
import json, sys, time, warnings
sys.path.insert(0, sys.argv[2])
warnings.simplefilter("ignore")
from PIL import Image
from forums.images import ImageLimits, ImageRefused, clean_image
Image.init()  # every plugin imported, as in a server process after its first upload

def kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

data = open(sys.argv[1], "rb").read()
limits = ImageLimits(max_pixels=40_000_000, max_frames=200, max_edge=2000)
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # reset the peak resident size (VmHWM) to the current one
baseline = kib("VmRSS")
start = time.process_time()
try:
    result = clean_image(data, limits=limits)
    outcome = f"stored, {len(result.data):,} bytes, {result.frames} frame(s)"
except ImageRefused as refused:
    outcome = f"refused ({refused.reason}) after {refused.frames_decoded} frame(s) decoded"
cpu = time.process_time() - start
print(json.dumps({"cpu": cpu, "peak_kib": kib("VmHWM") - baseline, "outcome": outcome}))
"""


def measure(path: Path) -> dict:
    runs = []
    for _ in range(3):
        output = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(ROOT)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        runs.append(json.loads(output))
    return {
        "cpu": min(run["cpu"] for run in runs),
        "peak_kib": max(run["peak_kib"] for run in runs),
        "outcome": runs[0]["outcome"],
    }


def main() -> None:
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, make in CASES.items():
            path = Path(folder) / "image"
            data = make()
            path.write_bytes(data)
            results[name] = {"bytes": len(data), **measure(path)}
    photo = results["typical photo, 4000 x 3000 JPEG"]
    print(f"{'case':46} {'file':>10} {'CPU ms':>8} {'x photo':>8} {'peak MB':>8} {'x photo':>8}")
    for name, result in results.items():
        print(
            f"{name:46} {result['bytes']:>10,} {result['cpu'] * 1000:>8.1f} "
            f"{result['cpu'] / photo['cpu']:>8.3f} {result['peak_kib'] / 1024:>8.1f} "
            f"{result['peak_kib'] / max(photo['peak_kib'], 1):>8.3f}  {result['outcome']}"
        )


if __name__ == "__main__":
    main()
