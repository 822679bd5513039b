# The router image: trains the cascade router's classifier (an AWS Batch job on Fargate) and serves it
# (a SageMaker real-time endpoint). One image for both, so the scikit-learn that writes the pickle is the
# one that loads it. CPU only: a linear model on hashed text needs no accelerator, and Fargate has none.
#
#   docker run IMAGE serve                                  # SageMaker: /opt/ml/model, port 8080
#   docker run IMAGE train --dataset s3://... --out s3://.../ [--current ...] [--golden ...] [--config ...]
#   docker run IMAGE evaluate --model ... [--dataset ...] [--golden ...] [--current ...]
#
# `python -m sial_training.router` is the entry point and dispatches on its first argument (SageMaker
# passes `serve`; the Batch job definition's command passes `train ...`). Exit codes: training/README.md.
#
# Base: the official Python 3.11 slim image (Debian 12) from ECR Public, the same base as the GPU trainer's
# image; pin the digest too when you promote an image.
FROM public.ecr.aws/docker/library/python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --uid 1000 --create-home --shell /bin/bash sial

# The locked CPU set (scikit-learn, numpy, scipy, joblib, boto3), binary wheels only, as CI resolved it.
COPY requirements/router.txt /opt/sial/requirements.txt
RUN python -m venv /opt/sial/venv \
 && /opt/sial/venv/bin/pip install --only-binary=:all: -r /opt/sial/requirements.txt

# The package on PYTHONPATH rather than pip-installed: it has no dependencies of its own and no build step,
# so the image needs no build backend (setuptools) at all.
COPY sial_training /opt/sial/app/sial_training
ENV PATH=/opt/sial/venv/bin:$PATH \
    PYTHONPATH=/opt/sial/app \
    SIAL_WORKDIR=/home/sial/work
# Fail the build, not the first job, when the package does not import with the locked set.
RUN python -c "import sial_training.router.model, sial_training.router.serve, sial_training.router.train"

LABEL org.opencontainers.image.title="sial-router" \
      org.opencontainers.image.description="Self-Improving Agent Loop cascade router: trains (AWS Batch, Fargate) and serves (SageMaker) the tier classifier"

USER 1000
WORKDIR /home/sial
EXPOSE 8080
ENTRYPOINT ["python", "-m", "sial_training.router"]
