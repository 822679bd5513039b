"""The router's features and classifier: a scikit-learn Pipeline, saved with joblib.

Features (one sparse row per request):

- the user message as hashed word 1-2-grams and character 3-5-grams (within word boundaries, so Korean
  or Chinese text, which has few spaces, still gives useful features). ``HashingVectorizer`` has no
  vocabulary: nothing is fitted on the text, nothing to store, fixed memory, and a word never seen in
  training simply lands in a bucket the model has weighted 0;
- ``agent_id`` and ``language`` one-hot (an agent or language unseen in training encodes as all zeros);
- ``context_chars``, ``tool_calls``, ``prior_turns`` as log1p then standardised: these counts are heavy
  tailed, and log1p keeps one 200k-character context from dominating the linear score.

Classifier: multinomial logistic regression (lbfgs, L2, C=1). Why not gradient boosting: the input is a few
hundred thousand sparse text columns, which trees handle poorly and slowly; the job's budget is a few CPU
minutes on Fargate; and the serving side needs *probabilities* it can threshold by cost (send to the
small tier only when P(small suffices) is high), which logistic regression gives reasonably calibrated
out of the box while boosted trees need a separate calibration step. lbfgs is deterministic for given
data; ``random_state`` is fixed anyway.

**Artifact trust boundary.** ``model.joblib`` is a pickle: loading it runs code named in the file. Load
only artifacts this pipeline wrote to our own registry bucket (the training job's output prefix, under
the bucket's KMS key and IAM policy), never a file from a user or the internet. ``feature_spec.json``
beside it is plain JSON (inputs, classes, versions) and is checked before the pickle is loaded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import joblib
import numpy as np
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from ..exit_codes import DATA, NO_INPUT, JobError
from .dataset import FEATURE_FIELDS, RouterRequest

MODEL_FILE = "model.joblib"
SPEC_FILE = "feature_spec.json"
#: Bumped when the features or the artifact layout change; serving refuses a spec it does not know.
SPEC_FORMAT = "sial-router-features/1"
SEED = 42
#: Buckets per hashed text family (words, characters). 2**16 each keeps the coefficient matrix at
#: tiers x 131,072 floats (about 1 MB a tier before compression) and lbfgs fast (a few seconds for
#: thousands of traces on one core); collisions in a support-traffic vocabulary cost little accuracy.
HASH_BUCKETS = 2**16

# Column positions in the object array the pipeline takes (FEATURE_FIELDS' order).
_MESSAGE, _AGENT, _LANGUAGE = 0, 1, 2
_COUNTS = [3, 4, 5]


def log1p_counts(values: Any) -> Any:
    """log1p of the count columns as floats (a module-level function so the pickle can name it)."""
    return np.log1p(np.asarray(values, dtype=np.float64))


def build_pipeline(c: float = 1.0) -> Pipeline:
    features = ColumnTransformer(
        [
            # alternate_sign=False: counts stay non-negative, so a collision adds rather than cancels.
            ("words", HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=HASH_BUCKETS, alternate_sign=False, norm="l2"), _MESSAGE),
            ("chars", HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=HASH_BUCKETS, alternate_sign=False, norm="l2"), _MESSAGE),
            ("categories", OneHotEncoder(handle_unknown="ignore"), [_AGENT, _LANGUAGE]),
            ("counts", Pipeline([("log1p", FunctionTransformer(log1p_counts)), ("scale", StandardScaler())]), _COUNTS),
        ],
        sparse_threshold=1.0,
    )
    return Pipeline([("features", features), ("classifier", LogisticRegression(C=c, max_iter=1000, random_state=SEED))])


def to_matrix(requests: Sequence[RouterRequest]) -> Any:
    rows = [[r.user_message, r.agent_id, r.language, r.context_chars, r.tool_calls, r.prior_turns] for r in requests]
    return np.array(rows, dtype=object).reshape(len(rows), len(FEATURE_FIELDS))


@dataclass(frozen=True)
class Prediction:
    tier: str
    probabilities: dict[str, float]


class RouterModel:
    """A fitted pipeline plus its spec: the tiers in cost order and the classes it knows."""

    def __init__(self, pipeline: Pipeline, tiers: Sequence[str], spec: dict[str, Any] | None = None) -> None:
        self.pipeline = pipeline
        self.tiers = tuple(tiers)
        self.classes: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self.spec = spec or {}

    def predict(self, requests: Sequence[RouterRequest]) -> list[Prediction]:
        if not requests:
            return []
        probabilities = self.pipeline.predict_proba(to_matrix(requests))
        predictions = []
        for row in probabilities:
            by_class = {c: float(p) for c, p in zip(self.classes, row)}
            # argmax; an exact tie goes to the dearer tier (quality first), deterministically.
            tier = max(self.classes, key=lambda c: (by_class[c], self.tiers.index(c)))
            # Every configured tier is listed, in cost order; tiers never seen in training have 0.
            predictions.append(Prediction(tier, {t: by_class.get(t, 0.0) for t in self.tiers}))
        return predictions

    def predict_tiers(self, requests: Sequence[RouterRequest]) -> list[str]:
        return [p.tier for p in self.predict(requests)]


def fit_router(requests: Sequence[RouterRequest], labels: Sequence[str], tiers: Sequence[str]) -> RouterModel:
    """JobError(65) when the labels leave nothing to learn (fewer than two distinct tiers)."""
    distinct = sorted(set(labels), key=list(tiers).index)
    if len(distinct) < 2:
        raise JobError(DATA, f"the training labels hold {len(distinct)} distinct tier(s) ({distinct}); a router needs at least two")
    pipeline = build_pipeline()
    pipeline.fit(to_matrix(requests), np.array(labels, dtype=object))
    return RouterModel(pipeline, tiers)


def feature_spec(model: RouterModel, baseline_tier: str, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": SPEC_FORMAT,
        "inputs": [{"name": name, "type": kind} for name, kind in FEATURE_FIELDS],
        "tiers": list(model.tiers),
        "classes": list(model.classes),
        "baselineTier": baseline_tier,
        "sklearnVersion": sklearn.__version__,
        **extra,
    }


def save_model(model: RouterModel, spec: dict[str, Any], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    # compress: the hashed text columns make the coefficient matrix large but mostly zero.
    joblib.dump(model.pipeline, folder / MODEL_FILE, compress=3)
    (folder / SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def load_model(folder: Path | str) -> RouterModel:
    """A router saved by save_model. Trust boundary: only folders from our own registry bucket."""
    folder = Path(folder)
    spec_path, model_path = folder / SPEC_FILE, folder / MODEL_FILE
    for path in (spec_path, model_path):
        if not path.is_file():
            raise JobError(NO_INPUT, f"router artifact {path} does not exist")
    try:
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise JobError(DATA, f"{spec_path} is not JSON: {error}") from error
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise JobError(DATA, f"{spec_path} is not a {SPEC_FORMAT} spec; received format {spec.get('format') if isinstance(spec, dict) else spec!r}")
    inputs = [(i.get("name"), i.get("type")) for i in spec.get("inputs", []) if isinstance(i, dict)]
    if inputs != list(FEATURE_FIELDS):
        raise JobError(DATA, f"{spec_path} lists inputs {inputs}; this code feeds {list(FEATURE_FIELDS)}")
    if spec.get("sklearnVersion") != sklearn.__version__:
        # A pickle from another scikit-learn version may load and still predict differently.
        raise JobError(DATA, f"{model_path} was written by scikit-learn {spec.get('sklearnVersion')}; this image has {sklearn.__version__}")
    try:
        pipeline = joblib.load(model_path)
    except Exception as error:  # a truncated or foreign file: unpickling raises anything
        raise JobError(DATA, f"{model_path} cannot be loaded: {type(error).__name__}: {error}") from error
    if not hasattr(pipeline, "predict_proba") or not hasattr(pipeline, "classes_"):
        raise JobError(DATA, f"{model_path} holds a {type(pipeline).__name__}, not a fitted router pipeline")
    tiers = spec.get("tiers")
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        raise JobError(DATA, f"{spec_path}.tiers must be a list of tier names")
    missing = sorted(set(str(c) for c in pipeline.classes_) - set(tiers))
    if missing:
        raise JobError(DATA, f"{model_path} predicts tiers {missing} that {spec_path} does not list")
    return RouterModel(pipeline, tiers, spec)
