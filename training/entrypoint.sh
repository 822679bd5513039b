#!/usr/bin/env bash
# Entrypoint of the training image: the job contract of DESIGN.md section 3, documented in
# training/README.md. It validates the job's environment (every problem at once), chooses the
# checkpoint a retried attempt resumes from, and then hands over to the trainer.
#
# The reference GRPO/DPO trainer is a later issue. Until it is in the image this script stops after
# validation and checkpoint selection with EXIT_TRAINER_NOT_IN_IMAGE and says so: a placeholder that
# fails loudly, never a fake success that would let a pipeline register a model nobody trained.
set -euo pipefail

# Exit codes (sysexits.h meanings). Batch retries only Spot reclaims (status reason `Host EC2*`);
# every code below is an application error that ends the job, so the code tells the operator why.
readonly EXIT_CONTRACT=64            # EX_USAGE: the job's environment breaks the contract
readonly EXIT_CHECKPOINT_INVALID=65  # EX_DATAERR: the checkpoint pointer exists but is unreadable
readonly EXIT_TRAINER_NOT_IN_IMAGE=69 # EX_UNAVAILABLE: no trainer in this image yet
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
  require_s3 SIAL_DATASET_URI object
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

# Prints the checkpoint directory to resume from, or nothing. The trainer writes each checkpoint to
# <SIAL_CHECKPOINT_URI>step-<N>/ and only then overwrites <SIAL_CHECKPOINT_URI>latest.json with
# {"step": N}: a single-object PUT is atomic, so the pointer never names a half-uploaded checkpoint,
# even when a Spot reclaim cut the upload short.
select_checkpoint() {
  local pointer_uri="${SIAL_CHECKPOINT_URI}latest.json" pointer stderr_file rc=0
  stderr_file=$(mktemp)
  pointer=$(aws s3 cp "$pointer_uri" - 2>"$stderr_file") || rc=$?
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
    command -v aws >/dev/null 2>&1 || fail "$EXIT_IMAGE_BROKEN" "the AWS CLI is not in this image; rebuild it from training/Dockerfile"
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

  log "contract valid: mode=$SIAL_MODE run=$SIAL_RUN_ID attempt=$attempt${SIAL_ALGORITHM:+ algorithm=$SIAL_ALGORITHM}${resume_from:+ resume=$resume_from}"
  fail "$EXIT_TRAINER_NOT_IN_IMAGE" "SIAL_TRAINER_NOT_IN_IMAGE: the reference GRPO/DPO trainer is not in this image yet (training/README.md, \"Status\"). The job contract was validated and the resume point chosen, but no model was trained and no metrics were written."
}

main "$@"
