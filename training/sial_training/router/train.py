"""The router's training and evaluation jobs: read, label, split, fit, evaluate, gate, write.

``run_train`` writes into the output folder:

- ``model.joblib``: the fitted scikit-learn pipeline (a pickle: see model.py's trust boundary);
- ``feature_spec.json``: the input fields and their types, the tiers in cost order, the classes, the
  majority-class baseline tier, versions;
- ``metrics.json``: dataset counts and malformed lines, label reasons, the held-out and golden
  evaluations (candidate, baseline, current version), the gate verdict, CPU and wall seconds;
- ``model.tar.gz``: ``model.joblib`` and ``feature_spec.json`` at its root, the archive SageMaker
  unpacks into ``/opt/ml/model`` for ``serve``.

A refused gate is not a failed job: the verdict is in metrics.json (``gate.passed``) for the pipeline to
act on, and the job exits 0.
"""

from __future__ import annotations

import json
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from ..exit_codes import CONTRACT, DATA, JobError
from .config import RouterConfig
from .dataset import RouterDataset, in_holdout, read_dataset
from .evaluate import GateVerdict, SetEvaluation, evaluate_set, gate, majority_tier
from .locations import ARCHIVE_FILE
from .labels import LabelledExample, LabelledSet, label_traces
from .model import MODEL_FILE, SPEC_FILE, RouterModel, feature_spec, fit_router, load_model, save_model

METRICS_FILE = "metrics.json"
METRICS_FORMAT = "sial-router-metrics/1"
#: metrics.json lists at most this many malformed lines (all are counted).
MAX_LISTED_PROBLEMS = 50

Log = Callable[[str], None]


@dataclass(frozen=True)
class Split:
    train: tuple[LabelledExample, ...]
    holdout: tuple[LabelledExample, ...]


def split(examples: Sequence[LabelledExample], holdout_share: float) -> Split:
    held = [in_holdout(e.trace_id, holdout_share) for e in examples]
    return Split(tuple(e for e, h in zip(examples, held) if not h), tuple(e for e, h in zip(examples, held) if h))


def _dataset_summary(dataset: RouterDataset, labelled: LabelledSet) -> dict[str, Any]:
    return {
        "sha256": dataset.sha256,
        "lines": dataset.lines,
        "valid": len(dataset.traces),
        "malformed": len(dataset.problems),
        "problems": [p.to_json() for p in dataset.problems[:MAX_LISTED_PROBLEMS]],
        "unlabelable": labelled.unlabelable,
        "labelled": len(labelled.examples),
    }


def _read_golden(path: Path, config: RouterConfig) -> tuple[RouterDataset, LabelledSet]:
    golden = read_dataset(path)
    # A reviewed set read in part would give figures no other run can be compared with: refuse it.
    if golden.problems:
        listed = "; ".join(f"line {p.line}: {p.message}" for p in golden.problems[:10])
        raise JobError(DATA, f"golden set {path} has {len(golden.problems)} malformed line(s): {listed}")
    labelled = label_traces(golden.traces, config)
    if not labelled.examples:
        raise JobError(DATA, f"golden set {path} has no labelable rows")
    return golden, labelled


def _evaluate(
    name: str,
    examples: Sequence[LabelledExample],
    candidate: RouterModel,
    baseline_tier: str,
    config: RouterConfig,
    current: RouterModel | None,
) -> SetEvaluation:
    requests = [e.request for e in examples]
    try:
        return evaluate_set(
            name,
            [e.tier for e in examples],
            candidate.predict_tiers(requests),
            baseline_tier,
            config,
            None if current is None else current.predict_tiers(requests),
        )
    except ValueError as error:
        # A current version (or candidate) that predicts tiers the config no longer names.
        raise JobError(DATA, f"cannot evaluate on the {name} set: {error}") from error


