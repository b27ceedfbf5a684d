"""Regenerate the bundled sample set in this folder: clips plus ``manifest.csv``.

Two kinds of speech:

* **Real Cantonese**, the diagnosis set. Two read-speech recordings from
  FLEURS (CC BY 4.0), kept as their original 16 kHz files in
  ``originals/``, are brought to the rates real files arrive at (44.1 and
  48 kHz, with soxr VHQ) and laid out as real files are: mono or stereo
  with a realistic inter-channel delay, one as an MP3. Stress variants add
  realistic energy above 8 kHz (hiss, cymbal-like bursts, a high whine,
  broadband music-like content) at a level comparable to the speech, and a
  polarity-inverted stereo pair shows what a down-mix can do. Upsampled
  16 kHz speech carries nothing above 8 kHz itself, so everything above
  8 kHz in a stress clip is the added stress.
* **Synthetic English** (espeak-ng), which Whisper understands, and a log
  sweep: teaching material, labelled synthetic.

A good resampler removes the stress energy on the way to 16 kHz; a bad one
folds it into the speech band, which is what the workbench exists to show.
Clean speech is forgiving; the stress clips are not.

Everything is seeded, so a run reproduces the same samples (given the same
espeak-ng and LAME versions for the synthetic English and the MP3).

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
from workbench.signals import band_limited_noise, fade, log_sweep

HERE = Path(__file__).resolve().parent
ORIGINALS = HERE / "originals"
MANIFEST = "manifest.csv"
COLUMNS = ("path", "language", "reference", "recording", "condition", "sample_rate", "channels", "source", "license")

ESPEAK = "espeak-ng"
ESPEAK_RATE = 22_050  # espeak-ng's native output rate (Hz)
ESPEAK_WPM = 175  # words per minute: espeak-ng's default, stated so a changed default cannot alter the clips
SUBTYPE = "PCM_16"
MIN_SPEECH_S = 1.5  # every sentence takes longer; less means espeak-ng skipped the text
UPSAMPLER = "soxr_vhq"  # how real 16 kHz speech is brought to 44.1/48 kHz

SPEECH_PEAK = 0.5  # speech is normalised to -6 dBFS peak
MAX_PEAK = 0.95  # speech + stress is scaled down if it would exceed this
STEREO_DELAY_S = 0.3e-3  # right channel lags the left by 0.3 ms (about 10 cm more path) ...
STEREO_GAIN_DB = -1.0  # ... and is 1 dB quieter

STRESS_LOW_HZ = 9_000  # stress energy lives above this (Whisper's band ends at 8 kHz) ...
STRESS_HIGH_HZ = 18_000  # ... and below this, as in most material that has been through a lossy codec once
STRESS_SEED = 2024
CYMBAL_PERIOD_S = 0.6  # one crash every 0.6 s ...
CYMBAL_DECAY_S = 0.15  # ... decaying with this time constant ...
CYMBAL_ATTACK_S = 0.005  # ... after a smooth 5 ms onset (a hard onset would splatter below 9 kHz)
WHINE_HZ = (
    10_300,
    12_500,
    13_900,
    15_600,
)  # an electronic whine's tones; naive 48k -> 16k decimation folds them to 5.7, 3.5, 2.1 and 0.4 kHz
WHINE_DRIFT = 0.01  # each tone drifts by 1 % ...
WHINE_DRIFT_HZ = 0.7  # ... at this rate, as a switching supply's does under a changing load
MUSIC_NOTE_S = 0.4  # a new chord every 0.4 s
MUSIC_LOW_DB = -20.0  # the music's share below 8 kHz, relative to its share above 9 kHz
MUSIC_ROOTS_HZ = (220.0, 261.63, 196.0, 246.94)  # A3 C4 G3 B3: a chord progression, played as major triads

MP3_BITRATE = "128k"
#: Stress clips are stored with this many bits of resolution (FLAC then skips the unused low
#: bits): the rounding noise lies more than 40 dB below the added stress, and keeps data/ small.
STRESS_BITS = 12

SWEEP_RATE = 48_000
SWEEP_SECONDS = 4.0
SWEEP_F0, SWEEP_F1 = 50.0, 23_000.0

FLEURS_SOURCE = "FLEURS (google/fleurs, yue_hant_hk, test split; Conneau et al. 2022), real read speech"
FLEURS_LICENSE = "CC BY 4.0; attribution: FLEURS, Conneau et al. 2022"
SYNTHETIC_LICENSE = "MIT"


@dataclass(frozen=True)
class Recording:
    """A real recording kept in ``originals/``; ``text`` is its reference transcript."""

    language: str
    original: str  # file name in originals/
    text: str


RECORDINGS = {
    "yue_liberation": Recording(
        "yue",
        "yue_fleurs_liberation_16k.flac",
        "在短短兩週內美軍和自由法國軍就解放了南法並轉向德國",
    ),
    "yue_speech": Recording(
        "yue",
        "yue_fleurs_speech_16k.flac",
        "奧利佛‧薩克斯在他的文章〈總統的演講〉中指出因為腦部受損而無法理解演講內容的人仍然可以準確感受到演講者的誠意",
    ),
}


@dataclass(frozen=True)
class Sentence:
    """One synthetic sentence; ``text`` is also the reference transcript."""

    language: str  # manifest language code
    voice: str  # espeak-ng voice
    text: str


SENTENCES = {
    "en_weather": Sentence("en", "en-us", "The weather today is sunny, with a light breeze from the west."),
}


@dataclass(frozen=True)
class Spec:
    """One clip to write: which speech, at what rate and layout, with which stress."""

    speech: str  # a key of RECORDINGS or SENTENCES
    rate: int
    channels: int = 1
    stress: str | None = None  # a key of STRESSES
    level_db: float = 0.0  # stress RMS relative to the speech RMS (both over the whole clip)
    inverted: bool = False  # stereo with the right channel's polarity inverted (a wiring fault)
    fmt: str = "flac"

    @property
    def condition(self) -> str:
        if self.stress:
            return self.stress
        if self.inverted:
            return "polarity-inverted stereo"
        return "clean"  # mono or stereo: the layout is in the file name and the channels column

    @property
    def filename(self) -> str:
        khz = f"{self.rate / 1000:g}".split(".")[0] + "k"
        if self.stress:
            suffix = f"_{self.stress}"
        elif self.inverted:
            suffix = "_inverted"
        else:
            suffix = "_stereo" if self.channels == 2 else ""
        return f"{self.speech}_{khz}{suffix}.{self.fmt}"


CLIPS = (
    # Real Cantonese: each recording at 44.1 and 48 kHz (one of them stereo, one as an MP3), four stresses, one inverted pair.
    Spec("yue_liberation", 44_100),
    Spec("yue_liberation", 48_000, channels=2),
    Spec("yue_liberation", 48_000, stress="hiss"),
    Spec("yue_liberation", 48_000, stress="cymbals"),
    Spec("yue_liberation", 48_000, stress="whine"),
    Spec("yue_liberation", 48_000, stress="music"),
    Spec("yue_liberation", 48_000, channels=2, inverted=True),
    Spec("yue_speech", 48_000),
    Spec("yue_speech", 44_100, channels=2, fmt="mp3"),
    Spec("yue_speech", 48_000, stress="hiss"),
    Spec("yue_speech", 48_000, stress="cymbals"),
    Spec("yue_speech", 48_000, stress="whine"),
    Spec("yue_speech", 48_000, stress="music"),
    # Synthetic English, which Whisper base understands.
    Spec("en_weather", 44_100),
    Spec("en_weather", 48_000, stress="hiss"),
)


def synthesise(sentence: Sentence) -> tuple[np.ndarray, int]:
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
    return (SPEECH_PEAK * x / np.max(np.abs(x))).astype(np.float32), sr


def original(recording: Recording, folder: Path = ORIGINALS) -> tuple[np.ndarray, int]:
    """The real recording from ``originals/``, mono float32, peak-normalised."""
    x, sr = sf.read(folder / recording.original, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    return (SPEECH_PEAK * x / np.max(np.abs(x))).astype(np.float32), sr


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def steady_noise(n: int, sr: int, seed: int) -> np.ndarray:
    """Stationary noise confined to ``STRESS_LOW_HZ``..Nyquist, ``n`` samples, unit RMS.

    ``band_limited_noise`` is Hann-windowed over its whole length; generating
    three times the length and keeping the middle third, where the window is
    nearly flat, gives a steady hiss.
    """
    x = band_limited_noise(sr=sr, duration=3 * n / sr, low=STRESS_LOW_HZ, high=STRESS_HIGH_HZ, seed=seed)[n : 2 * n]
    return x / rms(x)


def hiss(n: int, sr: int) -> tuple[np.ndarray, str]:
    """Steady broadband hiss above 9 kHz (a noisy preamp, tape, a fan); unit RMS and its label."""
    return steady_noise(n, sr, STRESS_SEED), f"{STRESS_LOW_HZ // 1000}-{STRESS_HIGH_HZ // 1000} kHz hiss"


def cymbals(n: int, sr: int) -> tuple[np.ndarray, str]:
    """A train of decaying noise bursts above 9 kHz, like a drummer's ride cymbal; unit RMS and its label."""
    t = np.arange(n) / sr
    since = np.mod(t, CYMBAL_PERIOD_S)
    attack = np.clip(since / CYMBAL_ATTACK_S, 0.0, 1.0)
    envelope = (0.5 - 0.5 * np.cos(np.pi * attack)) * np.exp(-since / CYMBAL_DECAY_S)
    x = steady_noise(n, sr, STRESS_SEED + 1) * envelope
    label = f"cymbal-like {STRESS_LOW_HZ // 1000}-{STRESS_HIGH_HZ // 1000} kHz noise bursts every {CYMBAL_PERIOD_S} s"
    return x / rms(x), label


