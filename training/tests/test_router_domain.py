"""The router's pure modules: config, the dataset's line contract, the labelling rule, metrics and gate.

The shared vectors (test/vectors/router-dataset.jsonl and router-dataset.expected.json) hold the line
contract, the labels and the metric arithmetic to hand-written values; the TypeScript side reads them too.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from sial_training.exit_codes import CONTRACT, NO_INPUT, JobError
from sial_training.router.config import CONFIG_ENV, load_config, parse_config
from sial_training.router.dataset import in_holdout, parse_lines, parse_request, read_dataset
from sial_training.router.evaluate import evaluate_set, gate, majority_tier, routing_metrics
from sial_training.router.labels import label_trace, label_traces

from conftest import VECTORS

EXPECTED = json.loads((VECTORS / "router-dataset.expected.json").read_text(encoding="utf-8"))
CONFIG = parse_config(EXPECTED["config"])
TRACE = {
    "trace_id": "t-1",
    "ts": "2026-11-02T09:15:00Z",
    "agent_id": "support",
    "language": "en",
    "user_message": "how do I reset my password?",
    "context_chars": 120,
    "tool_calls": 0,
    "prior_turns": 0,
    "route_tier": "small",
    "misrouted": False,
    "reward": 0.9,
    "feedback_outcome": None,
    "error": False,
}


def trace_of(**changes: object):
    (trace,), problems, _ = parse_lines([json.dumps({**TRACE, **changes})])
    assert not problems
    return trace


class TestConfig:
    def test_parses_tiers_cheapest_first_with_defaults(self) -> None:
        config = parse_config('{"tiers": [{"name": "small", "cost_per_1k_requests_usd": 0.4}, {"name": "large", "cost_per_1k_requests_usd": 6}]}')
        assert config.tier_names == ("small", "large") and config.cost("large") == 6.0 and config.rank("large") == 1
        assert (config.quality_floor, config.max_misroute_rise, config.min_routing_quality, config.holdout_share) == (0.7, 0.10, 0.85, 0.2)

    def test_lists_every_problem_at_once(self) -> None:
        raw = {
            "tiers": [{"name": "large", "cost_per_1k_requests_usd": 6}, {"name": "small", "cost_per_1k_requests_usd": 0.4}, {"name": "small", "cost_per_1k_requests_usd": -1}],
            "quality_floor": 1.5,
            "max_misroute_rise": True,
            "max_misroute_raise": 0.1,
        }
        with pytest.raises(JobError) as raised:
            parse_config(json.dumps(raw))
        assert raised.value.code == CONTRACT
        message = str(raised.value)
        for fragment in ("cheapest first", "tiers[2].cost_per_1k_requests_usd", "quality_floor must be", "max_misroute_rise must be", "unknown keys ['max_misroute_raise']"):
            assert fragment in message, fragment

    @pytest.mark.parametrize("raw", ["not json", "[]", '{"tiers": [{"name": "only", "cost_per_1k_requests_usd": 1}]}', '{"tiers": [{"name": "a b", "cost_per_1k_requests_usd": 1}, {"name": "c", "cost_per_1k_requests_usd": 2}]}'])
    def test_refuses_malformed_configs(self, raw: str) -> None:
        with pytest.raises(JobError) as raised:
            parse_config(raw)
        assert raised.value.code == CONTRACT

    def test_reads_a_file_or_the_environment(self, tmp_path) -> None:
        text = json.dumps(EXPECTED["config"])
        (tmp_path / "router.json").write_text(text)
        assert load_config(str(tmp_path / "router.json"), {}) == CONFIG
        assert load_config(None, {CONFIG_ENV: text}) == CONFIG
        with pytest.raises(JobError, match=CONFIG_ENV) as raised:
            load_config(None, {})
        assert raised.value.code == CONTRACT
        with pytest.raises(JobError) as missing:
            load_config(str(tmp_path / "absent.json"), {})
        assert missing.value.code == NO_INPUT


class TestSharedVectors:
    def test_malformed_lines_are_counted_by_number_and_neighbours_kept(self) -> None:
        dataset = read_dataset(VECTORS / "router-dataset.jsonl")
        assert dataset.lines == EXPECTED["nonBlankLines"]
        assert [p.line for p in dataset.problems] == [m["line"] for m in EXPECTED["malformed"]]
        assert [t.trace_id for t in dataset.traces] == [e["trace_id"] for e in EXPECTED["labels"]]
        # The trace after the malformed block is still read.
        assert dataset.traces[-1].trace_id == "v-after-malformed"

    def test_labels_follow_the_rule(self) -> None:
        dataset = read_dataset(VECTORS / "router-dataset.jsonl")
        got = [{"trace_id": t.trace_id, **vars(label_trace(t, CONFIG))} for t in dataset.traces]
        assert got == [{k: e[k] for k in ("trace_id", "tier", "reason")} for e in EXPECTED["labels"]]
        labelled = label_traces(dataset.traces, CONFIG)
        assert labelled.reasons == EXPECTED["reasons"]
        assert labelled.unlabelable == 2 and len(labelled.examples) == len(EXPECTED["labels"]) - 2

    def test_metrics_baseline_and_gate(self) -> None:
        vector = EXPECTED["evaluation"]
        expected = vector["expected"]
        baseline = majority_tier(vector["labels"], CONFIG)
        assert baseline == expected["baselineTier"]
        evaluation = evaluate_set("holdout", vector["labels"], vector["candidate"], baseline, CONFIG, vector["current"]).to_json()
        for who in ("candidate", "baseline", "current"):
            want = expected[who]
            got = evaluation[who]
            assert got["tierShares"] == pytest.approx(want["tierShares"], abs=1e-9), who
            for key, value in want.items():
                if key != "tierShares":
                    assert got[key] == pytest.approx(value, abs=1e-9), (who, key)
        assert evaluation["oracleCostPer1kRequestsUsd"] == pytest.approx(expected["oracleCostPer1kRequestsUsd"], abs=1e-9)
        verdict = gate([evaluate_set("holdout", vector["labels"], vector["candidate"], baseline, CONFIG, vector["current"])], CONFIG)
        assert not verdict.passed and len(verdict.reasons) == 2
        assert "misroute rate 0.400 is 0.200 above the current version's 0.200" in verdict.reasons[0]
        assert "routing quality 0.800" in verdict.reasons[1]


class TestDataset:
    def test_a_valid_line_round_trips(self) -> None:
        trace = trace_of()
        assert trace.trace_id == "t-1" and trace.request.context_chars == 120 and trace.reward == 0.9 and trace.misrouted is False

    def test_one_line_reports_every_problem(self) -> None:
        line = json.dumps({**TRACE, "reward": -0.1, "tool_calls": "2", "language": "", "surprise": 1})
        traces, problems, count = parse_lines(["", line])
        assert traces == [] and count == 1 and problems[0].line == 2
        for fragment in ("unknown fields ['surprise']", "reward must be", "tool_calls must be", "language must be"):
            assert fragment in problems[0].message

    def test_undecodable_bytes_fail_their_line_only(self, tmp_path) -> None:
        good = json.dumps(TRACE).encode()
        path = tmp_path / "d.jsonl"
        path.write_bytes(good + b"\n\xff\xfe{\n" + json.dumps({**TRACE, "trace_id": "t-2"}).encode() + b"\r\n")
        dataset = read_dataset(path)
        assert [t.trace_id for t in dataset.traces] == ["t-1", "t-2"] and [p.line for p in dataset.problems] == [2]
        assert dataset.problems[0].message.startswith("not UTF-8")

    def test_a_missing_file_is_no_input(self, tmp_path) -> None:
        with pytest.raises(JobError) as raised:
            read_dataset(tmp_path / "absent.jsonl")
        assert raised.value.code == NO_INPUT

    def test_serving_instances_are_checked_exactly(self) -> None:
        instance = {k: TRACE[k] for k in ("user_message", "agent_id", "language", "context_chars", "tool_calls", "prior_turns")}
        request, problems = parse_request(instance)
        assert request is not None and problems == []
        request, problems = parse_request({**instance, "trace_id": "x", "prior_turns": None})
        assert request is None and "unknown fields ['trace_id']" in problems[0] and "prior_turns must be" in problems[1]
        del instance["agent_id"]
        assert parse_request(instance)[1] == ["missing fields ['agent_id']"]

    def test_holdout_is_a_stable_hash_split(self) -> None:
        ids = [f"trace-{i}" for i in range(4000)]
        held = [i for i in ids if in_holdout(i, 0.2)]
        assert held == [i for i in ids if in_holdout(i, 0.2)]
        assert 0.17 < len(held) / len(ids) < 0.23
        # A larger share holds out a superset: raising it never moves a trace back into training.
        assert set(held) <= {i for i in ids if in_holdout(i, 0.3)}


class TestLabels:
    def test_good_outcome_keeps_the_served_tier(self) -> None:
        assert label_trace(trace_of(route_tier="medium", reward=0.7, feedback_outcome="success"), CONFIG).tier == "medium"

    def test_two_tiers_misrouted_on_the_cheapest_goes_up(self) -> None:
        two = replace(CONFIG, tiers=CONFIG.tiers[::2])
        assert label_trace(trace_of(route_tier="small", misrouted=True), two).tier == "large"
        assert label_trace(trace_of(route_tier="large", misrouted=True), two).tier == "small"
        assert label_trace(trace_of(route_tier="small", error=True), two).tier == "large"

    def test_a_higher_floor_turns_the_same_outcome_bad(self) -> None:
        strict = replace(CONFIG, quality_floor=0.95)
        assert label_trace(trace_of(route_tier="small", reward=0.9), strict).reason == "bad_up"


class TestMetrics:
    def test_refuses_unknown_tiers_and_empty_sets(self) -> None:
        with pytest.raises(ValueError, match="xlarge"):
            routing_metrics(["small"], ["xlarge"], CONFIG)
        with pytest.raises(ValueError, match="no labelled"):
            routing_metrics([], [], CONFIG)

    def test_majority_tie_goes_to_the_dearer_tier(self) -> None:
        assert majority_tier(["small", "large", "large", "small", "medium"], CONFIG) == "large"

    def test_a_rise_of_exactly_the_threshold_passes(self) -> None:
        labels = ["small"] * 10
        current = ["small"] * 10
        candidate = ["medium"] * 1 + ["small"] * 9  # misroute 0.1 = the allowed rise; all at or above label
        verdict = gate([evaluate_set("holdout", labels, candidate, "small", CONFIG, current)], CONFIG)
        assert verdict.passed, verdict.reasons
        candidate = ["medium"] * 2 + ["small"] * 8
        verdict = gate([evaluate_set("holdout", labels, candidate, "small", CONFIG, current)], CONFIG)
        assert not verdict.passed and "above the current version" in verdict.reasons[0]

    def test_without_a_current_version_only_quality_gates(self) -> None:
        labels = ["large"] * 4
        verdict = gate([evaluate_set("golden", labels, ["small", "large", "large", "large"], "large", CONFIG)], CONFIG)
        assert not verdict.passed and verdict.reasons == ("golden: routing quality 0.750 (share routed at or above its label tier) is below the floor 0.850",)
        assert not gate([], CONFIG).passed
