"""Target profiles and presets (hardware.targets) and ap_fixed arithmetic (hardware.fixed_point)."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardware.fixed_point import OVERFLOW, ROUNDING, ApFixed, from_hex_words
from hardware.targets import (
    KINDS,
    PRESET_DIR,
    FPGAFixed,
    NeuromorphicChip,
    RRAMCrossbar,
    field_docs,
    load_target,
    preset_names,
    target_from_dict,
)
from snn.errors import ConfigError

PRESETS = preset_names()


# --- presets -----------------------------------------------------------------------------------------------


def test_the_issue_presets_are_shipped():
    # the issue asks for aihwkit-like and 40 nm LSM RRAM, hls4ml default and a small 8-bit FPGA, Loihi 2, Xylo
    # Audio 2/3, Xylo IMU, DYNAP-SE2, SpiNNaker 2
    for name in ("rram_aihwkit", "rram_40nm_lsm", "fpga_hls4ml", "fpga_int8_small", "loihi2", "xylo_audio2",
                 "xylo_audio3", "xylo_imu", "dynapse2", "spinnaker2"):
        assert name in PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_preset_loads_and_round_trips(name):
    t = load_target(name)
    assert t.name == name
    assert isinstance(t, KINDS[t.kind])
    # as_dict -> target_from_dict gives the same profile (formats as their strings)
    again = target_from_dict(t.as_dict())
    assert again == t


@pytest.mark.parametrize("name", PRESETS)
def test_preset_sets_every_field_and_every_number_names_its_source(name):
    path = PRESET_DIR / f"{name}.toml"
    data = tomllib.loads(path.read_text())
    cls = KINDS[data["kind"]]
    fields = {f.name for f in dataclasses.fields(cls)} - {"name"}
    # a complete preset: every field written out, so every value can carry its source
    assert fields <= set(data), sorted(fields - set(data))
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        assert re.match(r"^\w+ = .+  # \S", line), f"{name}: no source comment on {line!r}"
        comment = line.split("  # ", 1)[1]
        # either a tag ([assumed], [definition], [derived], [secondary], ...) or a named source
        assert "[" in comment or re.search(r"[A-Z][a-z]|\w+\.\w+|\d", comment), line


@pytest.mark.parametrize("cls", [RRAMCrossbar, FPGAFixed, NeuromorphicChip])
def test_every_profile_field_is_documented(cls):
    docs = field_docs(cls)
    assert set(docs) == {f.name for f in dataclasses.fields(cls)}
    for name, doc in docs.items():
        assert isinstance(doc, str) and len(doc) > 10, name


def test_aihwkit_preset_echoes_published_defaults():
    # aihwkit 1.2.0: MappingParameter max_input_size = max_output_size = 512; IOParameters inp_res 1/(2^7-2)
    # (7-bit DAC), out_res 1/(2^9-2) (9-bit ADC), out_bound 12; SinglePairConductanceConverter g_max 25 uS
    t = load_target("rram_aihwkit")
    assert (t.tile_rows, t.tile_cols, t.dac_bits, t.adc_bits, t.adc_range, t.g_max_us) == (512, 512, 7, 9, 12.0, 25.0)
    assert t.differential
    # PCMLikeNoiseModel sigma_prog at g = g_max: 0.26348 + 1.9650 - 1.1731 = 1.0554 uS -> 4.22 % of 25 uS
    assert t.prog_noise_rel == pytest.approx((0.26348 + 1.9650 - 1.1731) / 25.0, abs=1e-4)


def test_chip_presets_match_the_reference_sheet():
    # hardware.md section 3 (Rockpool xylo-overview): hidden 1000 / 992 / 496, fan-out 64 / 1024 / 512, int8
    # weights, 16-bit state; DYNAP-SE2 4 x 256, 64 fan-in, 4-bit weights, per-core parameters; Loihi 128 cores
    a2, a3, imu = (load_target(n) for n in ("xylo_audio2", "xylo_audio3", "xylo_imu"))
    assert [t.max_neurons_total for t in (a2, a3, imu)] == [1000, 992, 496]
    assert [t.max_fan_out for t in (a2, a3, imu)] == [64, 1024, 512]
    assert {(t.weight_bits, t.state_bits, t.decay) for t in (a2, a3, imu)} == {(8, 16, "bitshift")}
    d = load_target("dynapse2")
    assert (d.n_cores, d.neurons_per_core, d.max_fan_in, d.weight_bits, d.param_granularity) == (4, 256, 64, 4, "core")
    lo = load_target("loihi2")
    assert (lo.n_cores, lo.weight_bits, lo.state_bits, lo.decay, lo.decay_bits) == (128, 8, 24, "mult12", 12)
    h = load_target("fpga_hls4ml")
    assert str(h.weight_format) == "ap_fixed<16,6,AP_TRN,AP_WRAP>" and h.reuse_factor == 1 and h.clock_mhz == 200.0


def test_user_written_target_file(tmp_path):
    # a user's own profile: only the fields that differ from the defaults
    p = tmp_path / "my_chip.toml"
    p.write_text('kind = "neuromorphic"  # mine\nn_cores = 2\nneurons_per_core = 64\nweight_bits = 6\n'
                 'threshold_bits = 12\n')
    t = load_target(p)
    assert isinstance(t, NeuromorphicChip) and t.name == "my_chip" and t.capacity == 128 and t.weight_bits == 6


@pytest.mark.parametrize("text, path", [
    ('kind = "neuromorphic"\nn_cores = 0\n', "targets.bad.n_cores"),
    ('kind = "neuromorphic"\nwarp_drive = 1\n', "targets.bad.warp_drive"),
    ('kind = "quantum"\n', "targets.bad.kind"),
    ('kind = "rram_crossbar"\ng_min_us = 30.0\ng_max_us = 25.0\n', "targets.bad.g_max_us"),
    ('kind = "rram_crossbar"\np_stuck_on = 1.5\n', "targets.bad.p_stuck_on"),
    ('kind = "fpga_fixed"\nweight_format = "ap_fixed<16>"\n', "targets.bad.weight_format"),
    ('kind = "neuromorphic"\ndecay = "magic"\n', "targets.bad.decay"),
    ('kind = "neuromorphic"\nmodels = ["lif", "hodgkin"]\n', "targets.bad.models"),
])
def test_bad_target_files_fail_in_one_line(tmp_path, text, path):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_target(p)
    assert info.value.path == path
    assert "\n" not in str(info.value)


def test_undecodable_target_file_fails_in_one_line(tmp_path):
    # TOML is UTF-8 by its spec (toml.io v1.0.0), so bytes that are not UTF-8 are not a TOML file
    p = tmp_path / "binary.toml"
    p.write_bytes(b"\xff\xfe\x00kind")
    with pytest.raises(ConfigError) as info:
        load_target(p)
    assert info.value.path == "target.binary.toml" and "\n" not in str(info.value)


def test_unknown_preset_name():
    with pytest.raises(ConfigError) as info:
        load_target("no_such_chip")
    assert info.value.path == "target" and "\n" not in str(info.value)


# --- ap_fixed: hand-worked values from AMD UG1399 ------------------------------------------------------------


@pytest.mark.parametrize("fmt, x, expected", [
    # UG1399 "Quantization Modes" (ap_fixed<3,2,Q,AP_SAT>, one fractional bit)
    ("ap_fixed<3,2,AP_RND,AP_SAT>", 1.25, 1.5),
    ("ap_fixed<3,2,AP_RND,AP_SAT>", -1.25, -1.0),
    ("ap_fixed<3,2,AP_RND_ZERO,AP_SAT>", 1.25, 1.0),
    ("ap_fixed<3,2,AP_RND_ZERO,AP_SAT>", -1.25, -1.0),
    ("ap_fixed<3,2,AP_RND_MIN_INF,AP_SAT>", 1.25, 1.0),
    ("ap_fixed<3,2,AP_RND_MIN_INF,AP_SAT>", -1.25, -1.5),
    ("ap_fixed<3,2,AP_RND_INF,AP_SAT>", 1.25, 1.5),
    ("ap_fixed<3,2,AP_RND_INF,AP_SAT>", -1.25, -1.5),
    ("ap_fixed<3,2,AP_RND_CONV,AP_SAT>", 0.75, 1.0),
    ("ap_fixed<3,2,AP_RND_CONV,AP_SAT>", -1.25, -1.0),
    ("ap_fixed<3,2,AP_TRN,AP_SAT>", 1.25, 1.0),
    ("ap_fixed<3,2,AP_TRN,AP_SAT>", -1.25, -1.5),
    ("ap_fixed<3,2,AP_TRN_ZERO,AP_SAT>", 1.25, 1.0),
    ("ap_fixed<3,2,AP_TRN_ZERO,AP_SAT>", -1.25, -1.0),
    # UG1399 "Overflow Modes": ap_fixed<4,4,AP_RND,AP_SAT>(19) = 7, (-19) = -8; ap_ufixed: 15 and 0
    ("ap_fixed<4,4,AP_RND,AP_SAT>", 19.0, 7.0),
    ("ap_fixed<4,4,AP_RND,AP_SAT>", -19.0, -8.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT>", 19.0, 15.0),
    ("ap_ufixed<4,4,AP_RND,AP_SAT>", -19.0, 0.0),
    # AP_SAT_ZERO: any overflow gives 0 (UG1399)
    ("ap_fixed<4,4,AP_RND,AP_SAT_ZERO>", 19.0, 0.0),
    # AP_WRAP keeps the low 4 bits (UG1399; by hand: 31 = 0b11111 -> 0b1111 = -1; -19 -> 13 = 0b1101 -> -3;
    # unsigned 19 -> 3, -19 -> 13)
    ("ap_fixed<4,4,AP_RND,AP_WRAP>", 31.0, -1.0),
    ("ap_fixed<4,4,AP_RND,AP_WRAP>", -19.0, -3.0),
    ("ap_ufixed<4,4,AP_RND,AP_WRAP>", 19.0, 3.0),
    ("ap_ufixed<4,4,AP_RND,AP_WRAP>", -19.0, 13.0),
])
def test_ug1399_worked_values(fmt, x, expected):
    assert float(ApFixed.parse(fmt).quantize(x)) == expected


def test_ug1399_bit_patterns_and_hex_words():
    # UG1399 "Overview of Arbitrary Precision Fixed-Point Data Types": ap_fixed<18,6,AP_RND> 1.5 is 0x01800 and
    # -1.5 is 0x3e800
    f = ApFixed.parse("ap_fixed<18,6,AP_RND>")
    raw = f.quantize_raw([1.5, -1.5])
    assert f.hex_words(raw) == ["01800", "3e800"]
    np.testing.assert_array_equal(from_hex_words(["01800", "3e800"], f), raw)


def test_hls4ml_default_format():
    # hls4ml: default_precision "ap_fixed<16,6>" = 16 bits, 6 integer (sign included), AP_TRN, AP_WRAP
    f = ApFixed.parse("ap_fixed<16,6>")
    assert (f.width, f.integer, f.frac, f.rounding, f.overflow) == (16, 6, 10, "AP_TRN", "AP_WRAP")
    assert f.min == -32.0 and f.max == 32.0 - 2.0**-10
    assert not f.overflows(31.9990234375) and f.overflows(32.0)


# --- ap_fixed against an exact rational reference (independent implementation) -----------------------------


def _reference(x: Fraction, w: int, i: int, signed: bool, q: str, o: str) -> Fraction:
    """UG1399's definitions on exact rationals: round x·2^F to an integer by mode q, then handle overflow by o."""
    frac = w - i
    s = x * Fraction(2) ** frac
    fl = s.numerator // s.denominator
    r = s - fl
    half = Fraction(1, 2)
    up = {"AP_TRN": False, "AP_TRN_ZERO": s < 0 and r != 0, "AP_RND": r >= half,
          "AP_RND_ZERO": r > half or (r == half and s < 0), "AP_RND_MIN_INF": r > half,
          "AP_RND_INF": r > half or (r == half and s > 0),
          "AP_RND_CONV": r > half or (r == half and fl % 2 == 1)}[q]
    n = fl + int(up)
    lo, hi = (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if signed else (0, 2**w - 1)
    if n < lo or n > hi:
        if o == "AP_SAT":
            n = min(max(n, lo), hi)
        elif o == "AP_SAT_ZERO":
            n = 0
        else:
            n = n % 2**w
            if signed and n > hi:
                n -= 2**w
    return Fraction(n) / Fraction(2) ** frac


@settings(max_examples=300, deadline=None)
@given(w=st.integers(1, 24), i=st.integers(-4, 28), signed=st.booleans(), q=st.sampled_from(ROUNDING),
       o=st.sampled_from(OVERFLOW), k=st.integers(-(2**34), 2**34), extra=st.integers(0, 6))
def test_quantize_matches_exact_reference(w, i, signed, q, o, k, extra):
    # values on a grid 2^-(F + extra) so ties (extra >= 1) and overflows are frequent
    f = ApFixed(w, i, signed, q, o)
    x = Fraction(k, 2 ** (f.frac + extra)) if f.frac + extra >= 0 else Fraction(k * 2 ** -(f.frac + extra))
    got = f.quantize(float(x))
    assert Fraction(float(got)) == _reference(x, w, i, signed, q, o)


# --- ap_fixed against independent libraries (skipped when not installed) -----------------------------------


@settings(max_examples=150, deadline=None)
@given(w=st.integers(2, 24), i=st.integers(1, 12), signed=st.booleans(),
       mode=st.sampled_from([("AP_TRN", "floor"), ("AP_TRN_ZERO", "trunc"), ("AP_RND_CONV", "around")]),
       o=st.sampled_from([("AP_SAT", "saturate"), ("AP_WRAP", "wrap")]), k=st.integers(-(2**30), 2**30),
       extra=st.integers(0, 4))
def test_quantize_matches_fxpmath(w, i, signed, mode, o, k, extra):
    fxpmath = pytest.importorskip("fxpmath")
    # fxpmath names: 'floor' = towards -inf (AP_TRN), 'trunc' = towards zero (AP_TRN_ZERO), 'around' = numpy's
    # half-to-even (AP_RND_CONV); overflow 'saturate' / 'wrap'
    f = ApFixed(w, i, signed, mode[0], o[0])
    x = k / 2.0 ** (f.frac + extra)
    ref = fxpmath.Fxp(x, signed=signed, n_word=w, n_frac=f.frac, rounding=mode[1], overflow=o[1])
    assert float(f.quantize(x)) == float(ref())


@settings(max_examples=200, deadline=None)
@given(w=st.integers(2, 24), i=st.integers(-2, 16),
       q=st.sampled_from(["AP_TRN", "AP_TRN_ZERO", "AP_RND", "AP_RND_CONV"]),
       o=st.sampled_from(["AP_SAT", "AP_WRAP"]), k=st.integers(-(2**30), 2**30), extra=st.integers(0, 4))
def test_quantize_matches_apytypes(w, i, q, o, k, extra):
    apy = pytest.importorskip("apytypes")
    # apytypes' QuantizationMode / OverflowMode carry ap_fixed's names (TRN, RND_CONV, SAT, WRAP, ...); only the
    # modes whose two's-complement tie rule is unambiguous in its docs are compared
    f = ApFixed(w, i, True, q, o)
    bits = f.frac + extra
    x = k / 2.0**bits
    # exact: x has <= bits fraction bits and |x| <= 2**30 * 2**-bits, so 64 integer bits always hold it (40 did
    # not: x = 2**39 for <2,16> wrapped to -2**39 before the cast)
    wide = apy.APyFixed.from_float(x, int_bits=64, frac_bits=max(bits, 0))
    ref = wide.cast(int_bits=i, frac_bits=f.frac, quantization=getattr(apy.QuantizationMode, q[3:]),
                    overflow=getattr(apy.OverflowMode, o[3:]))
    # read the result back from its bit pattern: apytypes 0.5.1's cast to int_bits < 0 with WRAP can keep a value
    # outside the format (float 0.125 for bits 0x100000 of <21,-2>, whose own reading is -0.125)
    ref = apy.APyFixed(ref.to_bits(), int_bits=i, frac_bits=f.frac)
    assert float(f.quantize(x)) == float(ref)


@pytest.mark.parametrize("text", ["ap_fixed<0,0>", "ap_fixed<16,6,AP_MAGIC>", "fixed<8,3>", "ap_fixed<60,6>", 16])
def test_bad_formats_fail_in_one_line(text):
    with pytest.raises(ConfigError) as info:
        ApFixed.parse(text, "fmt")
    assert info.value.path.startswith("fmt") and "\n" not in str(info.value)


def test_nonfinite_values_are_refused():
    with pytest.raises(ConfigError) as info:
        ApFixed(8, 3).quantize([1.0, np.nan])
    assert info.value.path == "fixed.value"
