"""Mastering takes buffers of any length (segments are whole bars, so any frame count occurs);
the streaming meter of long renders measures as the whole-buffer functions do."""

from __future__ import annotations

import numpy as np

from lofi_worker import quality

SR = 48000


def test_master_takes_every_buffer_length() -> None:
    rng = np.random.default_rng(3)
    # 647166 frames failed once: its quarter-rate copy holds one leveler block more than it.
    for n in (647166, 647167, 647168, 647169, 10 * SR + 1):
        x = (0.1 * rng.standard_normal((2, n))).astype(np.float32)
        m = quality.master(x, SR, 4096, 4800, 2, None, smooth_from=False)
        assert m.audio.shape == (2, n - 4096 - 4800)
        assert abs(m.loudness_lufs - quality.TARGET_LUFS) <= quality.TOLERANCE_LU
        curve = quality.leveler_gain(x, SR)
        assert curve is not None and curve.shape == (n,) and np.all(np.isfinite(curve))


def test_stream_meter_matches_the_whole_buffer_measures() -> None:
    rng = np.random.default_rng(5)
    x = (0.05 * rng.standard_normal((2, 13 * SR))).astype(np.float32)
    x[:, 5 * SR : 5 * SR + SR // 2] = 0.0  # a 0.5 s gap that the chunks below cut in three
    meter = quality.StreamMeter(SR, 2)
    for a in range(0, x.shape[1], 9001):
        meter.add(x[:, a : a + 9001])
    assert abs(meter.loudness_lufs() - quality.integrated_loudness(x, SR)) < 1e-3
    assert meter.longest_silence_s == quality.longest_silence_s(x, SR) == 0.5
    assert meter.true_peak_dbtp == quality.true_peak_dbtp(x)
    assert meter.frames == x.shape[1]
