"""Estimates without a toolchain: cores/tiles, memory, utilisation, latency, throughput and energy per time step.

Everything here is a first-order model whose constants come from the target profile (each with its source or
``[assumed]`` in ``configs/targets/*.toml``). With ``ν`` the mean rate (Hz) of every presynaptic unit:

- synaptic operations per step ``S = Σ_projections nnz · ν · dt``; neuron updates per step ``N`` = neurons;
- energy per step ``E = S · e_syn + N · e_neuron`` (+ RRAM: ``n_columns_used · e_adc``, one conversion per used
  column per step). RRAM ``e_syn = 2 · V_read² · Ḡ · t_read`` for a pair, ``Ḡ`` the mean programmed conductance
  (µS); FPGA ``e_syn = energy_per_mac_j``;
- latency per step: digital chips ``max over cores (S_core · t_syn + N_core · t_neuron)`` with ``S_core`` the
  synaptic operations onto the core's neurons (cores packed as :func:`hardware.check.core_slices`); RRAM
  ``t_read`` (tiles read in parallel) + the periphery's neuron time; FPGA ``(N_PE + RF · ceil(S_PE / N_PE)) / f_clk``
  (one synapse per cycle per PE, each multiplier shared ``RF`` times) — rough; throughput = 1 / latency;
- memory bits: weights ``nnz · weight_bits`` (+ ``ceil(log2 n_post)`` index bits per synapse for sparse storage on
  digital targets), state ``neurons · state_bits · (1 + synaptic currents)``; RRAM: devices (2 per synapse when
  differential) and cells of the used tiles.

:func:`fpga_resources` (used by the check's budget rules): BRAM ``ceil((weight bits + state bits) / 36,864)``;
DSP ``ceil(decay multiplies per step / RF)`` (spikes are binary, so synapses need adders, not multipliers; every
decaying variable of every neuron needs one multiply per step); LUT ``ceil(neurons · accum_W · 2 · variables / RF)``
[assumed: about two LUTs per accumulator bit].
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from hardware.check import core_slices, fan_in, synapse_kinds, time_constants
from hardware.mapping import MappedNetwork, rram_tiles
from hardware.targets import FPGAFixed, RRAMCrossbar, TargetProfile
from snn.errors import ConfigError
from snn.model.network import Network

BRAM_BITS = 36 * 1024


def _state_vars(net: Network) -> int:
    return sum(p.size * (1 + len(synapse_kinds(net, p))) for p in net.populations)


def fpga_resources(net: Network, t: FPGAFixed, reuse_factor: int | None = None) -> dict[str, int]:
    """BRAM (36 Kb), DSP and LUT counts of ``net`` on ``t`` at ``reuse_factor`` (see the module docstring)."""
    rf = reuse_factor or t.reuse_factor
    weight_bits = sum(p.connectivity.nnz * (t.weight_format.width + max(1, math.ceil(math.log2(max(2, c.n_post)))))
                      for p in net.projections for c in (p.connectivity,))
    state_bits = _state_vars(net) * t.state_format.width
    mults = sum(p.size * len(time_constants(net, p)) for p in net.populations)
    return {"bram_36k": math.ceil((weight_bits + state_bits) / BRAM_BITS),
            "dsp": math.ceil(mults / rf),
            "lut": math.ceil(_state_vars(net) * t.accum_format.width * 2 / rf)}


def estimate(obj: Network | MappedNetwork, target: TargetProfile | None = None,
             rate_hz: float = 10.0) -> dict[str, Any]:
    """Resource, latency and energy estimate of a network (with ``target``) or a mapped network.

    ``rate_hz``: assumed mean firing rate of every presynaptic neuron and input channel. Returns a JSON-able dict;
    ``energy_sources`` names where the constants come from.
    """
    if isinstance(obj, MappedNetwork):
        net, t = obj.network, (target or obj.target)
    elif isinstance(obj, Network):
        if not isinstance(target, TargetProfile):
            raise ConfigError("hardware.estimate.target", target, "must be a TargetProfile for a plain Network")
        net, t = obj, target
    else:
        raise ConfigError("hardware.estimate.network", obj, "must be a Network or a MappedNetwork")
    if isinstance(rate_hz, bool) or not isinstance(rate_hz, numbers.Real) or not np.isfinite(rate_hz) or rate_hz < 0:
        raise ConfigError("hardware.estimate.rate_hz", rate_hz, "must be a finite rate >= 0 (Hz)")
    rf = t.reuse_factor if isinstance(t, FPGAFixed) else 1
    if isinstance(obj, MappedNetwork) and obj.check.reuse_factor:
        rf = obj.check.reuse_factor
    dt = net.dt
    p_spike = min(1.0, rate_hz * dt)
    neurons = sum(p.size for p in net.populations)
    synapses = net.n_synapses
    synops = synapses * p_spike
    out: dict[str, Any] = {"target": t.name, "kind": t.kind, "neurons": neurons, "synapses": synapses,
                           "rate_hz": float(rate_hz), "dt_s": dt, "synops_per_step": synops}
    cap = t.capacity
    out["neuron_utilisation"] = neurons / cap if cap else None
    sources = [f"target {t.name}: " + "; ".join(t.sources)]

    if isinstance(t, RRAMCrossbar):
        tiles = rram_tiles(net, t)
        devices = synapses * (2 if t.differential else 1)
        cells = len(tiles) * t.tile_rows * t.tile_cols
        cols = sum(tile.cols_used for tile in tiles if tile.row_block == 0)
        if isinstance(obj, MappedNetwork) and obj.projections:
            g = np.concatenate([np.concatenate([q.g_plus, q.g_minus]) for q in obj.projections.values()])
            g_mean = float(g.mean()) if g.size else 0.0
        else:
            g_mean = 0.5 * (t.g_min_us + t.g_max_us)
        e_syn = 2.0 * t.read_voltage_v**2 * g_mean * 1e-6 * t.t_read_s
        out.update(cores_used=len(tiles), tiles_used=len(tiles), core_utilisation=len(tiles) / t.n_cores,
                   devices=devices, cell_utilisation=devices / cells if cells else 0.0,
                   memory_bits=devices * max(1, math.ceil(math.log2(t.n_levels))),
                   latency_per_step_s=t.t_read_s + neurons * t.time_per_neuron_update_s,
                   energy_per_synop_j=e_syn,
                   energy_per_step_j=synops * e_syn + neurons * t.energy_per_neuron_update_j
                   + cols * t.energy_per_adc_j)
        sources.append("RRAM e_syn = 2 V_read^2 G_mean t_read (read_voltage_v, t_read_s); ADC energy_per_adc_j")
    else:
        per_core: dict[int, list[float]] = {}
        fan = {pop.name: fan_in(net, pop).astype(np.float64) * p_spike for pop in net.populations}
        for c in core_slices(net, t):
            acc = per_core.setdefault(c.core, [0.0, 0.0])
            acc[0] += c.stop - c.start
            acc[1] += float(fan[c.population][c.start:c.stop].sum())
        cores, lat = len(per_core), 0.0
        for n, s_core in per_core.values():
            if isinstance(t, FPGAFixed):
                cyc = n + rf * math.ceil(s_core / max(1.0, n))
                lat = max(lat, cyc / (t.clock_mhz * 1e6))
            else:
                lat = max(lat, s_core * t.time_per_synop_s + n * t.time_per_neuron_update_s)
        idx_bits = sum(p.connectivity.nnz * max(1, math.ceil(math.log2(max(2, p.connectivity.n_post))))
                       for p in net.projections)
        wbits = t.weight_format.width if isinstance(t, FPGAFixed) else (t.weight_bits or 32)
        sbits = t.state_format.width if isinstance(t, FPGAFixed) else (t.state_bits or 32)
        e_syn = t.energy_per_mac_j if isinstance(t, FPGAFixed) else t.energy_per_synop_j
        out.update(cores_used=cores, core_utilisation=cores / t.n_cores,
                   memory_bits=synapses * wbits + idx_bits + _state_vars(net) * sbits,
                   latency_per_step_s=lat, energy_per_synop_j=e_syn,
                   energy_per_step_j=synops * e_syn + neurons * t.energy_per_neuron_update_j)
        if isinstance(t, FPGAFixed):
            out["fpga_resources"] = fpga_resources(net, t, rf)
            sources.append("FPGA energy_per_mac_j and clock_mhz; resource model in hardware.estimate")
        else:
            sources.append("energy_per_synop_j, energy_per_neuron_update_j, time_per_synop_s from the profile")
    lat = out["latency_per_step_s"]
    out["throughput_steps_per_s"] = (1.0 / lat) if lat > 0 else None
    out["realtime_factor"] = (dt / lat) if lat > 0 else None
    out["energy_sources"] = sources
    return out
