"""How much does the penthy plugin add to a `beet` start?

Runs `beet version` alternately with and without `plugins: penthy` (each in a throw-away
BEETSDIR, so your own configuration and library are not touched) and prints the medians,
their difference and ratio. The budget is 50 ms.

    python bench/plugin_load.py [--runs 15]

Wall-clock times of whole processes are noisy on a busy machine, so it also measures, in
one process with beets already imported, the time to import the plugin module and build
the plugin (the cost the plugin itself adds), and lists the modules that loading the
plugin added to those `beet version` loads anyway (numpy, soundfile and onnxruntime must
not be among them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "soundfile", "onnxruntime", "penthy_model.analyze", "penthy_model.inference")
BUDGET_MS = 50.0


def make_dir(base: Path, name: str, plugins: str) -> dict:
    beetsdir = base / name
    beetsdir.mkdir()
    (beetsdir / "config.yaml").write_text(
        f"directory: {beetsdir / 'music'}\nlibrary: {beetsdir / 'library.db'}\nplugins: {plugins}\n"
    )
    env = dict(os.environ, BEETSDIR=str(beetsdir), HOME=str(beetsdir))
    # Byte-code caching on, as in a normal install (else every run compiles the plugin),
    # into the temporary folder so nothing is written beside the sources.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(base / "pycache")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def beet(env: dict, *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "beets", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def loaded_modules(env: dict) -> set[str]:
    code = ("import sys, beets.ui\n"
            "sys.argv = ['beet', 'version']\n"
            "try:\n    beets.ui.main(['version'])\nexcept SystemExit:\n    pass\n"
            "print('--- modules ---')\n"
            "print('\\n'.join(sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return set(out.stdout.split("--- modules ---", 1)[1].split())


IN_PROCESS = """
import time, beets.ui, beets.plugins, beets.library, beets.importer
from beets import config
config.read(user=False)
start = time.perf_counter()
import beetsplug.penthy
beetsplug.penthy.PenthyPlugin()
print((time.perf_counter() - start) * 1000)
"""


def in_process_ms(env: dict, runs: int) -> float:
    out = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", IN_PROCESS], env=env, check=True,
                              capture_output=True, text=True)
        out.append(float(done.stdout.split()[-1]))
    return statistics.median(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each variant (default 15)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        without = make_dir(base, "without", "[]")
        with_plugin = make_dir(base, "with", "penthy")
        # The first runs create the databases, compile byte code and warm the disk cache.
        for env in (without, with_plugin):
            beet(env, "version")
            beet(env, "version")
        in_process_ms(with_plugin, 1)
        times = {"without": [], "with": []}
        for _ in range(args.runs):
            times["without"].append(beet(without, "version"))
            times["with"].append(beet(with_plugin, "version"))
        check = subprocess.run([sys.executable, "-m", "beets", "version"], env=with_plugin,
                               capture_output=True, text=True)
        added = loaded_modules(with_plugin) - loaded_modules(without)
        heavy = sorted(m for m in HEAVY if m in added)
        plugin_ms = in_process_ms(with_plugin, args.runs)

    plugin_line = next((line for line in check.stdout.splitlines() if line.startswith("plugins:")), "")
    if "penthy" not in plugin_line:
        print(f"the plugin did not load: {plugin_line or check.stdout.strip()} {check.stderr.strip()}")
        return 2
    base_ms, with_ms = statistics.median(times["without"]), statistics.median(times["with"])
    spread = statistics.median(abs(t - base_ms) for t in times["without"])
    print(f"beet version, median of {args.runs} runs each")
    print(f"  without penthy: {base_ms:7.1f} ms")
    print(f"  with penthy:    {with_ms:7.1f} ms")
    print(f"  difference:     {with_ms - base_ms:+7.1f} ms (budget {BUDGET_MS:.0f} ms; "
          f"run-to-run spread about {spread:.1f} ms)")
    print(f"  ratio:          {with_ms / base_ms:7.3f}")
    print(f"  import + build the plugin in a running beets: {plugin_ms:.1f} ms")
    print(f"  modules the plugin added: {', '.join(sorted(added)) or 'none'}"
          f"; heavy ones among them: {', '.join(heavy) or 'none'}")
    return 0 if with_ms - base_ms <= BUDGET_MS and plugin_ms <= BUDGET_MS and not heavy else 1


if __name__ == "__main__":
    sys.exit(main())
