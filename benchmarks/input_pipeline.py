"""Input-pipeline throughput: Grain (one core, N workers) next to tf.data.

For each architecture at S128 and S512 (the same tokens a batch: batch 32
and 8 for `--tokens_per_batch 4096`), builds the masked-LM pretraining
batches `(x, mask_ids, mask_weights)` from the embedded corpus with

- Grain, `workers=0`: tokenize, pack and mask in this process; its tokens/s
  is the tokens/s/core of the Grain pipeline;
- Grain, `workers=N` (`--workers`, default `os.cpu_count()`): N processes
  tokenize and pack, this one masks;
- tf.data (where TensorFlow is importable): `pretraining_dataset`, on
  TensorFlow's own thread pool, i.e. every core: its tokens/s/core is its
  tokens/s divided by `os.cpu_count()`;

and reports, per pipeline, the steady-state tokens/s (batch_size *
sequence_length per batch, padding and specials included), tokens/s/core,
the cores it kept busy (CPU seconds of this process and its workers per
second), the seconds from building the dataset to its first batch, and the
longest wait for one batch while timed.

Steady state: the Grain pipeline shuffles packed sequences in windows of
`SEQUENCE_SHUFFLE_WINDOW` (10,000), filled one after the other: the first
batch waits for the first window (reported as "first batch s"), then a
window's batches come at once and the next window is filled while the
consumer waits. So after the first batch and `--warmup` more, the timed
part covers `--windows` whole windows of every worker (any such stretch
holds as many fills as a run of that length), the same number of sequences
for tf.data. `--batches` sets a fixed count instead.

The JSON (`--output`, rewritten after every measurement) keeps the runs of
other `--run` names already in the file: the TensorFlow run and one
without TensorFlow live side by side.

Usage:
    python benchmarks/input_pipeline.py                 # the whole matrix
    python benchmarks/input_pipeline.py --quick         # smoke run, < 60 s
    python benchmarks/input_pipeline.py --architectures bert --sequence_lengths 512
    PYTHONPATH=. KERAS_BACKEND=jax .venv-no-tensorflow/bin/python \\
        benchmarks/input_pipeline.py --quick            # Grain rows only

Grain's workers are spawned processes that import this file again: it
imports nothing heavy at module level.
"""

import argparse
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import shutil
import sys
import time
import traceback

# The target: 16 cores feed an H200 running BERT-base.
TARGET_TOKENS_PER_S_PER_CORE = 30_000
DEFAULT_SEQUENCE_LENGTHS = (128, 512)
DEFAULT_TOKENS_PER_BATCH = 4096
GRAIN_ONE_CORE = "grain workers=0"
TF_DATA = "tf.data"
VERSIONED_PACKAGES = (
    "grain", "tokenizers", "sentencepiece", "tensorflow", "tensorflow-text",
    "keras", "keras-hub", "numpy", "jax",
)
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def tensorflow_installed():
    return importlib.util.find_spec("tensorflow") is not None


