from __future__ import annotations

import numpy as np
import pytest

from lofi_worker.store import SegmentStore, StoreKeyError, meta_key_for


@pytest.mark.parametrize(
    "key",
    [
        "/abs/stations/a/segments/x.flac",
        "stations/a/../../x.flac",
        "stations/a/segments/..",
        "..",
        "stations//x",
        "stations\\a\\x",
        "stations/a/./x",
        "",
        "stations/a/seg ments/x",
    ],
)
def test_unsafe_keys_are_refused(store: SegmentStore, key: str) -> None:
    with pytest.raises(StoreKeyError):
        store.path(key)


def test_symlink_escape_is_refused(store: SegmentStore, tmp_path: object) -> None:
    store.root.mkdir(parents=True)
    (store.root / "stations").symlink_to("/tmp")
    with pytest.raises(StoreKeyError):
        store.path("stations/x.flac")


def test_atomic_writes_round_trip(store: SegmentStore) -> None:
    key = "stations/a/segments/000001.flac"
    audio = (0.5 * np.sin(np.linspace(0, 200, 4800 * 2))).reshape(2, -1)
    path = store.write_flac(key, audio, 48000)
    assert path.is_relative_to(store.root)
    back, sr = store.read_flac(key)
    assert sr == 48000 and back.shape == audio.shape
    assert np.max(np.abs(back - audio)) < 1e-6  # 24-bit
    store.write_json(meta_key_for(key), {"ok": True})
    assert store.read_json("stations/a/segments/000001.json") == {"ok": True}
    leftovers = [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_meta_key() -> None:
    assert meta_key_for("stations/a/segments/1.flac") == "stations/a/segments/1.json"
    with pytest.raises(StoreKeyError):
        meta_key_for("stations/a/segments/1.wav")


def test_written_files_are_world_readable(store: SegmentStore) -> None:
    path = store.write_json("stations/a/segments/1.json", {})
    assert path.stat().st_mode & 0o777 == 0o644
