#!/usr/bin/env bash
# Entrypoint of the training image: the job contract documented in training/README.md. It validates the
# job's environment (every problem at once), chooses the checkpoint a retried attempt resumes from, and
# then hands over to the trainer (`python -m sial_training`, the reference GRPO/DPO trainer and
# evaluator), which replaces this shell so that it receives SIGTERM itself.
set -euo pipefail

# Exit codes (sysexits.h meanings). Batch retries only Spot reclaims (status reason `Host EC2*`);
# every code below is an application error that ends the job, so the code tells the operator why.
readonly EXIT_CONTRACT=64            # EX_USAGE: the job's environment breaks the contract
readonly EXIT_CHECKPOINT_INVALID=65  # EX_DATAERR: the checkpoint pointer exists but is unreadable
readonly EXIT_IMAGE_BROKEN=70        # EX_SOFTWARE: a tool this script needs is missing from the image
readonly EXIT_STORAGE=74             # EX_IOERR: S3 could not be read

readonly RUN_ID_PATTERN='^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$'

log() { printf '[sial-training] %s\n' "$*"; }
fail() {
  local code=$1
  shift
  printf '[sial-training] ERROR: %s\n' "$*" >&2
  exit "$code"
}

problems=()
problem() { problems+=("$*"); }

# value NAME: the variable's value, empty when unset.
value() { printf '%s' "${!1:-}"; }

require_set() {
  [[ -n "$(value "$1")" ]] || problem "$1 is not set"
}

# require_s3 NAME KIND: KIND is `prefix` (must end in /), `object` (must not), or `any`.
require_s3() {
  local name=$1 kind=$2 uri
  uri=$(value "$name")
  if [[ -z "$uri" ]]; then
    problem "$name is not set"
    return
  fi
  if [[ ! "$uri" =~ ^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+ ]]; then
    problem "$name must be an s3:// URI with a key (s3://bucket/key); received \"$uri\""
    return
  fi
  if [[ "$kind" == prefix && "$uri" != */ ]]; then problem "$name is a prefix and must end in /; received \"$uri\""; fi
  if [[ "$kind" == object && "$uri" == */ ]]; then problem "$name names one object and must not end in /; received \"$uri\""; fi
}

require_one_of() {
  local name=$1 v
  shift
  v=$(value "$name")
  for allowed in "$@"; do [[ "$v" == "$allowed" ]] && return; done
  problem "$name must be one of: $*; received \"$v\""
}

validate_common() {
  require_one_of SIAL_MODE train eval
  if [[ ! "$(value SIAL_RUN_ID)" =~ $RUN_ID_PATTERN ]]; then
    problem "SIAL_RUN_ID must be 1-128 letters, digits, - or _ starting with a letter or digit; received \"$(value SIAL_RUN_ID)\""
  fi
  require_s3 SIAL_OUTPUT_URI prefix
}

validate_train() {
  require_s3 SIAL_DATASET_URI prefix
  require_s3 SIAL_MANIFEST_URI object
  require_s3 SIAL_BASE_MODEL_URI any
  require_s3 SIAL_CHECKPOINT_URI prefix
  require_one_of SIAL_ALGORITHM grpo dpo
  require_set SIAL_HYPERPARAMETERS
  local hyperparameters
  hyperparameters=$(value SIAL_HYPERPARAMETERS)
  if [[ -n "$hyperparameters" ]] && ! jq -e 'type == "object"' >/dev/null 2>&1 <<<"$hyperparameters"; then
    problem "SIAL_HYPERPARAMETERS must be a JSON object such as {\"learning_rate\":1e-6}; received \"$hyperparameters\""
  fi
}

validate_eval() {
  require_s3 SIAL_MODEL_URI any
  require_s3 SIAL_GOLDEN_SET_URI any
  require_s3 SIAL_METRICS_URI object
  local metrics
  metrics=$(value SIAL_METRICS_URI)
  if [[ -n "$metrics" && "$metrics" != *.json ]]; then problem "SIAL_METRICS_URI must name a .json object; received \"$metrics\""; fi
}

# read_object URI: the object's body on stdout. S3 through the AWS CLI; in local mode and tests
# (SIAL_OBJECT_STORE_ROOT set) s3://bucket/key is the file <root>/bucket/key, the trainer's own layout.
read_object() {
  local uri=$1
  if [[ -n "${SIAL_OBJECT_STORE_ROOT:-}" ]]; then
    local path="$SIAL_OBJECT_STORE_ROOT/${uri#s3://}"
    if [[ -f "$path" ]]; then cat "$path"; return 0; fi
    echo "An error occurred (404): Key ${uri} does not exist" >&2
    return 1
  fi
  aws s3 cp "$uri" -
}