def grain_pipeline_name(workers):
    return f"grain workers={workers}"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n".join(__doc__.splitlines()[1:]),
    )
    parser.add_argument("--architectures", nargs="+", default=None,
                        help="default: tokdrop_keras.models.ARCHITECTURE_NAMES"
                        " (--quick: bert)")
    parser.add_argument("--sequence_lengths", nargs="+", type=int,
                        default=None, help="default: 128 512 (--quick: 128)")
    parser.add_argument("--tokens_per_batch", type=int,
                        default=DEFAULT_TOKENS_PER_BATCH,
                        help="batch size = tokens_per_batch // sequence_length")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="Grain worker processes of the multi-process "
                        "rows (default: os.cpu_count())")
    parser.add_argument("--pipelines", nargs="+",
                        choices=("grain0", "grain", "tf.data"),
                        default=("grain0", "grain", "tf.data"),
                        help="grain0: workers=0; grain: workers=--workers; "
                        "tf.data is skipped without TensorFlow")
    parser.add_argument("--windows", type=float, default=2,
                        help="timed: this many shuffle windows of every "
                        "worker (10,000 sequences each)")
    parser.add_argument("--batches", type=int, default=None,
                        help="timed batches, instead of --windows")
    parser.add_argument("--warmup", type=int, default=10,
                        help="batches discarded after the first")
    parser.add_argument("--source", default="embedded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        help="bert at S128, one shuffle window timed: a smoke run")
    parser.add_argument("--label", default=None,
                        help="names the default output: cpu, or gpu_host "
                        "where an NVIDIA driver is present")
    parser.add_argument("--output", default=None,
                        help="JSON file (default: benchmarks/results/"
                        "input_pipeline_<label>.json)")
    parser.add_argument("--run", default=None,
                        help="this run's key in the JSON (default: "
                        "tensorflow or no_tensorflow, _quick for --quick)")
    args = parser.parse_args(argv)
    if args.quick:
        args.architectures = args.architectures or ["bert"]
        args.sequence_lengths = args.sequence_lengths or [128]
        args.windows = min(args.windows, 1)
        args.warmup = min(args.warmup, 5)
    args.sequence_lengths = args.sequence_lengths or list(DEFAULT_SEQUENCE_LENGTHS)
    if args.workers < 1 and "grain" in args.pipelines:
        parser.error("--workers must be >= 1 (workers=0 is the grain0 row)")
    if args.label is None:
        gpu = shutil.which("nvidia-smi") or os.path.exists("/dev/nvidiactl")
        args.label = "gpu_host" if gpu else "cpu"
    if args.output is None:
        args.output = os.path.join(RESULTS, f"input_pipeline_{args.label}.json")
    if args.run is None:
        args.run = "tensorflow" if tensorflow_installed() else "no_tensorflow"
        args.run += "_quick" if args.quick else ""
    return args


def log(*parts):
    print(time.strftime("[%H:%M:%S]"), *parts, flush=True)


def package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info():
    import keras

    import tokdrop_keras

    info = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": (
            len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity") else None
        ),
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "keras_backend": keras.backend.backend(),
        "tokdrop_keras": tokdrop_keras.__version__,
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    info["versions"] = {name: package_version(name) for name in VERSIONED_PACKAGES}
    return info


class Record:
    """The JSON file: this run's entry, rewritten after every measurement;
    other runs' entries are kept."""

    def __init__(self, path, run):
        self.path = path
        self.run = run
        self.data = {"benchmark": "input_pipeline", "runs": {}}
        if os.path.exists(path):
            try:
                with open(path) as f:
                    self.data = json.load(f)
            except (OSError, ValueError):
                log(f"{path} is not readable JSON: overwriting it")
        self.data.setdefault("runs", {})
        self.entry = {"errors": [], "rows": []}
        self.data["runs"][run] = self.entry
        self.start = time.time()

    def save(self):
        self.entry["elapsed_s"] = round(time.time() - self.start, 1)
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        temporary = self.path + ".tmp"
        with open(temporary, "w") as f:
            json.dump(self.data, f, indent=1, default=str)
            f.write("\n")
        os.replace(temporary, self.path)

    def error(self, what):
        self.entry["errors"].append(f"{what}: {traceback.format_exc()[-2000:]}")
        log("ERROR", what, traceback.format_exc()[-1500:])
        self.save()


class CpuClock:
    """CPU seconds of this process and its live child processes (Grain's
    workers); `None` where psutil is missing."""

    def __init__(self):
        try:
            import psutil

            self.process = psutil.Process()
        except ImportError:
            self.process = None

    def processes(self):
        return [self.process] + self.process.children(recursive=True)

    def seconds(self):
        if self.process is None:
            return None
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
                total += times.user + times.system
            except Exception:  # a process that ended meanwhile
                pass
        return total

    def worker_rss_mib(self):
        """The largest resident memory of a child process, MiB."""
        if self.process is None:
            return None
        sizes = []
        for process in self.process.children(recursive=True):
            try:
                sizes.append(process.memory_info().rss / 2**20)
            except Exception:
                pass
        return round(max(sizes), 1) if sizes else None


