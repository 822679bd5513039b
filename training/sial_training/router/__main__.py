"""``python -m sial_training.router train|evaluate|serve``: the router image's entry point.

SageMaker runs the container with the argument ``serve``; the AWS Batch job runs ``train ...``. Exit
codes are exit_codes.py's: 0 done (a refused gate included: the verdict is in metrics.json), 64 a usage
or config problem, 65 invalid data, 66 a named input that does not exist, 70 a bug (traceback logged).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import NoReturn, Sequence

from ..exit_codes import CONTRACT, SOFTWARE, JobError


class _Parser(argparse.ArgumentParser):
    # argparse exits 2 on a usage error; the job contract says 64.
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise JobError(CONTRACT, f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m sial_training.router", description="Train, evaluate or serve the cascade router's classifier.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    config_help = "router config JSON file, a path or an s3:// URI (default: the SIAL_ROUTER_CONFIG variable's JSON)"

    train = commands.add_parser("train", help="train, evaluate and gate a router; write model.joblib, feature_spec.json, metrics.json, model.tar.gz")
    train.add_argument("--dataset", required=True, help="router training set (JSON Lines): a path or an s3:// URI")
    train.add_argument("--config", help=config_help)
    train.add_argument("--out", required=True, help="output folder, or an s3:// prefix the outputs are uploaded to (metrics.json last)")
    train.add_argument("--current", help="the current router version: a folder, a model.tar.gz, or an s3:// URI of either (a prefix ends in /)")
    train.add_argument("--golden", help="golden set in the dataset's line format")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved router (and gate it) on a dataset's held-out split and/or a golden set")
    evaluate.add_argument("--model", required=True, help="the candidate: a folder, a model.tar.gz, or an s3:// URI of either")
    evaluate.add_argument("--config", help=config_help)
    evaluate.add_argument("--dataset", help="router dataset; its held-out split is evaluated")
    evaluate.add_argument("--golden", help="golden set in the dataset's line format")
    evaluate.add_argument("--current", help="the current router version: a folder, a model.tar.gz, or an s3:// URI of either")
    evaluate.add_argument("--out", help="write the metrics JSON to this file (a path or an s3:// object URI)")

    serve = commands.add_parser("serve", help="the SageMaker inference server (GET /ping, POST /invocations)")
    serve.add_argument("--model-dir", type=Path, default=Path("/opt/ml/model"))
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, help="default: SAGEMAKER_BIND_TO_PORT or 8080")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="[sial-router] %(levelname)s %(message)s", stream=sys.stdout)
    logger = logging.getLogger("sial_training.router")
    try:
        args = _parser().parse_args(argv)
        # scikit-learn is imported only here, so a usage error answers without loading it.
        from .config import load_config

        if args.command == "serve":
            from .serve import serve

            serve(args.model_dir, args.host, args.port)
            return 0
        from ..store import FileObjectStore, open_store
        from .locations import fetch_file, fetch_model, is_uri, output_folder, publish

        env = dict(os.environ)
        given = [args.config, args.current, args.golden, args.dataset, args.out, getattr(args, "model", None)]
        # S3 is opened only when a URI was given: local runs need neither boto3 nor credentials.
        store = open_store(env) if any(g is not None and is_uri(g) for g in given) else FileObjectStore(tempfile.gettempdir())
        # Local scratch for fetched inputs and staged outputs (the Fargate task's ephemeral storage).
        scratch = Path(env.get("SIAL_WORKDIR") or tempfile.mkdtemp(prefix="sial-router-"))
        config_path = None if args.config is None else str(fetch_file(args.config, store, scratch, "router config"))
        config = load_config(config_path, env)
        current = None if args.current is None else fetch_model(args.current, store, scratch, "current version")
        golden = None if args.golden is None else fetch_file(args.golden, store, scratch, "golden set")
        if args.command == "train":
            from .train import run_train

            out = output_folder(args.out, scratch)
            run_train(fetch_file(args.dataset, store, scratch, "router dataset"), config, out, current, golden, log=logger.info)
            publish(out, args.out, store)
        else:
            from .train import run_evaluate

            model = fetch_model(args.model, store, scratch, "candidate")
            dataset = None if args.dataset is None else fetch_file(args.dataset, store, scratch, "router dataset")
            # --out names the metrics file itself (a path, or an object URI uploaded once written).
            out_file = None if args.out is None else scratch / "evaluation.json" if is_uri(args.out) else Path(args.out)
            run_evaluate(model, config, dataset, golden, current, out_file, log=logger.info)
            if out_file is not None and is_uri(args.out):
                store.upload_file(out_file, args.out)
        return 0
    except JobError as error:
        logger.error("%s", error)
        return error.code
    except Exception:  # noqa: BLE001 - the job's last line of defence: log and say it was a bug
        logger.error("unexpected failure (a bug in the router job, exit %s):\n%s", SOFTWARE, traceback.format_exc())
        return SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
