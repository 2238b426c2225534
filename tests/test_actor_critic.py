"""The water-maze actor-critic: environment, twin, contract and the science of the quick preset.

Tolerances: the quick preset (12 learning trials, 10 s timeout) and the default preset
were measured at seeds 0-4 (benchmarks/bench_actor_critic.py and the issue's closing
note); each bound sits between the worst measured value and the point where learning
would no longer be there.
"""

import numpy as np
import pytest
from _roundtrip import check_nix_round_trip, check_nwb
from brian2 import meter, ms, second

from spikingml import ValidationError
from spikingml.analysis.actor_critic import (
    grid_points,
    linear_actor_critic,
    policy_map,
    value_map,
)
from spikingml.circuits import REGISTRY, get_circuit
from spikingml.circuits import actor_critic as ac
from spikingml.plasticity.td_error import TDErrorRule
from spikingml.simulation import brian_device
from spikingml.stimuli.water_maze import Maze

TINY = ac.Params(n_trials=3, n_control_trials=1, timeout=2 * second)


@pytest.fixture(scope="module")
def quick():
    """(params, result, twin, metrics) of the quick preset, seed 0, runtime device: the
    science of the slow tests (``make test-slow``)."""
    params = ac.Params.quick()
    result = ac.simulate(params, seed=0, progress=False)
    twin = ac.twin(params, seed=0)
    return params, result, twin, ac.compare(result, twin)


@pytest.fixture(scope="module")
def tiny(tiny_run):
    """(params, result, twin, metrics) of the tiny preset's pipeline run (3 trials of at
    most 2 s, one control trial), shared with the conformance test (tests/conftest.py)."""
    record = tiny_run("actor-critic")
    params = ac.Params.from_dict(record.result.params)
    return params, record.result, record.twin_output, record.metrics


# ------------------------------------------------------------------------- the arena
def test_maze_geometry():
    maze = ac.Params().maze()
    assert maze.n_place == 121
    centres = maze.place_centres()
    assert centres.shape == (121, 2)
    # each place field peaks (at 1) on its own centre
    np.testing.assert_allclose(np.diag(maze.place_rates(centres)), 1.0)
    assert maze.in_goal(np.array([0.8, 0.8])) and not maze.in_goal(np.array([0.5, 0.8]))
    # (0.1, 0.1) to (0.8, 0.8): 0.7 sqrt(2) to the centre, minus the radius
    assert maze.shortest_distance((0.1, 0.1)) == pytest.approx(0.7 * np.sqrt(2) - 0.1)


def test_maze_rejects_a_goal_over_a_start():
    # (0.1, 0.1) is a start position: a platform there would end trials before they begin
    with pytest.raises(ValidationError, match=r"ActorCritic\.Params\.goal_x"):
        ac.Params(goal_x=0.1, goal_y=0.15)
    with pytest.raises(ValidationError, match="Maze.goal"):
        Maze(goal=(1.2, 0.5))


# ---------------------------------------------------------------------------- the twin
def test_twin_rejects_bad_arguments():
    maze = ac.Params().maze()
    with pytest.raises(ValidationError, match="maze"):
        linear_actor_critic("pool", 3)
    with pytest.raises(ValidationError, match="n_trials"):
        linear_actor_critic(maze, 0)
    with pytest.raises(ValidationError, match="tau_e"):
        linear_actor_critic(maze, 3, tau_r=1.0, tau_e=2.0)
    with pytest.raises(ValidationError, match="alpha_actor"):
        linear_actor_critic(maze, 3, alpha_actor=-1.0)


def test_twin_without_learning_is_a_random_walk():
    maze = ac.Params().maze()
    out = linear_actor_critic(maze, 5, seed=1, learning=False, timeout=5.0)
    assert not out.w.any() and not out.theta.any()
    assert len(out.trajectories) == 5
    for path in out.trajectories:
        assert (path >= 0).all() and (path <= maze.size).all()
        # one step of speed * dt = 0.06 m at most (less along a wall)
        assert np.hypot(*np.diff(path, axis=0).T).max() <= 0.06 + 1e-12


