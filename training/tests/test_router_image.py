"""What can be checked of the router image without Docker: what router.Dockerfile copies exists and
passes the build context, and its lock runs the scikit-learn the tests use. (test_router_training.py
starts the entry point the way SageMaker does, with only the package on PYTHONPATH.)"""

from __future__ import annotations

import re

from conftest import REPO

TRAINING = REPO / "training"
DOCKERFILE = (TRAINING / "router.Dockerfile").read_text()


def test_the_dockerfile_copies_the_lock_and_the_package_and_runs_the_router() -> None:
    copies = re.findall(r"^COPY\s+(\S+)\s+\S+", DOCKERFILE, re.MULTILINE)
    assert copies == ["requirements/router.txt", "sial_training"]
    ignore = (TRAINING / ".dockerignore").read_text().splitlines()
    assert "!requirements/router.txt" in ignore and "!sial_training/" in ignore
    assert 'ENTRYPOINT ["python", "-m", "sial_training.router"]' in DOCKERFILE and "EXPOSE 8080" in DOCKERFILE
    assert "--only-binary=:all: -r /opt/sial/requirements.txt" in DOCKERFILE
    router = dict(line.split("==") for line in (TRAINING / "requirements/router.txt").read_text().splitlines() if "==" in line)
    test = dict(line.split("==") for line in (TRAINING / "requirements/test.txt").read_text().splitlines() if "==" in line)
    # The pickle is written and read by the scikit-learn stack CI tests; the GPU stack stays out.
    for name in ("scikit-learn", "joblib", "numpy", "scipy", "threadpoolctl", "boto3"):
        assert router[name] == test[name], name
    assert "torch" not in router
