"""PyTorch side of `npm run bench`: a line-oriented JSON server driven by bench/run.ts.

One request per stdin line, one JSON reply per stdout line (nothing else is printed on stdout):
  {"op": "hello"}                                   -> versions, thread count
  {"op": "sanity", "fixtures": DIR}                 -> max |ours - fixture| per model / front end
  {"op": "prepare", "name": N, "waveFile": F, "framesFile": F, "warmup": W} -> builds N, runs W warm-up calls
  {"op": "time", "name": N, "iters": K}             -> per-call seconds of K calls
  {"op": "quit"}
Process start-up, model construction and warm-up are outside every timed call.
"""
import json
import os
import re
import sys
import time
import traceback

import numpy as np
import torch
import torchaudio.compliance.kaldi

sys.dont_write_bytecode = True  # keep bench/pytorch free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  (after the path tweak)
import train_bench  # noqa: E402
from fixture_check import run_sanity  # noqa: E402

torch.set_num_threads(1)
try:
    torch.set_num_interop_threads(1)
except RuntimeError:  # already set by an earlier parallel op
    pass
torch.manual_seed(0)

ENCODER_INPUT_SECONDS = 3
BATCH = 16  # the batch-throughput items: bench/lib/items.ts BATCH
SAMPLE_RATE_HZ = models.SAMPLE_RATE_HZ


def count_parameters(module) -> int:
    return sum(p.numel() for p in module.parameters())


def kaldi_fbank_wespeaker(wave):
    """WeSpeaker's front-end: torchaudio's Kaldi fbank on int16-scale samples, then per-utterance CMN."""
    feats = torchaudio.compliance.kaldi.fbank(
        wave * 32768.0, num_mel_bins=80, frame_length=25, frame_shift=10, dither=0.0,
        sample_frequency=SAMPLE_RATE_HZ, window_type="hamming", use_energy=False,
    )
    return feats - feats.mean(dim=0)


def build_item(name: str, wave: np.ndarray, frames: np.ndarray):
    """(zero-argument callable running one timed call of the named item, parameter count of its model)."""
    utterance = torch.from_numpy(wave[: ENCODER_INPUT_SECONDS * SAMPLE_RATE_HZ].copy())
    utterance_batch = utterance.unsqueeze(0)
    long_wave = torch.from_numpy(wave.copy())
    frame_batch = torch.from_numpy(frames.copy()).unsqueeze(0)

    encoders = {
        "ResNetSE34L": lambda: (models.ResNetSE34L(), utterance_batch),
        "ResNetSE34V2": lambda: (models.ResNetSE34V2(), utterance_batch),
        "VGGVox": lambda: (models.VGGVox(), utterance_batch),
        "RawNet3": lambda: (models.RawNet3(), utterance_batch),
        "RTVC": lambda: (models.Ge2eLstmEncoder(), frame_batch),
        "singer": lambda: (models.SingerEncoder(), frame_batch),
        # Throughput: the same input repeated BATCH times, one forward pass.
        f"ResNetSE34L-batch{BATCH}": lambda: (models.ResNetSE34L(), utterance_batch.repeat(BATCH, 1)),
        f"RTVC-batch{BATCH}": lambda: (models.Ge2eLstmEncoder(), frame_batch.repeat(BATCH, 1, 1)),
    }
    if name in encoders:
        model, inputs = encoders[name]()
        model.eval()
        return (lambda: model(inputs)), count_parameters(model)
    if name == "RTVC-embed_utterance":
        model = models.Ge2eLstmEncoder().eval()
        mel = models.RtvcMel()
        return (lambda: models.rtvc_embed_utterance(model, mel, utterance)), count_parameters(model)
    frontends = {
        "logmel40": lambda: (models.VoxcelebLogMel(40, "hamming"), long_wave.unsqueeze(0)),
        "logmel64-preemph": lambda: (models.VoxcelebLogMel(64, "hamming", pre_emphasis=True), long_wave.unsqueeze(0)),
        "rtvc-mel": lambda: (models.RtvcMel(), long_wave),
        "kaldi-fbank80": lambda: (kaldi_fbank_wespeaker, long_wave.unsqueeze(0)),
    }
    if name in frontends:
        frontend, inputs = frontends[name]()
        return (lambda: frontend(inputs)), 0
    if train_bench.is_training_item(name):
        return train_bench.build_training_item(name, wave)
    raise KeyError(f"unknown benchmark item {name!r}")


def blas_library() -> str:
    """The BLAS torch's matmuls actually run on: torch's build flag plus the shared library mapped after a GEMM."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    build = match.group(1) if match else "?"
    libraries = set()
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in os.path.basename(path).lower() or "mkl_core" in path:
                    libraries.add(os.path.realpath(path))
    except OSError:
        pass
    return f"BLAS_INFO={build}; loaded: {', '.join(sorted(libraries)) or 'none found'}"


class Server:
    def __init__(self):
        self.items = {}

    def hello(self, _request):
        import torchaudio
        return {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "numpy": np.__version__,
                "python": sys.version.split()[0], "threads": torch.get_num_threads(), "blas": blas_library()}

    def sanity(self, request):
        return {"lines": run_sanity(request["fixtures"])}

    def prepare(self, request):
        wave = np.fromfile(request["waveFile"], dtype="<f4")
        frames = np.fromfile(request["framesFile"], dtype="<f4").reshape(-1, 40)
        with torch.inference_mode():
            call, parameters = build_item(request["name"], wave, frames)
            warmup_seconds = []
            for _ in range(max(1, int(request.get("warmup", 1)))):
                started = time.perf_counter()
                call()
                warmup_seconds.append(time.perf_counter() - started)
        self.items[request["name"]] = call
        return {"warmupSeconds": warmup_seconds, "parameters": parameters}

    def time(self, request):
        call = self.items[request["name"]]
        seconds = []
        with torch.inference_mode():
            for _ in range(int(request["iters"])):
                started = time.perf_counter()
                call()
                seconds.append(time.perf_counter() - started)
        return {"seconds": seconds}


def main():
    server = Server()
    handlers = {"hello": server.hello, "sanity": server.sanity, "prepare": server.prepare, "time": server.time}
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        if request.get("op") == "quit":
            break
        try:
            reply = {"ok": True, **handlers[request["op"]](request)}
        except Exception as error:  # reported to run.ts, which shows it in the table
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