def test_twin_learns_the_maze():
    # Measured over seeds 0-4 (default preset): first-5 median 18.5-20 s, last-5 1.7-3.1 s,
    # ratios 0.09-0.16; 0.3 leaves room and still means a three-fold speed-up.
    params = ac.Params()
    for seed in (0, 1):
        out = ac.twin(params, seed=seed).learning
        first, last = np.median(out.latencies[:5]), np.median(out.latencies[-5:])
        assert last <= 0.3 * first
        assert out.reached[-5:].all()


def test_maps_decode_known_weights():
    maze = ac.Params().maze()
    n_place = maze.n_place
    # a critic whose only weight is on the place cell centred at (x, y) = (0.7, 0.2): the
    # value map is that cell's field, peak 1 at row y / 0.05 m = 4, column x / 0.05 m = 14
    k = int(np.argmin(np.hypot(*(maze.place_centres() - [0.7, 0.2]).T)))
    critic_w = np.zeros((n_place, 50))
    critic_w[k] = 1.0
    vmap = value_map(maze, critic_w, n=21)
    assert vmap.max() == pytest.approx(1.0)
    assert np.unravel_index(vmap.argmax(), vmap.shape) == (4, 14)
    # an actor whose every place cell drives the neurons heading 60 degrees most: the
    # population vector of the drive points at 60 degrees everywhere (to rounding)
    headings = 2 * np.pi * np.arange(36) / 36
    theta = np.tile(np.cos(headings - np.pi / 3), (n_place, 1))
    arrows = policy_map(maze, theta, n=11)
    assert arrows.shape == (121, 2) and len(grid_points(maze, 11)) == 121
    np.testing.assert_allclose(np.arctan2(arrows[:, 1], arrows[:, 0]), np.pi / 3, atol=1e-9)


# --------------------------------------------------------------------------- contract
def test_registered():
    assert REGISTRY["actor-critic"] == "spikingml.circuits.actor_critic"
    assert get_circuit("actor-critic") is ac
    assert set(ac.METRICS) >= {
        "latency_first5_s",
        "latency_last5_s",
        "latency_control_s",
        "last5_over_first5",
        "last5_over_control",
        "learning_wall_seconds",
    }


def test_run_time_fields_are_shared_constants_of_the_network():
    # A run-time field reaches the network only as the value of a shared constant (which
    # a compiled program takes as a run argument: simulate_many), or only the twin. Built
    # with moved values, every such constant holds them, the critic's and the actor's
    # synapses their own rule's, and the ring's weights follow J_exc, J_inh and kappa.
    params = TINY.replace(
        eta_critic=0.07, eta_actor=0.03, theta_max=0.9, tau_e=150 * ms, goal_x=0.7,
        speed=0.5 * meter / second, J_exc=0.2, J_inh=0.05, kappa=2.0,
    )  # fmt: skip
    maze = params.maze()
    with brian_device("runtime", 0):
        network = ac.build_network(params, maze, seed=0)
        for objects, values in ac._constant_sets(network, params, maze):
            for name, value in values.items():
                holders = [obj for obj in objects if name in getattr(obj, "variables", {})]
                held = [getattr(obj, name)[:] for obj in holders if obj.variables[name].scalar]
                assert held, name
                for view in held:
                    assert float(np.asarray(view)) == pytest.approx(float(np.asarray(value)))
        assert float(network.critic_syn.td_eta[:]) == 0.07
        assert float(network.actor_syn.td_w_max[:]) == 0.9
        assert float(network.net["place"].td_tau_e[:]) == pytest.approx(0.15)
        assert float(network.agent.goal_x[:]) == pytest.approx(0.7)
        ring = network.net["ring"]
        neighbours = np.abs(np.asarray(ring.i[:]) - np.asarray(ring.j[:])) == 1
        expected = 0.2 * np.exp(2.0 * (np.cos(2 * np.pi / params.n_actor) - 1)) - 0.05
        np.testing.assert_allclose(np.asarray(ring.J[:])[neighbours], expected, rtol=1e-12)
        network.net.run(0 * ms)  # the code is generated with them (and nothing is unused)
    twin_only = {"twin_dt", "twin_alpha_critic", "twin_alpha_actor"}
    in_network = {*ac._CONSTANT_FIELDS, "goal_x", "goal_y", "goal_radius", "place_sigma"}
    in_network |= {"tau_e", "eta_critic", "w_max", "eta_actor", "theta_max"}  # the rules'
    assert set(ac.Params.runtime_fields()) == in_network | twin_only
    assert not set(ac._NAMESPACE_FIELDS) & set(ac.Params.runtime_fields())


