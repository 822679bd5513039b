"""The torch / transformers / TRL layer: loading weights, training with TRL, generating answers.

Kept thin on purpose: every decision (what to train on, how to score, when a checkpoint counts, what to
report) is made by the domain modules one level up, which import no torch and are tested in milliseconds.
"""
