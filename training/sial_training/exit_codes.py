"""Exit codes of the training job (sysexits.h meanings), shared with entrypoint.sh.

AWS Batch retries only attempts whose status reason is ``Host EC2*`` (a Spot reclaim or a lost host);
every exit code ends the job, so the code tells the operator why it ended.
"""

from __future__ import annotations

OK = 0
#: The job's environment breaks the contract (every problem listed at once).
CONTRACT = 64
#: Input data is invalid: a checkpoint pointer that is not {"step": N}, a dataset line that breaks its
#: format, a manifest whose hash does not match the files, an unusable base model.
DATA = 65
#: An input object the contract names does not exist (dataset, manifest, base model, golden set).
NO_INPUT = 66
#: A bug or an unexpected failure inside the trainer (the traceback is in the log).
SOFTWARE = 70
#: S3 could not be read or written (access denied, throttling, network).
STORAGE = 74
#: Interrupted by SIGTERM (a Spot notice or a stop): the newest checkpoint was written and the pointer
#: moved, so a retried attempt resumes from it.
INTERRUPTED = 75


class JobError(Exception):
    """An error that ends the job with a specific exit code and a message for the operator."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