def test_rule_declares_its_constants_shared_or_takes_them_from_the_namespace():
    rule = TDErrorRule(eta=0.3, w_max=2.0, tau_e=100 * ms)
    assert rule.namespace() == {**rule.synapse_constants(), **rule.presynaptic_constants()}
    assert "td_eta" not in rule.synapse_model("w")
    shared = rule.synapse_model("w", shared=True)
    assert "td_eta : 1 (shared, constant)" in shared and "td_w_max : 1 (shared" in shared
    equations = rule.presynaptic_equations(shared=True)
    assert "td_tau_e : second (shared, constant)" in equations
    assert equations.startswith(rule.presynaptic_equations())


def test_params_validation():
    with pytest.raises(ValidationError, match=r"ActorCritic\.Params\.tau_decay"):
        ac.Params(tau_rise=60 * ms, tau_decay=50 * ms)
    with pytest.raises(ValidationError, match=r"ActorCritic\.Params\.n_trials"):
        ac.Params(n_trials=0)
    with pytest.raises(ValidationError, match=r"ActorCritic\.Params\.speed"):
        ac.Params(speed=0.6 * second)
    with pytest.raises(ValidationError, match="seed"):
        ac.simulate(TINY, seed=-1)
    with pytest.raises(ValidationError, match="params"):
        ac.simulate({"n_trials": 3})


def test_result_structure(tiny):
    params, result, _, metrics = tiny
    sizes = {name: pop.size for name, pop in result.populations.items()}
    assert sizes == {"place": 121, "critic": params.n_critic, "actor": params.n_actor}
    assert [p.name for p in result.phases] == ["learning", "control"]
    assert len(result.extra["latencies"]) == params.n_trials
    assert len(result.extra["control_latencies"]) == params.n_control_trials
    n = params.n_trials + params.n_control_trials
    assert len(result.events["trial_start"]) == len(result.events["trial_end"]) == n
    assert result.weights["critic_w"].shape == (121, params.n_critic)
    assert result.weights["actor_theta"].shape == (121, params.n_actor)
    assert set(metrics) == set(ac.METRICS)


def test_environment_obeys_its_rules(tiny):
    params, result, _, _ = tiny
    maze = params.maze()
    x = result.signals["x"].values[:, 0]
    y = result.signals["y"].values[:, 0]
    assert x.min() >= 0 and x.max() <= maze.size and y.min() >= 0 and y.max() <= maze.size
    t = result.signals["x"].dt * np.arange(len(x))
    starts = np.asarray(maze.starts)
    for t0 in result.events["trial_start"][1:]:
        # the first sample after a reset lies within one sample's swim of a start position
        k = np.searchsorted(t, t0, side="right")
        gap = np.hypot(*(starts - [x[k], y[k]]).T).min()
        assert gap <= float(params.speed / (1 / second)) * 0.021 + 1e-9
    # every rewarded trial ended on the platform
    for tg in result.events["goal"]:
        k = np.searchsorted(t, tg, side="right")
        assert maze.in_goal(np.array([x[k], y[k]]))
    # latencies: timeouts at the timeout, successes shorter
    lat = np.asarray(result.extra["latencies"])
    reached = np.asarray(result.extra["reached"])
    np.testing.assert_allclose(lat[~reached], float(params.timeout / second), atol=2e-3)
    assert (lat[reached] < float(params.timeout / second)).all()


@pytest.mark.slow  # the quick preset's 15 trials: minutes; the default suite has the tiny run
def test_quick_preset_learns(quick):
    # Measured seeds 0-4, quick preset: last-5 / first-5 0.13-0.22, last-5 / control
    # 0.13-0.23 (benchmarks/results/actor_critic.md); the bounds are the issue's targets
    # for the default preset (0.5 and 0.3), which the quick preset must still clear.
    _, _, _, m = quick
    assert m["last5_over_first5"] <= 0.5
    assert m["last5_over_control"] <= 0.3
    assert m["success_last5"] >= 0.8
    # (no value-map comparison here: with 10 s trials the twin's random walk rarely
    # finds the platform in 15 trials, so its value map may still be all zeros)