def window_batches(pipeline, workers, batch_size):
    """Batches of one shuffle window of every Grain worker (one window for
    tf.data: the same number of sequences as Grain in one process)."""
    from tokdrop_keras.data.grain_pipeline import SEQUENCE_SHUFFLE_WINDOW

    windows = max(workers, 1) if pipeline != TF_DATA else 1
    return math.ceil(windows * SEQUENCE_SHUFFLE_WINDOW / batch_size)


def timed_batches(args, pipeline, workers, batch_size):
    """Batches timed: `--batches`, or `--windows` shuffle windows of every
    Grain worker (the same number of sequences for tf.data)."""
    if args.batches:
        return args.batches
    return math.ceil(args.windows * window_batches(pipeline, workers, batch_size))


def measure(make_dataset, sequence_length, batch_size, warmup, batches, clock,
            workers=0):
    """Build → first batch (timed), `warmup` discarded, `batches` timed."""
    import numpy as np

    load = round(os.getloadavg()[0], 2)
    started = time.perf_counter()
    dataset = make_dataset()
    built = time.perf_counter()
    iterator = iter(dataset)
    try:
        next(iterator)
        first = time.perf_counter()
        for _ in range(warmup):
            next(iterator)
        rss = clock.worker_rss_mib() if workers else None
        cpu_start = clock.seconds()
        waits = np.zeros(batches)
        start = time.perf_counter()
        for i in range(batches):
            before = time.perf_counter()
            next(iterator)
            waits[i] = time.perf_counter() - before
        elapsed = time.perf_counter() - start
        cpu_end = clock.seconds()
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # stops Grain's worker processes
        del iterator, dataset
    tokens = batches * batch_size * sequence_length
    result = {
        # Other work on the machine shows here (1-minute load average).
        "load_average_after": round(os.getloadavg()[0], 2),
        "load_average_before": load,
        "timed_batches": batches,
        "timed_s": round(elapsed, 3),
        "tokens_per_s": tokens / elapsed,
        "build_s": round(built - started, 3),
        "first_batch_s": round(first - started, 3),
        "longest_wait_s": round(float(waits.max()), 3),
        "median_wait_ms": round(float(np.median(waits)) * 1e3, 3),
        "waits_over_100ms": int((waits > 0.1).sum()),
        "worker_rss_mib": rss,
    }
    if cpu_start is not None:
        cores_busy = (cpu_end - cpu_start) / elapsed
        result["cores_busy"] = round(cores_busy, 2)
        result["tokens_per_cpu_s"] = tokens / (cpu_end - cpu_start)
    return result


def make_grain(args, architecture, sequence_length, batch_size, workers, documents):
    from tokdrop_keras.data.grain_pipeline import grain_pretraining_dataset

    return lambda: grain_pretraining_dataset(
        source=args.source, split="train", sequence_length=sequence_length,
        batch_size=batch_size, architecture=architecture, seed=args.seed,
        workers=workers, documents=documents,
    )


def make_tf_data(args, architecture, sequence_length, batch_size):
    def build():
        from tokdrop_keras.data import pretraining_dataset

        dataset = pretraining_dataset(
            source=args.source, split="train",
            sequence_length=sequence_length, batch_size=batch_size,
            architecture=architecture, seed=args.seed,
        )
        return dataset.as_numpy_iterator()  # NumPy, as Grain's batches

    return build


def cores_for(pipeline, workers):
    """The cores a pipeline can use: 1 for Grain in one process, the
    workers and this process (at most every core) for Grain with workers,
    every core for tf.data (its thread pool)."""
    cpus = os.cpu_count()
    if pipeline == GRAIN_ONE_CORE:
        return 1
    if pipeline == TF_DATA:
        return cpus
    return min(workers + 1, cpus)


