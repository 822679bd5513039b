"""What can be checked of the image without Docker: the Dockerfile copies what the package needs, the
build context lets it through, and the image's entrypoint and Python settings agree with the package."""

from __future__ import annotations

import fnmatch
import re

from conftest import REPO

TRAINING = REPO / "training"


def _copies() -> list[str]:
    return [m.group(1) for m in re.finditer(r"^COPY\s+(\S+)\s+\S+", (TRAINING / "Dockerfile").read_text(), re.MULTILINE)]


def test_the_dockerfile_copies_the_package_the_lock_and_the_entrypoint() -> None:
    copies = _copies()
    assert copies == ["requirements/image.txt", "pyproject.toml", "sial_training", "entrypoint.sh"]
    for source in copies:
        assert (TRAINING / source).exists(), source


def test_the_build_context_keeps_every_file_the_dockerfile_copies() -> None:
    rules = [line.strip() for line in (TRAINING / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]

    def included(path: str) -> bool:
        keep = True
        for rule in rules:
            negate = rule.startswith("!")
            pattern = rule[1:] if negate else rule
            if fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern.rstrip("/") + "/*") or path.startswith(pattern.rstrip("/") + "/"):
                keep = negate
        return keep

    package_files = [p.relative_to(TRAINING).as_posix() for p in (TRAINING / "sial_training").rglob("*.py")]
    assert package_files and all(included(f) for f in package_files)
    for source in ("requirements/image.txt", "pyproject.toml", "entrypoint.sh"):
        assert included(source), source
    assert not included("tests/test_image.py") and not included("golden-sets/qwen3-4b/golden.jsonl")


def test_the_image_runs_the_package_from_its_venv_offline() -> None:
    dockerfile = (TRAINING / "Dockerfile").read_text()
    assert "SIAL_PYTHON=/opt/sial/venv/bin/python" in dockerfile
    assert 'ENTRYPOINT ["/opt/sial/entrypoint.sh"]' in dockerfile
    assert "HF_HUB_OFFLINE=1" in dockerfile and "--only-binary=:all: -r /opt/sial/requirements.txt" in dockerfile
    # The lock holds the same library versions as the CPU test set CI trains with.
    image = dict(line.split("==") for line in (TRAINING / "requirements/image.txt").read_text().splitlines() if "==" in line)
    test = dict(line.split("==") for line in (TRAINING / "requirements/test.txt").read_text().splitlines() if "==" in line)
    for name in ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "tokenizers", "safetensors", "boto3"):
        assert image[name] == test[name], name
    assert "vllm" in image and "vllm" not in test
