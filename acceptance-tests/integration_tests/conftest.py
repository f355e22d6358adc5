"""Registers the markers the airbyte-cdk standard tests put on their tests."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "image_tests: runs the connector's Docker image")
    config.addinivalue_line("markers", "requires_creds: uses a config under secrets/ (here: written for the mock)")
