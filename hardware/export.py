"""Target files: RRAM per-tile conductance maps (HDF5) and FPGA weight-memory init files (hex ``.mem``) + manifest.

**RRAM** (:func:`export_rram`), one HDF5 file written atomically (:mod:`snn.io.atomic`: a sibling file, fsync,
rename). Root attributes: ``format = "snn-hal-rram/1"``, ``target``, ``network``, ``g_min_us``, ``g_max_us``,
``n_levels``, ``differential``, ``programmed`` (whether the maps hold programmed, noisy values). Group
``tiles/<index>`` per tile:

- ``g`` (float64, ``tile_rows × tile_cols``, µS): the conductance map; unused cells at ``g_min``. With differential
  pairs, neuron ``n`` of the tile uses columns ``2n`` (G⁺) and ``2n + 1`` (G⁻);
- ``row_source`` (strings) and ``row_index`` (int64), one per used row: the presynaptic unit driving the row
  (``"<pre>#<projection>"`` for rows a projection holds alone);
- ``col_neuron`` (int64), one per used neuron column (pair): the postsynaptic neuron;
- ``k_mV_per_uS`` (attribute): weight = ``k (G⁺ - G⁻)``;
- ``program_order`` (int64, ``n × 2``): (row, column) of every device to program, row by row (word line at a
  time, as 1T1R arrays are written), columns ascending; only devices above ``g_min`` are listed (the rest stay
  in the reset state);
- attributes ``post``, ``group``, ``row_block``, ``col_block``.

:func:`read_rram_weights` rebuilds every projection's weights from such a file (used by the tests).

**FPGA** (:func:`export_fpga`): per projection ``<projection>.mem``: one weight per line as a ``W``-bit two's
complement hex word (``ceil(W/4)`` digits, Verilog ``$readmemh``), in CSR order (synapses of presynaptic unit 0
first, postsynaptic index ascending), with ``<projection>.idx.mem`` holding the postsynaptic index of each word and
``<projection>.ptr.mem`` the CSR row pointers (both unsigned, 32-bit hex). ``manifest.json`` lists the formats
(``ap_fixed<W,I,Q,O>``), scales (mV per LSB), shapes, files and the population parameters as stored. Every file
is written atomically; the manifest last, so a directory with a manifest is complete.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from hardware.fixed_point import ApFixed, from_hex_words
from hardware.mapping import MappedNetwork
from hardware.rram import ProgrammedNetwork
from hardware.targets import FPGAFixed, RRAMCrossbar
from snn.errors import ConfigError
from snn.io.atomic import commit, discard, temporary_path

RRAM_FORMAT = "snn-hal-rram/1"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def export_rram(obj: MappedNetwork | ProgrammedNetwork, path: str | os.PathLike[str], t_s: float | None = None) -> Path:
    """Write the per-tile conductance maps of a mapped (targets) or programmed network (at ``t_s`` seconds, default
    right after programming) to ``path`` (HDF5, atomic). Returns the path."""
    programmed = isinstance(obj, ProgrammedNetwork)
    mapped = obj.mapped if programmed else obj
    if not isinstance(mapped, MappedNetwork) or not isinstance(mapped.target, RRAMCrossbar):
        raise ConfigError("hardware.export_rram", type(obj).__name__, "must be a network mapped to an RRAM target")
    t = mapped.target
    maps = {tile.index: np.full((t.tile_rows, t.tile_cols), t.g_min_us) for tile in mapped.tiles}
    ks: dict[int, float] = {}
    g_now = obj.conductances(t.drift_t0_s if t_s is None else t_s) if programmed else None
    for name, qp in mapped.projections.items():
        gp, gm = g_now[name] if g_now is not None else (qp.g_plus, qp.g_minus)
        for tile in np.unique(qp.tile):
            sel = qp.tile == tile
            maps[int(tile)][qp.row[sel], qp.col[sel]] = gp[sel]
            if t.differential:
                maps[int(tile)][qp.row[sel], qp.col[sel] + 1] = gm[sel]
            ks[int(tile)] = qp.k
    target = Path(path)
    tmp = temporary_path(target)
    try:
        with h5py.File(tmp, "w") as f:
            f.attrs.update({"format": RRAM_FORMAT, "target": t.name, "network": mapped.network.name,
                            "g_min_us": t.g_min_us, "g_max_us": t.g_max_us, "n_levels": t.n_levels,
                            "differential": t.differential, "programmed": programmed})
            grp = f.create_group("tiles")
            for tile in mapped.tiles:
                g = grp.create_group(str(tile.index))
                g.create_dataset("g", data=maps[tile.index], compression="gzip")
                g.create_dataset("row_source", data=np.array(tile.row_source, dtype=h5py.string_dtype()))
                g.create_dataset("row_index", data=tile.row_index)
                g.create_dataset("col_neuron", data=tile.col_neuron)
                rows, cols = np.nonzero(maps[tile.index] > t.g_min_us)
                g.create_dataset("program_order", data=np.stack([rows, cols], axis=1).astype(np.int64))
                g.attrs.update({"post": tile.post, "group": tile.group, "row_block": tile.row_block,
                                "col_block": tile.col_block, "k_mV_per_uS": ks.get(tile.index, 0.0)})
        commit(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    return target


def read_rram_weights(path: str | os.PathLike[str], mapped: MappedNetwork) -> dict[str, np.ndarray]:
    """Weights (mV) per projection rebuilt from a conductance-map file: ``k (G⁺ - G⁻)`` at each synapse's cells,
    located through the file's row and column addresses (not through the mapping's own arrays)."""
    out = {}
    with h5py.File(path, "r") as f:
        if f.attrs.get("format") != RRAM_FORMAT:
            raise ConfigError("hardware.read_rram_weights", str(path), f"is not a {RRAM_FORMAT} file")
        diff = bool(f.attrs["differential"])
        g_min = float(f.attrs["g_min_us"])
        tiles = {}
        for key in f["tiles"]:
            g = f["tiles"][key]
            src = [s.decode() if isinstance(s, bytes) else s for s in g["row_source"][()]]
            rowmap = {(s, int(i)): r for r, (s, i) in enumerate(zip(src, g["row_index"][()]))}
            colmap = {int(n): c for c, n in enumerate(g["col_neuron"][()])}
            tiles[int(key)] = (g["g"][()], rowmap, colmap, float(g.attrs["k_mV_per_uS"]))
        for p in mapped.network.projections:
            tile_of = mapped.projections[p.name].tile  # which tile holds a synapse: the file's group name
            pre = p.connectivity.pre_indices()
            post = p.connectivity.indices
            w = np.zeros(pre.size)
            for tile in np.unique(tile_of):
                gmap, rowmap, colmap, k = tiles[int(tile)]
                sel = np.flatnonzero(tile_of == tile)
                own = f"{p.pre}#{p.name}"  # rows of their own when two projections share cells
                rows = np.array([rowmap.get((own, int(i)), rowmap.get((p.pre, int(i)), -1)) for i in pre[sel]],
                                dtype=np.int64)
                cols = np.array([colmap[int(j)] for j in post[sel]], dtype=np.int64) * (2 if diff else 1)
                gm = gmap[rows, cols + 1] if diff else g_min
                w[sel] = k * (gmap[rows, cols] - gm)
            out[p.name] = w
    return out


def export_fpga(mapped: MappedNetwork, directory: str | os.PathLike[str]) -> Path:
    """Write ``.mem`` files and ``manifest.json`` for a network mapped to an FPGA target; returns the manifest path."""
    if not isinstance(mapped, MappedNetwork) or not isinstance(mapped.target, FPGAFixed):
        raise ConfigError("hardware.export_fpga", type(mapped).__name__, "must be a network mapped to an FPGA target")
    t = mapped.target
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    fmt = t.weight_format
    manifest: dict[str, Any] = {"format": "snn-hal-fpga/1", "target": t.name, "network": mapped.network.name,
                                "dt_s": mapped.network.dt, "weight_format": str(fmt),
                                "state_format": str(t.state_format), "accum_format": str(t.accum_format),
                                "reuse_factor": mapped.check.reuse_factor or t.reuse_factor,
                                "clock_mhz": t.clock_mhz, "layout": "CSR: words in presynaptic order, postsynaptic "
                                "index ascending; idx = postsynaptic index per word; ptr = row pointers",
                                "projections": {}, "populations": {}}
    for p in mapped.network.projections:
        qp = mapped.projections[p.name]
        stem = _safe(p.name)
        files = {"weights": f"{stem}.mem", "index": f"{stem}.idx.mem", "pointer": f"{stem}.ptr.mem"}
        _write_lines(d / files["weights"], fmt.hex_words(qp.codes))
        _write_lines(d / files["index"], [format(int(i), "08x") for i in p.connectivity.indices])
        _write_lines(d / files["pointer"], [format(int(i), "08x") for i in p.connectivity.indptr])
        manifest["projections"][p.name] = {"pre": p.pre, "post": p.post, "target": p.target,
                                           "n_pre": p.connectivity.n_pre, "n_post": p.connectivity.n_post,
                                           "synapses": p.connectivity.nnz, "files": files,
                                           "mV_per_lsb": qp.scale, "delays_steps": int(p.max_delay)}
    for pop in mapped.network.populations:
        manifest["populations"][pop.name] = {"size": pop.size, "scale_mV_per_unit": mapped.scales.get(pop.name, 1.0),
                                             **{k: v for k, v in pop.model.as_dict().items()
                                                if not isinstance(v, list)}}
    out = d / "manifest.json"
    from snn.io.atomic import write_json

    write_json(out, manifest)
    return out


def read_mem(path: str | os.PathLike[str], fmt: ApFixed | str) -> np.ndarray:
    """Stored integers of a ``.mem`` file written by :func:`export_fpga` (``fmt`` its weight format)."""
    f = fmt if isinstance(fmt, ApFixed) else ApFixed.parse(fmt)
    words = [w.strip() for w in Path(path).read_text().splitlines() if w.strip()]
    return from_hex_words(words, f)


def _write_lines(path: Path, lines: list[str]) -> None:
    tmp = temporary_path(path)
    try:
        tmp.write_text("\n".join(lines) + ("\n" if lines else ""))
        commit(tmp, path)
    except BaseException:
        discard(tmp)
        raise
