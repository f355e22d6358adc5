"""airbyte-cdk's standard source tests, run against the connector's Docker image.

Run through ../run-cdk-tests.sh: it builds the image, starts the mock Botmaker API, assembles the
connector root (a directory named `source-botmaker`, with metadata.yaml, acceptance-test-config.yml,
spec/, catalog/, this directory and secrets/ pointing at the mock) and runs pytest in it with
`-p airbyte_cdk.test.standard_tests.pytest_hooks --connector-image IMAGE --read-from-streams=all`.

The tests call `docker run ...`; ../bin/docker forwards those calls to podman.

Besides the CDK's image tests, three tests run in the image what the CDK's in-process
(Python-only) `SourceTestSuiteBase` checks: the catalog checks of `test_discover`, the records of
`test_basic_read` (at least one per stream, every record valid against its stream's JSON schema)
and `test_fail_read_with_bad_catalog`. They use the pinned CDK's own helpers.
"""

from __future__ import annotations

import shutil
import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path

import orjson
import pytest

from airbyte_cdk.models import (
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    DestinationSyncMode,
    SyncMode,
    Type,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput
from airbyte_cdk.test.models import ConnectorTestScenario
from airbyte_cdk.test.standard_tests._catalog_checks import (
    DiscoveredCatalogWarning,
    find_catalog_problems,
    format_catalog_problems,
)
from airbyte_cdk.test.standard_tests._read_assertions import assert_read_records
from airbyte_cdk.test.standard_tests.docker_base import (
    DockerConnectorTestSuite,
    get_discovered_streams,
    get_read_streams,
    skip_unless_runs,
)
from airbyte_cdk.utils.docker import run_docker_command

CONNECTOR_ROOT = Path(__file__).resolve().parent.parent
if not (CONNECTOR_ROOT / "metadata.yaml").is_file() or CONNECTOR_ROOT.name != "source-botmaker":
    raise RuntimeError(
        f"{CONNECTOR_ROOT} is not an assembled connector root (a `source-botmaker` directory with "
        "metadata.yaml and acceptance-test-config.yml). Run acceptance-tests/run-cdk-tests.sh."
    )


class TestSourceBotmaker(DockerConnectorTestSuite):
    """spec, check (good and wrong token), discover and full-refresh read, in the image."""

    @classmethod
    def get_connector_root_dir(cls) -> Path:
        # The CDK names the connector after this directory (`connector_name`), reads
        # metadata.yaml and acceptance-test-config.yml from it and resolves config paths in it.
        return CONNECTOR_ROOT

    # ---- the in-process suite's checks, run in the image ------------------------------------

    def _run(
        self,
        image: str,
        scenario: ConnectorTestScenario,
        verb: str,
        catalog: dict | None = None,
    ) -> tuple[EntrypointOutput, int]:
        """`docker run IMAGE VERB --config ... [--catalog ...]` with the scenario's config.

        Returns the connector's own messages (no synthetic error for a non-zero exit) and the
        exit code.
        """
        with (
            scenario.with_temp_config_file(connector_root=CONNECTOR_ROOT) as config_file,
            tempfile.TemporaryDirectory(prefix="source-botmaker-test") as tmp,
        ):
            mounts = ["-v", f"{config_file}:/secrets/config.json:ro"]
            args = [verb, "--config", "/secrets/config.json"]
            if catalog is not None:
                catalog_file = Path(tmp) / "catalog.json"
                catalog_file.write_bytes(orjson.dumps(catalog))
                catalog_file.chmod(0o644)
                mounts += ["-v", f"{catalog_file}:/secrets/catalog.json:ro"]
                args += ["--catalog", "/secrets/catalog.json"]
            cmd = ["docker", "run", "--rm", *mounts, image, *args]
            process = run_docker_command(
                cmd, capture_stdout=True, capture_stderr=True, raise_if_errors=False
            )
        output = EntrypointOutput(
            messages=process.stdout.splitlines(), command=cmd, stderr=process.stderr
        )
        return output, process.returncode

    def _run_ok(
        self, image: str, scenario: ConnectorTestScenario, verb: str, catalog: dict | None = None
    ) -> EntrypointOutput:
        output, returncode = self._run(image, scenario, verb, catalog)
        output.raise_if_errors()
        assert returncode == 0, f"`{verb}` exited with {returncode}; stderr:\n{output.stderr}"
        return output

    def _discovered(self, image: str, scenario: ConnectorTestScenario) -> list[AirbyteStream]:
        result = self._run_ok(image, scenario, "discover")
        return get_discovered_streams(result, self.connector_name)

    @pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not found in PATH")
    @pytest.mark.image_tests
    def test_image_discover_passes_catalog_checks(
        self, scenario: ConnectorTestScenario, connector_image_override: str | None
    ) -> None:
        """`discover` in the image: exactly one CATALOG, which passes the CDK's catalog checks."""
        skip_unless_runs(scenario, "discover")
        assert connector_image_override, "pass --connector-image"
        result = self._run_ok(connector_image_override, scenario, "discover")
        catalogs = result.get_message_by_types([Type.CATALOG])
        assert len(catalogs) == 1, f"Expected exactly one CATALOG message, got {len(catalogs)}."
        problems = find_catalog_problems(catalogs[0].catalog)
        advisory = {check: found for check, found in problems.items() if not check.enforced}
        if advisory:
            warnings.warn(
                f"Catalog problems not enforced yet:\n{format_catalog_problems(advisory)}",
                category=DiscoveredCatalogWarning,
                stacklevel=1,
            )
        enforced = {check: found for check, found in problems.items() if check.enforced}
        assert not enforced, f"The discovered catalog has problems:\n{format_catalog_problems(enforced)}"

    @pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not found in PATH")
    @pytest.mark.image_tests
    def test_image_basic_read_records_match_schemas(
        self, scenario: ConnectorTestScenario, connector_image_override: str | None
    ) -> None:
        """Full-refresh `read` of every stream in the image: records from each stream, and every
        record valid against its stream's JSON schema (the in-process `test_basic_read`)."""
        skip_unless_runs(scenario, "read")
        if scenario.expected_outcome.expect_exception():
            pytest.skip("The scenario expects a failure.")
        assert connector_image_override, "pass --connector-image"
        streams = get_read_streams(
            scenario, self._discovered(connector_image_override, scenario), CONNECTOR_ROOT
        )
        catalog = ConfiguredAirbyteCatalog(
            streams=[
                ConfiguredAirbyteStream(
                    stream=stream,
                    sync_mode=SyncMode.full_refresh,
                    destination_sync_mode=DestinationSyncMode.append_dedup,
                )
                for stream in streams
            ]
        )
        result = self._run_ok(connector_image_override, scenario, "read", asdict(catalog))
        assert_read_records(
            records=result.records_iterator,
            configured_catalog=catalog,
            require_records_per_stream=True,
            validate_schema=scenario.validate_schema,
        )

    @pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not found in PATH")
    @pytest.mark.image_tests
    def test_image_fail_read_with_bad_catalog(
        self, scenario: ConnectorTestScenario, connector_image_override: str | None
    ) -> None:
        """`read` with an unknown stream and sync mode `INVALID`: an ERROR trace and a non-zero
        exit (the in-process `test_fail_read_with_bad_catalog`)."""
        skip_unless_runs(scenario, "read")
        assert connector_image_override, "pass --connector-image"
        bad_catalog = {
            "streams": [
                {
                    "stream": {
                        "name": "__AIRBYTE__stream_that_does_not_exist",
                        "json_schema": {"type": "object", "properties": {"f1": {"type": "string"}}},
                        "supported_sync_modes": ["full_refresh"],
                    },
                    "sync_mode": "INVALID",
                    "destination_sync_mode": "INVALID",
                }
            ]
        }
        result, returncode = self._run(connector_image_override, scenario, "read", bad_catalog)
        assert result.errors, "Expected an ERROR trace from the connector, got none."
        assert returncode != 0, "Expected a non-zero exit code."