def whine(n: int, sr: int) -> tuple[np.ndarray, str]:
    """A high electronic whine: a few steady tones above 10 kHz that drift slightly together; unit RMS and its label."""
    t = np.arange(n) / sr
    x = np.zeros(n)
    for i, f in enumerate(WHINE_HZ):
        drift = WHINE_DRIFT * f / (2 * np.pi * WHINE_DRIFT_HZ) * np.sin(2 * np.pi * WHINE_DRIFT_HZ * t + i)
        x += np.sin(2 * np.pi * f * t + drift)
    tones = "/".join(f"{f / 1000:g}" for f in WHINE_HZ)
    return (x / rms(x)).astype(np.float32), f"electronic whine ({tones} kHz tones drifting {WHINE_DRIFT:.0%})"


def music(n: int, sr: int) -> tuple[np.ndarray, str]:
    """Bright music-like content: a chord progression of harmonic-rich notes, unit RMS, and its label.

    Each note is a bowed-string-like tone whose harmonics (1/k amplitudes)
    reach the Nyquist frequency; the spectrum is then shaped so that what
    lies below 8 kHz (where it would mask the speech for every resampler
    alike) sits :data:`MUSIC_LOW_DB` below what lies above 9 kHz, as in a
    bright mix heard under speech.
    """
    t = np.arange(n) / sr
    x = np.zeros(n)
    rng = np.random.default_rng(STRESS_SEED + 2)
    for start in np.arange(0.0, n / sr, MUSIC_NOTE_S):
        root = MUSIC_ROOTS_HZ[int(round(start / MUSIC_NOTE_S)) % len(MUSIC_ROOTS_HZ)]
        seg = (t >= start) & (t < start + MUSIC_NOTE_S)
        local = t[seg] - start
        envelope = np.minimum(local / 0.01, 1.0) * np.exp(-local / (2 * MUSIC_NOTE_S))
        for ratio in (1.0, 1.26, 1.5):  # a major triad
            f0 = root * ratio
            for k in range(1, int(0.5 * sr / f0)):
                x[seg] += envelope * np.sin(2 * np.pi * k * f0 * local + rng.uniform(0, 2 * np.pi)) / k
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(n, 1 / sr)
    low = 10 ** (MUSIC_LOW_DB / 20)
    gain = np.interp(
        f, [0.0, 8_000.0, float(STRESS_LOW_HZ), float(STRESS_HIGH_HZ), STRESS_HIGH_HZ + 1_000.0, sr / 2], [low, low, 1.0, 1.0, 0.0, 0.0]
    )
    x = np.fft.irfft(spec * gain, n)
    return (x / rms(x)).astype(
        np.float32
    ), f"bright music-like chords (harmonics to {STRESS_HIGH_HZ // 1000} kHz; {-MUSIC_LOW_DB:g} dB less below 8 kHz)"


