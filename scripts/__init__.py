"""Developer scripts. A package only so that `python -m scripts.benchmarks` can import them."""