def plan(args):
    from tokdrop_keras.models import ARCHITECTURE_NAMES

    architectures = args.architectures or list(ARCHITECTURE_NAMES)
    unknown = sorted(set(architectures) - set(ARCHITECTURE_NAMES))
    if unknown:
        raise SystemExit(
            f"Unknown architectures {unknown}; choose from {list(ARCHITECTURE_NAMES)}."
        )
    pipelines = []
    if "grain0" in args.pipelines:
        pipelines.append((GRAIN_ONE_CORE, 0))
    if "grain" in args.pipelines:
        pipelines.append((grain_pipeline_name(args.workers), args.workers))
    if "tf.data" in args.pipelines:
        if tensorflow_installed():
            pipelines.append((TF_DATA, 0))
        else:
            log("TensorFlow is not importable: Grain rows only")
    return [
        (architecture, sequence_length, pipeline, workers)
        for architecture in architectures
        for sequence_length in args.sequence_lengths
        for pipeline, workers in pipelines
    ]


def number(value, digits=0):
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def print_table(rows):
    header = (
        f"{'architecture':12s} {'S':>4s} {'B':>3s}  {'pipeline':17s} "
        f"{'tokens/s':>11s} {'tokens/s/core':>13s} {'cores':>5s} "
        f"{'busy':>5s} {'first batch s':>13s} {'longest wait s':>14s}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        burst = "" if row["steady_state"] else "*"
        print(
            f"{row['architecture']:12s} {row['sequence_length']:4d} "
            f"{row['batch_size']:3d}  {row['pipeline'] + burst:17s} "
            f"{number(row.get('tokens_per_s')):>11s} "
            f"{number(row.get('tokens_per_s_per_core')):>13s} "
            f"{row['cores']:5d} {number(row.get('cores_busy'), 2):>5s} "
            f"{number(row.get('first_batch_s'), 1):>13s} "
            f"{number(row.get('longest_wait_s'), 2):>14s}"
        )
    print(
        "tokens/s/core: tokens/s over `cores` (1 for workers=0; workers + "
        "this process, at most os.cpu_count(), for Grain with workers; "
        "os.cpu_count() for tf.data's thread pool). busy: CPU seconds per "
        "second measured (this process and its workers). Target: "
        f"{TARGET_TOKENS_PER_S_PER_CORE:,} tokens/s/core."
    )
    if not all(row["steady_state"] for row in rows):
        print(
            "*: timed over less than one shuffle window of every worker: "
            "the rate of already shuffled batches (a burst), not the steady "
            "state (--windows 2, the default without --quick, measures it)."
        )


def ratios(rows):
    """Grain over tf.data per (architecture, S): per core for workers=0,
    tokens/s for workers=N."""
    by_key = {}
    for row in rows:
        if "tokens_per_s" in row:
            key = (row["architecture"], row["sequence_length"])
            by_key.setdefault(key, {})[row["pipeline"]] = row
    result = []
    for (architecture, sequence_length), found in by_key.items():
        tf_data = found.get(TF_DATA)
        for pipeline, row in found.items():
            if pipeline == TF_DATA or tf_data is None:
                continue
            result.append({
                "architecture": architecture,
                "sequence_length": sequence_length,
                "pipeline": pipeline,
                "tokens_per_s_over_tf_data": row["tokens_per_s"] / tf_data["tokens_per_s"],
                "per_core_over_tf_data": row["tokens_per_s_per_core"]
                / tf_data["tokens_per_s_per_core"],
            })
    return result


def print_ratios(ratio_rows):
    if not ratio_rows:
        return
    print(f"\n{'architecture':12s} {'S':>4s}  {'Grain / tf.data':17s} "
          f"{'tokens/s':>9s} {'per core':>9s}")
    for row in ratio_rows:
        print(
            f"{row['architecture']:12s} {row['sequence_length']:4d}  "
            f"{row['pipeline']:17s} {row['tokens_per_s_over_tf_data']:8.2f}x "
            f"{row['per_core_over_tf_data']:8.2f}x"
        )


def main(argv=None):
    args = parse_args(argv)
    # Fewer TensorFlow start-up lines (Grain's spawned workers inherit it).
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    record = Record(args.output, args.run)
    entry = record.entry
    entry["command"] = " ".join(["python"] + sys.argv)
    entry["date"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    import tokdrop_keras  # noqa: F401  (first: the Keras backend)
    from tokdrop_keras.data.grain_pipeline import SEQUENCE_SHUFFLE_WINDOW
    from tokdrop_keras.data.grain_pipeline import read_source_documents

    entry["machine"] = machine_info()
    entry["settings"] = {
        "source": args.source, "seed": args.seed,
        "tokens_per_batch": args.tokens_per_batch, "workers": args.workers,
        "windows": args.windows, "batches": args.batches,
        "warmup": args.warmup, "quick": args.quick,
        "sequence_shuffle_window": SEQUENCE_SHUFFLE_WINDOW,
        "target_tokens_per_s_per_core": TARGET_TOKENS_PER_S_PER_CORE,
    }
    log(entry["machine"])
    measurements = plan(args)
    started = time.perf_counter()
    documents = read_source_documents(args.source, "train")
    entry["documents"] = {
        "count": len(documents),
        "characters": sum(len(text) for text in documents)
        if documents and isinstance(documents[0], str) else None,
        "read_s": round(time.perf_counter() - started, 3),
    }
    record.save()
    clock = CpuClock()
    for architecture, sequence_length, pipeline, workers in measurements:
        batch_size = max(1, args.tokens_per_batch // sequence_length)
        batches = timed_batches(args, pipeline, workers, batch_size)
        row = {
            "architecture": architecture, "sequence_length": sequence_length,
            "batch_size": batch_size, "pipeline": pipeline,
            "workers": workers, "cores": cores_for(pipeline, workers),
            # Shorter than a window of every worker, Grain's rate is that
            # of the batches already shuffled: a burst, not steady state.
            "steady_state": pipeline == TF_DATA
            or batches >= window_batches(pipeline, workers, batch_size),
        }
        entry["rows"].append(row)
        log(f"{architecture} S{sequence_length} B{batch_size} {pipeline}: "
            f"{batches} timed batches")
        if pipeline == TF_DATA:
            make = make_tf_data(args, architecture, sequence_length, batch_size)
        else:
            make = make_grain(
                args, architecture, sequence_length, batch_size, workers,
                documents,
            )
        try:
            row.update(measure(
                make, sequence_length, batch_size, args.warmup, batches, clock,
                workers,
            ))
        except Exception:
            row["error"] = True
            record.error(f"{architecture} S{sequence_length} {pipeline}")
            continue
        row["tokens_per_s_per_core"] = row["tokens_per_s"] / row["cores"]
        row["meets_target"] = (
            row["tokens_per_s_per_core"] >= TARGET_TOKENS_PER_S_PER_CORE
        )
        log(f"  {row['tokens_per_s']:,.0f} tokens/s, "
            f"{row['tokens_per_s_per_core']:,.0f}/core, busy "
            f"{row.get('cores_busy')}, first batch {row['first_batch_s']} s, "
            f"longest wait {row['longest_wait_s']} s, worker RSS "
            f"{row.get('worker_rss_mib')} MiB")
        entry["ratios"] = ratios(entry["rows"])
        record.save()
    entry["ratios"] = ratios(entry["rows"])
    record.save()
    print_table(entry["rows"])
    print_ratios(entry["ratios"])
    print(f"\n{args.output} (run {args.run!r})")
    return 1 if entry["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