STRESSES = {"hiss": hiss, "cymbals": cymbals, "whine": whine, "music": music}


def make_clip(spec: Spec, speech: np.ndarray, speech_rate: int, origin: str) -> tuple[np.ndarray, str]:
    """Bring ``speech`` to ``spec``; returns (frames[, channels]) and its source label."""
    x = resample(speech, speech_rate, spec.rate, UPSAMPLER)
    source = f"{origin}, resampled from {speech_rate / 1000:g} to {spec.rate / 1000:g} kHz with {UPSAMPLER}"
    if spec.stress:
        noise, label = STRESSES[spec.stress](len(x), spec.rate)
        x = x + rms(x) * 10 ** (spec.level_db / 20) * noise
        x = fade(x * min(1.0, MAX_PEAK / np.max(np.abs(x))), sr=spec.rate)
        step = 2.0 ** (1 - STRESS_BITS)
        x = np.round(x / step) * step
        source += f" + {label} at {spec.level_db:g} dB; stored at {STRESS_BITS}-bit resolution"
    if spec.inverted:
        # One microphone recorded on both channels through a miswired (pin 2/3 swapped) cable on the right:
        # the channels are exact opposites and their mean is silence.
        x = np.stack([x, -x], axis=1)
        source += (
            "; dual-mono (one microphone on both channels), the right channel's polarity inverted by a miswired cable:"
            " the mean down-mix is silence"
        )
    elif spec.channels == 2:
        delay = int(round(STEREO_DELAY_S * spec.rate))
        right = 10 ** (STEREO_GAIN_DB / 20) * np.concatenate([np.zeros(delay, np.float32), x[:-delay]])
        x = np.stack([x, right], axis=1)
        source += f"; stereo, right channel {STEREO_DELAY_S * 1e3:g} ms later and {-STEREO_GAIN_DB:g} dB quieter"
    return x.astype(np.float32), source


