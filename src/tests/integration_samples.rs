//! The committed samples in `acceptance-tests/integration_tests/` (where the CDK standard tests
//! find them; see acceptance-test-config.yml) say what they claim: the sample config passes the
//! spec and the connector, the invalid one fails both, and the sample state names incremental
//! streams with cursors the connector reads.

use std::path::PathBuf;

use crate::config::{self, Config};
use crate::protocol::state::InputState;
use crate::read::state::Coverage;
use crate::streams;
use serde_json::Value;

const DIR: &str = "acceptance-tests/integration_tests";

fn sample(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(DIR).join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"))
}

fn spec_validator() -> jsonschema::Validator {
    let spec = config::connector_specification();
    jsonschema::options().should_validate_formats(true).build(&spec["connectionSpecification"]).unwrap()
}

#[test]
fn sample_config_passes_the_spec_and_the_connector_with_a_placeholder_token() {
    let config = sample("sample_config.json");
    let errors: Vec<String> = spec_validator().iter_errors(&config).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "sample_config.json does not match the spec: {errors:?}");
    let token = config["access_token"].as_str().unwrap();
    assert!(token.starts_with('<') && token.ends_with('>'), "the sample's token must be a placeholder, got {token:?}");
    Config::from_value(config, "sample_config.json").expect("the connector accepts sample_config.json");
}

#[test]
fn invalid_config_fails_the_spec_and_the_connector_before_any_request() {
    let config = sample("invalid_config.json");
    assert!(!spec_validator().is_valid(&config), "invalid_config.json matches the spec");
    let error =
        Config::from_value(config, "invalid_config.json").expect_err("the connector accepts invalid_config.json");
    assert!(error.is_config(), "{}", error.message);
}

#[test]
fn sample_state_has_a_cursor_for_every_incremental_stream() {
    let state = InputState::from_value(sample("sample_state.json"), "sample_state.json").expect("a valid state file");
    let start_date = chrono::DateTime::UNIX_EPOCH;
    for stream in streams::STREAMS.iter() {
        let Some(cursor_field) = stream.cursor_field() else { continue };
        let coverage = Coverage::from_saved(stream.name, state.blob(stream.name), cursor_field, start_date)
            .expect("a readable cursor");
        assert!(coverage.cursor > start_date, "sample_state.json has no `{cursor_field}` cursor for `{}`", stream.name);
    }
}
