"""Whisper's audio front end in numbers, shared by every module that needs them.

A leaf module: it imports nothing from the workbench, so the lowest layers
(audio loading, resampling, spectrograms, model conversion) can all take
their constants from here without importing one another.
"""

from __future__ import annotations

#: Whisper's input sample rate (Hz); its log-mel features exist only at this rate.
SAMPLE_RATE = 16_000
#: Whisper's STFT size and hop (samples at 16 kHz): 25 ms windows every 10 ms.
N_FFT = 400
HOP_LENGTH = 160
