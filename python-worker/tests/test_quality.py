from __future__ import annotations

import numpy as np
import pytest

from lofi_worker import quality
from lofi_worker.backends.base import GenerationRequest
from lofi_worker.backends.procedural import ProceduralBackend

SR = 48000


def test_loudness_meter_matches_a_reference_sine() -> None:
    t = np.arange(10 * SR) / SR
    sine = 0.1 * np.sin(2 * np.pi * 1000 * t)
    # 1 kHz, both channels, amplitude 0.1: -20 LUFS (K-weighting is ~0 dB at 1 kHz).
    assert quality.integrated_loudness(np.stack([sine, sine]), SR) == pytest.approx(-20.0, abs=0.1)
    assert quality.integrated_loudness(sine[None, :], SR) == pytest.approx(-23.0, abs=0.1)


def test_true_peak_sees_inter_sample_overs() -> None:
    t = np.arange(SR) / SR
    x = np.sin(2 * np.pi * (SR / 4) * t + np.pi / 4)  # samples at ±0.707, true peak 1.0
    assert 20 * np.log10(np.max(np.abs(x))) == pytest.approx(-3.01, abs=0.01)
    assert quality.true_peak_dbtp(x[None, :]) == pytest.approx(0.0, abs=0.3)


@pytest.mark.parametrize("prompt", ["rainy day slow jazz with soft piano", "咖啡馆 爵士", "睡眠"])
def test_mastered_segment_passes_the_gate(prompt: str) -> None:
    r = ProceduralBackend().generate(GenerationRequest(prompt, 3, 12.0, 1.5, SR, None))
    m = quality.master(r.audio, SR, r.pre, r.post, 2, None, smooth_from=False)
    quality.check(m, r.file_audio(), SR)
    assert abs(m.loudness_lufs + 16.0) <= 1.0
    assert m.true_peak_dbtp <= -1.0
    assert quality.longest_silence_s(m.audio, SR) < 0.01  # zero crossings only
    assert m.audio.shape == (2, r.file_frames)
    mono = quality.master(r.audio, SR, r.pre, r.post, 1, None, smooth_from=False)
    assert mono.audio.shape == (1, r.file_frames) and abs(mono.loudness_lufs + 16) <= 1.0


def test_gate_rejects_silence_and_clipping() -> None:
    r = ProceduralBackend().generate(GenerationRequest("lofi", 3, 8.0, 1.5, SR, None))
    m = quality.master(r.audio, SR, r.pre, r.post, 2, None, smooth_from=False)
    m.audio[:, SR : SR + int(0.5 * SR)] = 0.0
    with pytest.raises(quality.QualityError, match="silence run"):
        quality.check(m, r.file_audio(), SR)
    clipped = np.clip(r.file_audio() * 20, -1, 1)
    m2 = quality.master(r.audio, SR, r.pre, r.post, 2, None, smooth_from=False)
    with pytest.raises(quality.QualityError, match="clipping"):
        quality.check(m2, clipped, SR)
    with pytest.raises(quality.QualityError, match="NaN"):
        quality.master(np.full((2, SR), np.nan), SR, 0, 0, 2, None, smooth_from=False)


def test_fast_meters_agree_with_the_plain_ones() -> None:
    from scipy import signal

    r = ProceduralBackend().generate(GenerationRequest("咖啡馆 爵士", 4, 10.0, 1.5, SR, None))
    m = quality.master(r.audio, SR, r.pre, r.post, 2, None, smooth_from=False)
    # True peak on hot intervals only == the peak of the whole signal oversampled 4x.
    full = signal.resample_poly(m.audio.astype(np.float64), 4, 1, axis=-1, window=_tp_window())
    assert quality.true_peak_dbtp(m.audio) == pytest.approx(
        20 * np.log10(np.max(np.abs(full))), abs=0.01
    )
    # The quarter-rate meter that picks the mastering gain tracks BS.1770 closely.
    exact = quality.integrated_loudness(m.audio, SR)
    assert quality.quick_loudness(m.audio, SR) == pytest.approx(exact, abs=0.05)
    # Stereo filtered as one complex signal == each channel on its own.
    sos = signal.butter(2, 3000, fs=SR, output="sos")
    per_channel = signal.sosfilt(sos, m.audio.astype(np.float64), axis=-1)
    assert np.max(np.abs(quality.sosfilt_audio(sos, m.audio) - per_channel)) < 1e-5


def _tp_window() -> np.ndarray:
    from scipy import signal

    return np.asarray(signal.firwin(49, 0.25 * 0.9, window=("kaiser", 8.0)))
