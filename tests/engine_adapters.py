"""Build our network descriptions from the plain-array examples of ``brian2_reference``."""

from __future__ import annotations

from typing import Any

import numpy as np

from snn.model import (
    LIF,
    Connectivity,
    Izhikevich,
    Network,
    Population,
    Projection,
    SpikeMonitor,
    SpikeTimesInput,
    StateMonitor,
)

TARGETS = {"exc": "exc", "inh": "inh", "v": "delta"}


def _projections(example: dict[str, Any]) -> list[Projection]:
    sizes = {"input": example["n_input"], "net": example["n"]}
    out = []
    for k, spec in enumerate(example["projections"]):
        conn = Connectivity(sizes[spec["pre"]], example["n"], spec["indptr"], spec["indices"])
        out.append(Projection(spec["pre"], "net", conn, weights=spec["weights"], delays=spec["delays"],
                              target=TARGETS[spec["target"]], name=f"proj{k:04d}"))
    return out


def _input(example: dict[str, Any]) -> SpikeTimesInput:
    return SpikeTimesInput("input", example["n_input"], times=np.asarray(example["input_steps"]) * example["dt"],
                           indices=example["input_indices"])


def lif_network(example: dict[str, Any], record_v: list[int] | None = None) -> Network:
    model = LIF(tau_m=example["tau_m"], v_rest=example["v_rest"], v_threshold=example["v_threshold"],
                v_reset=example["v_reset"], t_ref=example["t_ref"], tau_syn_exc=example["tau_syn_exc"],
                tau_syn_inh=example["tau_syn_inh"])
    monitors: list[Any] = [SpikeMonitor("net")]
    if record_v:
        monitors.append(StateMonitor("net", ("v",), indices=np.asarray(record_v)))
    return Network(dt=example["dt"], populations=[Population("net", example["n"], model, {"v": example["v_init"]})],
                   inputs=[_input(example)], projections=_projections(example), monitors=monitors)


def izhikevich_network(example: dict[str, Any]) -> Network:
    model = Izhikevich(a=example["a"], b=example["b"], c=example["c"], d=example["d"], bias=example["bias"])
    pop = Population("net", example["n"], model, {"v": example["v_init"], "u": example["u_init"]})
    return Network(dt=example["dt"], populations=[pop], inputs=[_input(example)],
                   projections=_projections(example), monitors=[SpikeMonitor("net")])