# Prints the checkpoint directory to resume from, or nothing. The trainer writes each checkpoint to
# <SIAL_CHECKPOINT_URI>step-<N>/ and only then overwrites <SIAL_CHECKPOINT_URI>latest.json with
# {"step": N}: a single-object PUT is atomic, so the pointer never names a half-uploaded checkpoint,
# even when a Spot reclaim cut the upload short.
select_checkpoint() {
  local pointer_uri="${SIAL_CHECKPOINT_URI}latest.json" pointer stderr_file rc=0
  stderr_file=$(mktemp)
  pointer=$(read_object "$pointer_uri" 2>"$stderr_file") || rc=$?
  if ((rc != 0)); then
    local err
    err=$(<"$stderr_file")
    rm -f "$stderr_file"
    if [[ "$err" == *"(404)"* || "$err" == *NoSuchKey* || "$err" == *"does not exist"* ]]; then
      return 0
    fi
    fail "$EXIT_STORAGE" "could not read the checkpoint pointer $pointer_uri: ${err:-aws exited with $rc}"
  fi
  rm -f "$stderr_file"
  if [[ "$pointer" =~ \"step\"[[:space:]]*:[[:space:]]*([0-9]+) ]]; then
    printf '%sstep-%s/' "$SIAL_CHECKPOINT_URI" "${BASH_REMATCH[1]}"
    return 0
  fi
  # Resuming blindly, or silently starting over, could both produce a model from an unknown state.
  fail "$EXIT_CHECKPOINT_INVALID" "the checkpoint pointer $pointer_uri is not {\"step\": <N>}: $(head -c 200 <<<"$pointer")"
}

main() {
  command -v jq >/dev/null 2>&1 || fail "$EXIT_IMAGE_BROKEN" "jq is not in this image; rebuild it from training/Dockerfile"

  validate_common
  # Batch sets the attempt number (1 on the first attempt); outside Batch it is taken as 1.
  local attempt=${AWS_BATCH_JOB_ATTEMPT:-1}
  if [[ ! "$attempt" =~ ^[1-9][0-9]*$ ]]; then
    problem "AWS_BATCH_JOB_ATTEMPT must be a positive integer; received \"$attempt\""
    attempt=1
  fi
  case "$(value SIAL_MODE)" in
    train) validate_train ;;
    eval) validate_eval ;;
  esac

  if ((${#problems[@]} > 0)); then
    printf '[sial-training] ERROR: the job environment breaks the training job contract (training/README.md):\n' >&2
    printf '  - %s\n' "${problems[@]}" >&2
    exit "$EXIT_CONTRACT"
  fi

  local resume_from=''
  if [[ "$SIAL_MODE" == train ]]; then
    if [[ -z "${SIAL_OBJECT_STORE_ROOT:-}" ]]; then
      command -v aws >/dev/null 2>&1 || fail "$EXIT_IMAGE_BROKEN" "the AWS CLI is not in this image; rebuild it from training/Dockerfile"
    fi
    if ((attempt > 1)); then
      # select_checkpoint runs in a subshell: pass its failure (and exit code) on.
      resume_from=$(select_checkpoint) || exit $?
      if [[ -n "$resume_from" ]]; then
        log "attempt $attempt of run $SIAL_RUN_ID resumes from $resume_from"
      else
        log "attempt $attempt of run $SIAL_RUN_ID found no checkpoint under $SIAL_CHECKPOINT_URI: starting from the base model $SIAL_BASE_MODEL_URI"
      fi
    else
      log "attempt 1 of run $SIAL_RUN_ID starts from the base model $SIAL_BASE_MODEL_URI"
    fi
  fi
  export SIAL_RESUME_FROM="$resume_from"

  export AWS_BATCH_JOB_ATTEMPT="$attempt"
  log "contract valid: mode=$SIAL_MODE run=$SIAL_RUN_ID attempt=$attempt${SIAL_ALGORITHM:+ algorithm=$SIAL_ALGORITHM}${resume_from:+ resume=$resume_from}"

  # The trainer: the image's Python (SIAL_PYTHON overrides it, e.g. the repository's .venv locally).
  local python=${SIAL_PYTHON:-python3}
  command -v "$python" >/dev/null 2>&1 || fail "$EXIT_IMAGE_BROKEN" "the trainer's Python ($python) is not in this image; rebuild it from training/Dockerfile"
  # One process per GPU when the node has several (p5en: 8); the trainer publishes from rank 0 only.
  local gpus=0
  if command -v nvidia-smi >/dev/null 2>&1; then gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true); fi
  if [[ "$SIAL_MODE" == train && "$gpus" -gt 1 ]]; then
    exec "$python" -m torch.distributed.run --standalone --nproc_per_node="$gpus" -m sial_training
  fi
  exec "$python" -m sial_training
}

main "$@"
