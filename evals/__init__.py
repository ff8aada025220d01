"""Known-answer evals: load a dataset (../shared/evals/FORMAT.md), run it, gate on thresholds."""
