import os

os.environ.setdefault("MARKETGUARD_ENV", "test")

pytest_plugins = ["marketguard.core.testing.fixtures"]