def write_audio(path: Path, audio: np.ndarray, rate: int, fmt: str) -> None:
    """FLAC (16-bit) directly; MP3 by way of a 16-bit WAV through FFmpeg's LAME encoder."""
    if fmt == "flac":
        sf.write(path, audio, rate, subtype=SUBTYPE)
        return
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        sys.exit("ffmpeg is needed to write the MP3 clip; install it (Debian/Ubuntu: apt-get install ffmpeg) and run again.")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "clip.wav"
        sf.write(wav, audio, rate, subtype=SUBTYPE)
        cmd = [
            ffmpeg,
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "libmp3lame",
            "-b:a",
            MP3_BITRATE,
            "-map_metadata",
            "-1",
            "-fflags",
            "+bitexact",
            str(path),
        ]
        subprocess.run(cmd, check=True)


def row(
    path: str, audio: np.ndarray, spec: Spec | None, source: str, language: str = "", reference: str = "", license: str = SYNTHETIC_LICENSE
) -> dict:
    return {
        "path": path,
        "language": language,
        "reference": reference,
        "recording": spec.speech if spec else "",
        "condition": spec.condition if spec else "",
        "sample_rate": spec.rate if spec else SWEEP_RATE,
        "channels": 1 if audio.ndim == 1 else audio.shape[1],
        "source": source,
        "license": license,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=HERE, metavar="DIR", help="folder to write the clips and manifest.csv into (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    if shutil.which(ESPEAK) is None:
        sys.exit(
            f"{ESPEAK} is needed to synthesise the English clips; install it (Debian/Ubuntu: apt-get install espeak-ng) and run again."
        )
    args.out.mkdir(parents=True, exist_ok=True)

    rows = []
    for spec in CLIPS:
        if spec.speech in RECORDINGS:
            rec = RECORDINGS[spec.speech]
            speech, rate = original(rec)
            audio, source = make_clip(spec, speech, rate, FLEURS_SOURCE)
            meta = dict(language=rec.language, reference=rec.text, license=FLEURS_LICENSE)
        else:
            sentence = SENTENCES[spec.speech]
            speech, rate = synthesise(sentence)
            audio, source = make_clip(spec, speech, rate, f"SYNTHETIC speech (espeak-ng {sentence.voice})")
            meta = dict(language=sentence.language, reference=sentence.text)
        write_audio(args.out / spec.filename, audio, spec.rate, spec.fmt)
        rows.append(row(spec.filename, audio, spec, source, **meta))

    sweep = log_sweep(sr=SWEEP_RATE, duration=SWEEP_SECONDS, f0=SWEEP_F0, f1=SWEEP_F1)
    sweep_name = f"sweep_{SWEEP_RATE // 1000}k.flac"
    sf.write(args.out / sweep_name, sweep, SWEEP_RATE, subtype=SUBTYPE)
    sweep_source = f"synthetic log sweep {SWEEP_F0:g} Hz-{SWEEP_F1 / 1000:g} kHz, {SWEEP_SECONDS:g} s (workbench.signals.log_sweep)"
    rows.append(row(sweep_name, sweep, None, sweep_source))

    with open(args.out / MANIFEST, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} clips and {MANIFEST} to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
