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
    config_help = "router config JSON file (default: the SIAL_ROUTER_CONFIG variable's JSON)"

    train = commands.add_parser("train", help="train, evaluate and gate a router; write model.joblib, feature_spec.json, metrics.json, model.tar.gz")
    train.add_argument("--dataset", type=Path, required=True, help="router training set (JSON Lines)")
    train.add_argument("--config", help=config_help)
    train.add_argument("--out", type=Path, required=True, help="output folder")
    train.add_argument("--current", type=Path, help="the current router version's artifact folder, to compare with and gate against")
    train.add_argument("--golden", type=Path, help="golden set in the dataset's line format")

    evaluate = commands.add_parser("evaluate", help="evaluate a saved router (and gate it) on a dataset's held-out split and/or a golden set")
    evaluate.add_argument("--model", type=Path, required=True, help="the candidate's artifact folder")
    evaluate.add_argument("--config", help=config_help)
    evaluate.add_argument("--dataset", type=Path, help="router dataset; its held-out split is evaluated")
    evaluate.add_argument("--golden", type=Path, help="golden set in the dataset's line format")
    evaluate.add_argument("--current", type=Path, help="the current router version's artifact folder")
    evaluate.add_argument("--out", type=Path, help="write the metrics JSON here")

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
        config = load_config(args.config, os.environ)
        if args.command == "train":
            from .train import run_train

            run_train(args.dataset, config, args.out, args.current, args.golden, log=logger.info)
        else:
            from .train import run_evaluate

            run_evaluate(args.model, config, args.dataset, args.golden, args.current, args.out, log=logger.info)
        return 0
    except JobError as error:
        logger.error("%s", error)
        return error.code
    except Exception:  # noqa: BLE001 - the job's last line of defence: log and say it was a bug
        logger.error("unexpected failure (a bug in the router job, exit %s):\n%s", SOFTWARE, traceback.format_exc())
        return SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
