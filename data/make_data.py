"""Regenerate the bundled sample set in this folder: clips plus ``manifest.csv``.

Speech is SYNTHETIC: espeak-ng speaks each sentence at its native 22.05 kHz,
and soxr (``workbench.resampling.resample``, ``soxr_hq``) brings it to
44.1 or 48 kHz, the rates real recordings arrive at. Stereo clips carry the
same voice in both channels, the right one slightly later and quieter, as
from a spaced microphone pair.

The "stress" variants add realistic energy above 9 kHz (hiss, cymbal-like
bursts, a high whine) at a level comparable to the speech. A good resampler
removes it on the way to 16 kHz; a bad one folds it into the speech band,
which is what the workbench exists to show. Clean speech is forgiving; these
are not.

Everything is seeded, so a run reproduces the same samples (given the same
espeak-ng version).

Usage::

    python data/make_data.py            # rewrite the clips in data/
    python data/make_data.py --out DIR  # write them somewhere else
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from workbench.resampling import resample
from workbench.signals import band_limited_noise, fade, log_sweep, tone

HERE = Path(__file__).resolve().parent
MANIFEST = "manifest.csv"
COLUMNS = ("path", "language", "reference", "sample_rate", "channels", "source", "license")
LICENSE = "MIT"

ESPEAK = "espeak-ng"
ESPEAK_RATE = 22_050  # espeak-ng's native output rate (Hz)
ESPEAK_WPM = 175  # words per minute: espeak-ng's default, stated so a changed default cannot alter the clips
SUBTYPE = "PCM_16"
MIN_SPEECH_S = 1.5  # every sentence takes longer; less means espeak-ng skipped the text

SPEECH_PEAK = 0.5  # clean speech is normalised to -6 dBFS peak
MAX_PEAK = 0.95  # speech + stress is scaled down if it would exceed this
STEREO_DELAY_S = 0.25e-3  # right channel lags the left by 0.25 ms ...
STEREO_GAIN_DB = -1.0  # ... and is 1 dB quieter

STRESS_LOW_HZ = 9_000  # stress energy lives above this (Whisper's band ends at 8 kHz)
STRESS_SEED = 2024
CYMBAL_PERIOD_S = 0.6  # one crash every 0.6 s ...
CYMBAL_DECAY_S = 0.15  # ... decaying with this time constant ...
CYMBAL_ATTACK_S = 0.005  # ... after a smooth 5 ms onset (a hard onset would splatter below 9 kHz)
WHINE_HZ = 12_500  # naive 48k -> 16k decimation folds this to 3.5 kHz

SWEEP_RATE = 48_000
SWEEP_SECONDS = 4.0
SWEEP_F0, SWEEP_F1 = 50.0, 23_000.0


@dataclass(frozen=True)
class Sentence:
    """One sentence to synthesise; ``text`` is also the reference transcript."""

    language: str  # manifest language code
    voice: str  # espeak-ng voice
    text: str


SENTENCES = {
    # Colloquial written Cantonese, Traditional characters.
    "yue_yumcha": Sentence("yue", "yue", "我哋今日去飲茶，你嚟唔嚟呀？"),
    "yue_phone": Sentence("yue", "yue", "呢個係我嘅電話號碼，冇事唔好打俾我。"),
    "yue_tv": Sentence("yue", "yue", "佢食咗啲嘢，而家喺屋企睇緊電視。"),
    # Mandarin, Simplified characters. espeak-ng 1.51's plain ``cmn`` voice reads
    # the tone digits of its own dictionary aloud in English; ``cmn-latn-pinyin``
    # uses the same dictionary and pronounces the characters properly.
    "zh_hours": Sentence("zh", "cmn-latn-pinyin", "开放时间早上九点至下午五点。"),
    "en_weather": Sentence("en", "en-us", "The weather today is sunny, with a light breeze from the west."),
}


@dataclass(frozen=True)
class Spec:
    """One speech clip to write: which sentence, at what rate and layout, with which stress."""

    sentence: str
    rate: int
    channels: int
    stress: str | None = None  # a key of STRESSES
    level_db: float = 0.0  # stress RMS relative to the speech RMS (both over the whole clip)

    @property
    def filename(self) -> str:
        khz = f"{self.rate // 1000}k"
        suffix = "_stress" if self.stress else ("_stereo" if self.channels == 2 else "")
        return f"{self.sentence}_{khz}{suffix}.flac"


CLIPS = (
    Spec("yue_yumcha", 48_000, 2),
    Spec("yue_yumcha", 48_000, 1, "hiss", 0.0),
    Spec("yue_phone", 44_100, 1),
    Spec("yue_phone", 48_000, 1, "whine", -3.0),
    Spec("yue_tv", 48_000, 2),
    Spec("yue_tv", 48_000, 1, "cymbals", 0.0),
    Spec("zh_hours", 44_100, 1),
    Spec("zh_hours", 48_000, 1, "hiss", 0.0),
    Spec("en_weather", 44_100, 1),
    Spec("en_weather", 48_000, 1, "hiss", 0.0),
)


def synthesise(sentence: Sentence) -> np.ndarray:
    """Speak ``sentence`` with espeak-ng; float32 mono at :data:`ESPEAK_RATE`, peak-normalised."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run([ESPEAK, "-v", sentence.voice, "-s", str(ESPEAK_WPM), "-w", str(wav), sentence.text], check=True)
        x, sr = sf.read(wav, dtype="float32")
    if sr != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {sr} Hz, expected {ESPEAK_RATE} Hz")
    seconds = len(x) / sr
    if seconds < MIN_SPEECH_S or np.max(np.abs(x)) < 1e-3:
        raise RuntimeError(f"espeak-ng voice {sentence.voice!r} produced {seconds:.2f} s of audio for {sentence.text!r}")
    return (SPEECH_PEAK * x / np.max(np.abs(x))).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def steady_noise(n: int, sr: int, seed: int) -> np.ndarray:
    """Stationary noise confined to ``STRESS_LOW_HZ``..Nyquist, ``n`` samples, unit RMS.

    ``band_limited_noise`` is Hann-windowed over its whole length; generating
    three times the length and keeping the middle third, where the window is
    nearly flat, gives a steady hiss.
    """
    x = band_limited_noise(sr=sr, duration=3 * n / sr, low=STRESS_LOW_HZ, seed=seed)[n : 2 * n]
    return x / rms(x)


