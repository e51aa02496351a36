"""Index constants shared by the compiler (Python) and the kernels (numba): coefficient slots and codes.

The engine packs every population's per-neuron coefficients into one flat array: coefficient ``k`` of
local neuron ``i`` of population ``p`` is ``coef[c_off[p] + k * c_len[p] + (i if c_len[p] > 1 else 0)]``
(``c_len`` is 1 for homogeneous populations, so their loops read scalars).
"""

# population kinds
KIND_LINEAR = 0  # LIF, adaptive LIF, IF, LI: linear between spikes, exact propagators
KIND_IZHIKEVICH = 1
KIND_POISSON = 2
KIND_SPIKE_TIMES = 3
KIND_CONDUCTANCE = 4

# synaptic channels (Projection.target)
CH_EXC = 0
CH_INH = 1
CH_DELTA = 2
CHANNELS = {"exc": CH_EXC, "inh": CH_INH, "delta": CH_DELTA}

# linear-model coefficient slots
L_LIN = 0  # constant term of the exact v update (v_inf - v_inf·e^{-dt/tau_m}, v_inf = v_rest + r·bias)
L_EM = 1  # e^{-dt/tau_m} (1 for IF)
L_CE = 2  # contribution of i_exc(t) to v(t+dt)
L_CI = 3  # contribution of i_inh(t)
L_CW = 4  # contribution of the adaptation current w(t)
L_CX = 5  # contribution of a current held over the step (noise)
L_DE = 6  # e^{-dt/tau_syn_exc}
L_DI = 7  # e^{-dt/tau_syn_inh}
L_DW = 8  # e^{-dt/tau_adapt}
L_VTH = 9
L_VRESET = 10
L_REF = 11  # refractory period in steps (Brian2's timestep(t_ref, dt))
L_JUMP = 12  # adaptation increment per spike
L_SUB = 13  # v_threshold - v_reset (reset by subtraction)
N_LINEAR = 14

# Izhikevich coefficient slots (constants of the equation are stored too, so float32 runs stay float32)
Z_A = 0
Z_B = 1
Z_C = 2
Z_D = 3
Z_VPEAK = 4
Z_DE = 5
Z_DI = 6
Z_BIAS = 7
Z_DTMS = 8  # dt in milliseconds (Brian2: dt/ms)
Z_K2 = 9  # 0.04
Z_K1 = 10  # 5
Z_K0 = 11  # 140
N_IZHIKEVICH = 12

# population flags (bit mask)
F_SPIKING = 1
F_RESET_SUBTRACT = 2
F_ADAPT = 4
F_NOISE = 8
F_RECORD = 16  # record spikes
F_UNIFORM_RATE = 32  # Poisson source with one rate for all channels (sampled by geometric gaps)

# state variable codes for StateMonitor
VAR_CODES = {"v": 0, "i_exc": 1, "i_inh": 2, "g_exc": 1, "g_inh": 2, "u": 3, "w": 3}

NEVER_SPIKED = -(2**30)  # initial last-spike step: refractoriness never applies at the start

# conductance-based LIF coefficient slots (exponential Euler, Brian2's operation order; see kernels/neurons.py)
C_K = 0  # 1/tau_m
C_KE = 1  # e_exc/tau_m
C_KI = 2  # e_inh/tau_m
C_KL = 3  # v_rest/tau_m
C_NK = 4  # 0 - 1/tau_m
C_DT = 5  # dt (s)
C_DE = 6  # e^{-dt/tau_syn_exc}
C_DI = 7  # e^{-dt/tau_syn_inh}
C_VTH = 8
C_VRESET = 9
C_REF = 10  # refractory period in steps
C_BIAS = 11
N_CONDUCTANCE = 12

# plastic projections: one row of integers and one of floats per plastic projection (rule and/or STP)
RULE_NONE = 0
RULE_PAIR = 1
RULE_TRIPLET = 2
PF_NEAREST = 1  # traces are set to 1 at a spike instead of incremented (nearest-spike pairing)
PF_MULT = 2  # multiplicative (soft) weight bounds
PF_STP = 4  # Tsodyks-Markram short-term plasticity
PF_FACIL = 8  # STP with facilitation (tau_facil > 0)
PI_RULE = 0
PI_FLAGS = 1
PI_G0 = 2  # first trace group (pre side) of the projection
PI_STRIDE = 3  # groups per presynaptic neuron: 1 (one delay) or max_delay + 2 (one per delay, see doff)
PI_P0 = 4  # first postsynaptic trace slot of the projection
PI_C0 = 5  # first row of the projection in the post-to-synapse (CSC) pointer array
PI_WSHIFT = 6  # plastic weight index = synapse index + shift
PI_POSTPOP = 7  # population index of the target
N_PI = 8
PP_RATE_X1 = 0  # dt/tau of the fast presynaptic trace (tau_pre, tau_plus)
PP_RATE_X2 = 1  # dt/tau_x (triplet)
PP_RATE_Y1 = 2  # dt/tau of the fast postsynaptic trace (tau_post, tau_minus)
PP_RATE_Y2 = 3  # dt/tau_y (triplet)
PP_A2P = 4  # a_plus / a2_plus
PP_A3P = 5
PP_A2M = 6  # a_minus / a2_minus
PP_A3M = 7
PP_WMIN = 8
PP_WMAX = 9
PP_U = 10
PP_RATE_REC = 11  # dt/tau_rec
PP_RATE_FACIL = 12  # dt/tau_facil
N_PP = 13
# decay tables: row k of a plastic projection's table is exp(-k dt / tau) for each of its time constants
T_X1 = 0
T_X2 = 1
T_Y1 = 2
T_Y2 = 3
T_REC = 4
T_FACIL = 5
N_T = 6
# per-group presynaptic state columns
G_X1 = 0
G_X2 = 1
G_U = 2
G_X = 3
N_G = 4