def test_figures_written(tiny, tmp_path):
    _, result, twin, _ = tiny
    paths = ac.figures(result, twin, tmp_path)
    assert [p.name for p in paths] == ["comparison.png", "trajectories.png"]
    assert all(p.stat().st_size > 20_000 for p in paths)
    assert len(ac.trajectories(result)) == len(result.extra["latencies"])


def test_neo_export(tiny):
    _, result, _, _ = tiny
    block = result.to_neo()
    assert [s.name for s in block.segments] == ["learning", "control"]
    n_spikes = sum(len(st) for seg in block.segments for st in seg.spiketrains)
    assert n_spikes == sum(len(p.times) for p in result.populations.values())


@pytest.mark.slow  # compiles the closed loop as a C++ program: 90 s of the CI budget
@pytest.mark.standalone
def test_standalone_runs_the_same_task():
    # Brian2 seeds the random generators of runtime and cpp_standalone differently
    # (measured: the place cells' first spikes already differ), so the two devices give
    # statistically equivalent runs, not identical spikes. The closed loop (events,
    # resets, both phases in one program) must work without any Python in the loop.
    a = ac.simulate(TINY, seed=2, device="runtime", progress=False)
    b = ac.simulate(TINY, seed=2, device="cpp_standalone", progress=False)
    for r in (a, b):
        assert len(r.extra["latencies"]) == TINY.n_trials
        assert len(r.extra["control_latencies"]) == TINY.n_control_trials
        x = r.signals["x"].values
        assert np.isfinite(x).all() and (x >= 0).all() and (x <= 1).all()
    # standalone runs for the longest the trials could take; both phases are recorded
    assert [p.name for p in b.phases] == ["learning", "control"]
    # on both devices the place cells fire as the recorded path predicts: within 5%
    # (~10^4 spikes: Poisson error ~1%; the path is sampled every 20 ms, not every step)
    for r in (a, b):
        assert _place_spikes(r) == pytest.approx(_predicted_place_spikes(r), rel=0.05)
    assert np.isfinite(b.weights["critic_w"]).all()


def _place_spikes(result):
    return len(result.populations["place"].times)


def _predicted_place_spikes(result):
    """Expected place-cell spikes from the recorded path (silent while on the platform)."""
    params = ac.Params.from_dict(result.params)
    x, y = result.signals["x"], result.signals["y"]
    t = x.dt * np.arange(len(x.values))
    xy = np.column_stack([x.values[:, 0], y.values[:, 0]])
    summed = params.maze().place_rates(xy).sum(axis=1)
    ends = np.asarray(result.events["trial_end"])
    for goal in result.events["goal"]:
        summed[(t >= goal) & (t < ends[ends >= goal].min())] = 0.0
    return summed.sum() * x.dt * float(params.place_rate / (1 / second))


@pytest.mark.slow
def test_default_preset_meets_issue_targets():
    # The issue's targets (benchmarks/bench_actor_critic.py checks seeds 0-4).
    params = ac.Params()
    result = ac.simulate(params, seed=0, progress=False)
    m = ac.compare(result, ac.twin(params, seed=0))
    assert m["last5_over_first5"] <= 0.5
    assert m["last5_over_control"] <= 0.3
    # measured seeds 0-4: 0.86-0.92; the learned value rises towards the platform in both
    assert m["value_map_correlation"] >= 0.7


def test_round_trips_through_nwb(tiny, tmp_path):
    # every field of the Result back from data.nwb (tests/_roundtrip.py)
    check_nwb(tiny[1], tmp_path)


@pytest.mark.slow
def test_round_trips_through_nix(quick, tmp_path):
    # every spike, population, phase, event and signal back from data.nix; slow because
    # NixIO reads the spike trains one by one (40 s on a loaded 2-core machine)
    check_nix_round_trip(quick[1], tmp_path / "data.nix")