def hiss(n: int, sr: int) -> tuple[np.ndarray, str]:
    """Steady broadband hiss above 9 kHz (a noisy preamp, tape, a fan); unit RMS and its label."""
    return steady_noise(n, sr, STRESS_SEED), f"{STRESS_LOW_HZ // 1000}-{sr // 2000} kHz hiss"


def cymbals(n: int, sr: int) -> tuple[np.ndarray, str]:
    """A train of decaying noise bursts above 9 kHz, like a drummer's ride cymbal; unit RMS and its label."""
    t = np.arange(n) / sr
    since = np.mod(t, CYMBAL_PERIOD_S)
    attack = np.clip(since / CYMBAL_ATTACK_S, 0.0, 1.0)
    envelope = (0.5 - 0.5 * np.cos(np.pi * attack)) * np.exp(-since / CYMBAL_DECAY_S)
    x = steady_noise(n, sr, STRESS_SEED + 1) * envelope
    label = f"cymbal-like {STRESS_LOW_HZ // 1000}-{sr // 2000} kHz noise bursts every {CYMBAL_PERIOD_S} s"
    return x / rms(x), label


def whine(n: int, sr: int) -> tuple[np.ndarray, str]:
    """A steady high-pitched tone (electronics, a monitor); unit RMS and its label."""
    x = tone(WHINE_HZ, sr=sr, duration=n / sr)
    return x / rms(x), f"{WHINE_HZ / 1000:g} kHz whine"


STRESSES = {"hiss": hiss, "cymbals": cymbals, "whine": whine}


def make_clip(spec: Spec, speech: np.ndarray) -> tuple[np.ndarray, str]:
    """Resample ``speech`` (at :data:`ESPEAK_RATE`) to ``spec``; returns (frames[, channels]) and its source label."""
    sentence = SENTENCES[spec.sentence]
    x = resample(speech, ESPEAK_RATE, spec.rate)
    source = f"synthetic speech (espeak-ng {sentence.voice}), resampled to {spec.rate / 1000:g} kHz with soxr_hq"
    if spec.stress:
        noise, label = STRESSES[spec.stress](len(x), spec.rate)
        x = x + rms(x) * 10 ** (spec.level_db / 20) * noise
        x = fade(x * min(1.0, MAX_PEAK / np.max(np.abs(x))), sr=spec.rate)
        source += f" + {label} at {spec.level_db:g} dB"
    if spec.channels == 2:
        delay = int(round(STEREO_DELAY_S * spec.rate))
        right = 10 ** (STEREO_GAIN_DB / 20) * np.concatenate([np.zeros(delay, np.float32), x[:-delay]])
        x = np.stack([x, right], axis=1)
        source += f"; stereo, right channel {STEREO_DELAY_S * 1e3:g} ms later and {-STEREO_GAIN_DB:g} dB quieter"
    return x.astype(np.float32), source


def row(path: str, audio: np.ndarray, rate: int, source: str, sentence: Sentence | None = None) -> dict:
    return {
        "path": path,
        "language": sentence.language if sentence else "",
        "reference": sentence.text if sentence else "",
        "sample_rate": rate,
        "channels": 1 if audio.ndim == 1 else audio.shape[1],
        "source": source,
        "license": LICENSE,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, metavar="DIR", help="folder to write the clips and manifest.csv into (default: %(default)s)")
    args = parser.parse_args(argv)
    if shutil.which(ESPEAK) is None:
        sys.exit(f"{ESPEAK} is needed to synthesise the speech clips; install it (Debian/Ubuntu: apt-get install espeak-ng) and run again.")
    args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    speech = {key: synthesise(sentence) for key, sentence in SENTENCES.items()}
    for spec in CLIPS:
        audio, source = make_clip(spec, speech[spec.sentence])
        sf.write(args.out / spec.filename, audio, spec.rate, subtype=SUBTYPE)
        rows.append(row(spec.filename, audio, spec.rate, source, SENTENCES[spec.sentence]))

    sweep = log_sweep(sr=SWEEP_RATE, duration=SWEEP_SECONDS, f0=SWEEP_F0, f1=SWEEP_F1)
    sweep_name = f"sweep_{SWEEP_RATE // 1000}k.flac"
    sf.write(args.out / sweep_name, sweep, SWEEP_RATE, subtype=SUBTYPE)
    sweep_source = f"synthetic log sweep {SWEEP_F0:g} Hz-{SWEEP_F1 / 1000:g} kHz, {SWEEP_SECONDS:g} s (workbench.signals.log_sweep)"
    rows.append(row(sweep_name, sweep, SWEEP_RATE, sweep_source))

    with open(args.out / MANIFEST, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} clips and {MANIFEST} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
