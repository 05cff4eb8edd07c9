"""The all-reduce cost model against the NCCL measurements it was fitted to."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from buildbuy import data, tps
from buildbuy.tps import comm

H100 = data.get_gpu("H100-SXM")


def test_stored_constants_match_the_fit():
    fitted = comm.fit_allreduce()
    stored = dict(tps.CALIBRATION.allreduce_bus_efficiency)
    for n, (alpha_us, eta) in fitted.items():
        assert stored[n] == pytest.approx(eta, abs=5e-4)
        # the stored latency line alpha0 + (N-1) * step passes within 0.4 us of each fit
        line_us = 1e3 * (tps.CALIBRATION.allreduce_latency_ms
                         + (n - 1) * tps.CALIBRATION.allreduce_latency_per_peer_ms)
        assert line_us == pytest.approx(alpha_us, abs=0.4)
    # and that line is the least-squares line through the three fitted latencies
    n = np.array(sorted(fitted), dtype=float)
    slope, intercept = np.polyfit(n - 1, [fitted[int(k)][0] for k in n], 1)
    assert intercept * 1e-3 == pytest.approx(tps.CALIBRATION.allreduce_latency_ms, abs=5e-5)
    assert slope * 1e-3 == pytest.approx(tps.CALIBRATION.allreduce_latency_per_peer_ms,
                                         abs=5e-6)


def test_eight_gpu_share_matches_nccl_maintainer():
    # "NCCL can get an effective NVLink bandwidth of 370GB/s" of the 450 GB/s line rate
    assert comm.bus_efficiency(8) * 450 == pytest.approx(370, rel=0.01)


def test_model_reproduces_the_measured_rows():
    err = [comm.allreduce_ms(H100, n, size) * 1e3 / us - 1
           for n, size, us in comm.H100_DGX_ALLREDUCE_US]
    assert np.max(np.abs(err)) < 0.20
    assert np.median(np.abs(err)) < 0.03


def test_by_hand_and_limits():
    assert comm.allreduce_ms(H100, 1, 1e9) == 0.0
    # 8 GPUs, 16 MiB: 14.6 + 7 * 2.82 us + 1.75 * 16 MiB / (0.817 * 450 GB/s)
    expected_us = 14.6 + 7 * 2.82 + 1.75 * 2**24 / (0.817 * 450e9) * 1e6
    assert comm.allreduce_ms(H100, 8, 2**24) * 1e3 == pytest.approx(expected_us)
    # between measured sizes the share is interpolated, beyond 8 it is held
    assert comm.bus_efficiency(3) == pytest.approx((0.639 + 0.758) / 2)
    assert comm.bus_efficiency(16) == comm.bus_efficiency(8)


def test_beyond_one_node_the_network_link_caps_bandwidth():
    one_node = comm.allreduce_ms(H100, 8, 2**26)
    two_nodes = comm.allreduce_ms(H100, 16, 2**26)
    assert two_nodes > 10 * one_node
    sent = 2 * 15 / 16 * 2**26
    assert two_nodes == pytest.approx(
        0.0146 + 15 * 0.00282 + sent / (0.817 * 25e9) * 1e3)


def test_faster_link_never_slows_tensor_parallel_decode():
    times = [tps.decode("llama-3.1-70b", dataclasses.replace(H100, interconnect_gbps=bw),
                        batch=64, context=1024, tensor_parallel=4).step_ms
             for bw in (100, 300, 450, 900)]
    assert np.all(np.diff(times) < 0)