def _evaluations(
    holdout: Sequence[LabelledExample],
    golden: Path | None,
    candidate: RouterModel,
    baseline_tier: str,
    config: RouterConfig,
    current: RouterModel | None,
) -> tuple[dict[str, Any], list[SetEvaluation]]:
    report: dict[str, Any] = {"holdout": None, "golden": None}
    evaluations: list[SetEvaluation] = []
    if holdout:
        evaluation = _evaluate("holdout", holdout, candidate, baseline_tier, config, current)
        evaluations.append(evaluation)
        report["holdout"] = evaluation.to_json()
    if golden is not None:
        golden_set, labelled = _read_golden(golden, config)
        evaluation = _evaluate("golden", labelled.examples, candidate, baseline_tier, config, current)
        evaluations.append(evaluation)
        report["golden"] = {"sha256": golden_set.sha256, "unlabelable": labelled.unlabelable, **evaluation.to_json()}
    return report, evaluations


def _current_summary(current_dir: Path | None, current: RouterModel | None) -> dict[str, Any] | None:
    if current is None or current_dir is None:
        return None
    return {"path": str(current_dir), "trainedAt": current.spec.get("trainedAt"), "datasetSha256": current.spec.get("datasetSha256")}


def _resources(cpu_started: float, wall_started: float) -> dict[str, float]:
    cpu = time.process_time() - cpu_started
    # vCPU-hours as Fargate bills them are task vCPUs x wall time; this is the CPU the job actually used.
    return {"cpuSeconds": round(cpu, 3), "wallSeconds": round(time.monotonic() - wall_started, 3), "cpuHours": round(cpu / 3600, 6)}


def _summary_line(name: str, evaluation: dict[str, Any] | None) -> str:
    if evaluation is None:
        return f"{name}: not evaluated"
    c, b = evaluation["candidate"], evaluation["baseline"]
    line = (
        f"{name}: {c['examples']} examples, accuracy {c['accuracy']:.3f} (baseline '{b['tier']}' {b['accuracy']:.3f}), "
        f"misroute {c['misrouteRate']:.3f}, quality {c['routingQuality']:.3f}, top tier {c['topTierShare']:.3f}, "
        f"${c['costPer1kRequestsUsd']:.3f}/1k requests"
    )
    if evaluation["current"] is not None:
        line += f"; current version misroute {evaluation['current']['misrouteRate']:.3f}"
    return line


def _gate_line(verdict: GateVerdict) -> str:
    return "gate: passed" if verdict.passed else "gate: refused: " + " | ".join(verdict.reasons)


