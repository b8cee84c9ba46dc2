"""mlgate: a CI/CD gatekeeper for models on the MLflow Model Registry.

The package's modules are imported lazily by the CLI so that `mlgate --help` stays fast:
mlflow, scikit-learn and pandas are loaded only by the commands that need them.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
