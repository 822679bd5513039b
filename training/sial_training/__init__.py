"""The reference trainer and evaluator behind the training job contract (training/README.md).

Everything directly in this package is domain code that imports only the standard library, so it is
tested in milliseconds; the torch / transformers / TRL layer lives in ``sial_training.hf`` and is
imported only when a job actually trains or generates.
"""

__version__ = "0.1.0"