def run_train(
    dataset_path: Path,
    config: RouterConfig,
    out_dir: Path,
    current_dir: Path | None = None,
    golden_path: Path | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Trains, evaluates and gates a router; writes the four outputs; returns metrics.json's content."""
    cpu_started, wall_started = time.process_time(), time.monotonic()
    dataset = read_dataset(dataset_path)
    if dataset.problems and len(dataset.problems) > config.max_malformed_share * dataset.lines:
        listed = "; ".join(f"line {p.line}: {p.message}" for p in dataset.problems[:5])
        raise JobError(
            DATA,
            f"router dataset {dataset_path}: {len(dataset.problems)} of {dataset.lines} lines are malformed, more than "
            f"max_malformed_share {config.max_malformed_share} allows (has the export's format changed?): {listed}",
        )
    labelled = label_traces(dataset.traces, config)
    parts = split(labelled.examples, config.holdout_share)
    if not parts.train:
        raise JobError(DATA, f"router dataset {dataset_path}: no labelable rows to train on ({dataset.lines} lines, {len(dataset.problems)} malformed, {labelled.unlabelable} unlabelable)")
    train_labels = [e.tier for e in parts.train]
    model = fit_router([e.request for e in parts.train], train_labels, config.tier_names)
    baseline_tier = majority_tier(train_labels, config)
    current = None if current_dir is None else load_model(current_dir)
    report, evaluations = _evaluations(parts.holdout, golden_path, model, baseline_tier, config, current)
    verdict = gate(evaluations, config)
    trained_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec = feature_spec(model, baseline_tier, {"trainedAt": trained_at, "datasetSha256": dataset.sha256, "trainExamples": len(parts.train)})
    save_model(model, spec, out_dir)
    with tarfile.open(out_dir / ARCHIVE_FILE, "w:gz") as archive:
        for name in (MODEL_FILE, SPEC_FILE):
            archive.add(out_dir / name, arcname=name)
    metrics: dict[str, Any] = {
        "format": METRICS_FORMAT,
        "kind": "train",
        "trainedAt": trained_at,
        "config": config.to_json(),
        "dataset": {**_dataset_summary(dataset, labelled), "trainExamples": len(parts.train), "holdoutExamples": len(parts.holdout)},
        "labels": {"reasons": labelled.reasons, "trainTiers": dict(sorted(Counter(train_labels).items()))},
        "baselineTier": baseline_tier,
        **report,
        "currentVersion": _current_summary(current_dir, current),
        "gate": verdict.to_json(),
        "resources": _resources(cpu_started, wall_started),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    d = metrics["dataset"]
    log(f"dataset: {d['lines']} lines, {d['malformed']} malformed, {d['unlabelable']} unlabelable, {d['trainExamples']} train, {d['holdoutExamples']} held out")
    for problem in dataset.problems[:5]:
        log(f"  line {problem.line}: {problem.message}")
    log(_summary_line("holdout", report["holdout"]))
    if golden_path is not None:
        log(_summary_line("golden", report["golden"]))
    log(_gate_line(verdict))
    r = metrics["resources"]
    log(f"resources: {r['cpuSeconds']} CPU seconds, {r['wallSeconds']} wall seconds; wrote {out_dir}/{{{MODEL_FILE},{SPEC_FILE},{METRICS_FILE},{ARCHIVE_FILE}}}")
    return metrics


def run_evaluate(
    model_dir: Path,
    config: RouterConfig,
    dataset_path: Path | None = None,
    golden_path: Path | None = None,
    current_dir: Path | None = None,
    out_path: Path | None = None,
    log: Log = print,
) -> dict[str, Any]:
    """Evaluates a saved router on a dataset's held-out split and/or a golden set, with the gate."""
    if dataset_path is None and golden_path is None:
        raise JobError(CONTRACT, "nothing to evaluate on: give a dataset (its held-out split is used) or a golden set")
    cpu_started, wall_started = time.process_time(), time.monotonic()
    model = load_model(model_dir)
    baseline_tier = str(model.spec.get("baselineTier", ""))
    if baseline_tier not in config.tier_names:
        raise JobError(DATA, f"{model_dir}/{SPEC_FILE}: baselineTier {baseline_tier!r} is not a configured tier")
    current = None if current_dir is None else load_model(current_dir)
    holdout: tuple[LabelledExample, ...] = ()
    dataset_summary = None
    if dataset_path is not None:
        dataset = read_dataset(dataset_path)
        labelled = label_traces(dataset.traces, config)
        holdout = split(labelled.examples, config.holdout_share).holdout
        dataset_summary = {**_dataset_summary(dataset, labelled), "holdoutExamples": len(holdout)}
    report, evaluations = _evaluations(holdout, golden_path, model, baseline_tier, config, current)
    verdict = gate(evaluations, config)
    metrics: dict[str, Any] = {
        "format": METRICS_FORMAT,
        "kind": "evaluate",
        "model": {"path": str(model_dir), "trainedAt": model.spec.get("trainedAt"), "datasetSha256": model.spec.get("datasetSha256")},
        "config": config.to_json(),
        "dataset": dataset_summary,
        "baselineTier": baseline_tier,
        **report,
        "currentVersion": _current_summary(current_dir, current),
        "gate": verdict.to_json(),
        "resources": _resources(cpu_started, wall_started),
    }
    if out_path is not None:
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    log(_summary_line("holdout", report["holdout"]))
    if golden_path is not None:
        log(_summary_line("golden", report["golden"]))
    log(_gate_line(verdict))
    return metrics
