"""``python -m sial_training``: the trainer the entrypoint hands over to (SIAL_MODE train or eval).

Exit codes are exit_codes.py's: a JobError ends with its own code and message; anything unexpected is a
bug (70) with its traceback in the log. Neither is retried by Batch; only a Spot reclaim is.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import traceback
from pathlib import Path

from .contract import mode_of, parse_eval_job, parse_train_job
from .exit_codes import SOFTWARE, JobError
from .store import open_store


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="[sial-training] %(levelname)s %(message)s", stream=sys.stdout)
    log = logging.getLogger("sial_training")
    env = dict(os.environ)
    try:
        mode = mode_of(env)
        store = open_store(env)
        # Local NVMe on p5en (the container's root volume); SIAL_WORKDIR overrides it.
        workdir = Path(env.get("SIAL_WORKDIR") or tempfile.mkdtemp(prefix="sial-"))
        workdir.mkdir(parents=True, exist_ok=True)
        if mode == "train":
            from .hf.train import run_train

            return run_train(parse_train_job(env), store, workdir)
        from .hf.evaluate import run_eval

        return run_eval(parse_eval_job(env), store, workdir)
    except JobError as error:
        log.error("%s", error)
        return error.code
    except Exception:  # noqa: BLE001 - the job's last line of defence: log and say it was a bug
        log.error("unexpected failure (a bug in the trainer, exit %s):\n%s", SOFTWARE, traceback.format_exc())
        return SOFTWARE


if __name__ == "__main__":
    sys.exit(main())
