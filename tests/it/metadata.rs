//! Packaging consistency: `metadata.yaml`, the `Dockerfile` and `Cargo.toml` must agree on the
//! connector's name, version and entrypoint, and `metadata.yaml` must carry the fields Airbyte's
//! registry and test tooling read. `acceptance-tests/acceptance-test-config.yml` must stay within
//! what airbyte-cdk's standard tests accept.
//!
//! No YAML crate is added for this: `metadata.yaml` is kept to block style (mappings, `- item`
//! lists, plain or quoted scalars, and the empty `[]` / `{}`), which the small reader below
//! understands.

use std::path::PathBuf;

use serde_json::{json, Map, Value};
use source_botmaker::{catalog, specification};

fn read(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

// ---- a block-style YAML subset reader -----------------------------------------------------------

struct Line {
    number: usize,
    indent: usize,
    text: String,
}

fn strip_comment(line: &str) -> &str {
    // A `#` starts a comment at the line start or after a space, outside quotes.
    let (mut single, mut double) = (false, false);
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'#' if !single && !double && (i == 0 || bytes[i - 1] == b' ') => return &line[..i],
            _ => {}
        }
    }
    line
}

fn scalar(raw: &str, line: usize) -> Value {
    let raw = raw.trim();
    match raw {
        "[]" => return Value::Array(Vec::new()),
        "{}" => return Value::Object(Map::new()),
        _ => {}
    }
    assert!(
        !raw.starts_with('[') && !raw.starts_with('{') && !raw.starts_with('&') && !raw.starts_with('*'),
        "line {line}: flow collections, anchors and aliases are not supported here; use block style"
    );
    if raw.len() >= 2 && raw.starts_with('"') && raw.ends_with('"') {
        return Value::String(serde_json::from_str::<String>(raw).unwrap_or_else(|e| panic!("line {line}: {e}")));
    }
    if raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'') {
        return Value::String(raw[1..raw.len() - 1].replace("''", "'"));
    }
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" | "~" | "" => Value::Null,
        _ => Value::String(raw.to_string()),
    }
}

/// Splits `key: rest` (the colon must be followed by a space or end the line).
fn split_key(text: &str) -> Option<(&str, &str)> {
    let idx = text.find(": ").or_else(|| text.ends_with(':').then(|| text.len() - 1))?;
    let key = text[..idx].trim();
    (!key.is_empty() && !key.starts_with('"') && !key.starts_with('\'')).then(|| (key, text[idx + 1..].trim()))
}

fn parse_node(lines: &[Line], pos: &mut usize, indent: usize) -> Value {
    if lines[*pos].text.starts_with("- ") || lines[*pos].text == "-" {
        parse_sequence(lines, pos, indent)
    } else {
        parse_mapping(lines, pos, indent)
    }
}

fn parse_mapping(lines: &[Line], pos: &mut usize, indent: usize) -> Value {
    let mut map = Map::new();
    while *pos < lines.len() && lines[*pos].indent == indent && !lines[*pos].text.starts_with('-') {
        let line = &lines[*pos];
        let (key, rest) =
            split_key(&line.text).unwrap_or_else(|| panic!("line {}: expected `key: value`", line.number));
        *pos += 1;
        let value = if !rest.is_empty() {
            scalar(rest, line.number)
        } else if *pos < lines.len()
            && (lines[*pos].indent > indent || (lines[*pos].indent == indent && lines[*pos].text.starts_with("- ")))
        {
            let child_indent = lines[*pos].indent;
            parse_node(lines, pos, child_indent)
        } else {
            Value::Null
        };
        assert!(map.insert(key.to_string(), value).is_none(), "line {}: duplicate key `{key}`", line.number);
    }
    if *pos < lines.len() && lines[*pos].indent > indent {
        panic!("line {}: unexpected indentation", lines[*pos].number);
    }
    Value::Object(map)
}

fn parse_sequence(lines: &[Line], pos: &mut usize, indent: usize) -> Value {
    let mut items = Vec::new();
    while *pos < lines.len() && lines[*pos].indent == indent && lines[*pos].text.starts_with('-') {
        let line = &lines[*pos];
        let rest = line.text[1..].trim_start();
        if rest.is_empty() {
            *pos += 1;
            let child_indent = lines[*pos].indent;
            assert!(child_indent > indent, "line {}: empty list item", line.number);
            items.push(parse_node(lines, pos, child_indent));
        } else if split_key(rest).is_some() {
            // `- key: value` starts a mapping whose keys sit at the column after "- ".
            let item_indent = indent + (line.text.len() - rest.len());
            let mut sub = vec![Line { number: line.number, indent: item_indent, text: rest.to_string() }];
            *pos += 1;
            while *pos < lines.len() && lines[*pos].indent >= item_indent {
                sub.push(Line {
                    number: lines[*pos].number,
                    indent: lines[*pos].indent,
                    text: lines[*pos].text.clone(),
                });
                *pos += 1;
            }
            let mut sub_pos = 0;
            items.push(parse_mapping(&sub, &mut sub_pos, item_indent));
            assert_eq!(sub_pos, sub.len(), "line {}: could not parse list item", line.number);
        } else {
            items.push(scalar(rest, line.number));
            *pos += 1;
        }
    }
    Value::Array(items)
}

/// Parses the block-style YAML subset described in the module doc into JSON.
fn parse_yaml(text: &str) -> Value {
    let lines: Vec<Line> = text
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            assert!(!raw.contains('\t'), "line {}: tabs are not allowed in YAML indentation", i + 1);
            let content = strip_comment(raw).trim_end();
            let text = content.trim_start();
            (!text.is_empty() && text != "---").then(|| Line {
                number: i + 1,
                indent: content.len() - text.len(),
                text: text.to_string(),
            })
        })
        .collect();
    if lines.is_empty() {
        return Value::Null;
    }
    let mut pos = 0;
    let value = parse_node(&lines, &mut pos, lines[0].indent);
    assert_eq!(pos, lines.len(), "line {}: unexpected content", lines.get(pos).map_or(0, |l| l.number));
    value
}

#[test]
fn yaml_reader_understands_the_subset() {
    let v = parse_yaml(
        "# comment\na:\n  b: 1 # trailing\n  z: []\n  c: \"x: #y\"\n  d:\n    - p\n    - 'q''s'\n  e:\n  - k: v\n    l:\n      - 1\n  - m: true\nf: \"1.0\"\n",
    );
    assert_eq!(
        v,
        json!({"a": {"b": "1", "z": [], "c": "x: #y", "d": ["p", "q's"], "e": [{"k": "v", "l": ["1"]}, {"m": true}]}, "f": "1.0"})
    );
}

// ---- the files --------------------------------------------------------------------------------

fn metadata() -> Value {
    parse_yaml(&read("metadata.yaml"))
}

fn data_str<'a>(metadata: &'a Value, key: &str) -> &'a str {
    metadata["data"][key].as_str().unwrap_or_else(|| panic!("metadata.yaml: `data.{key}` must be a string"))
}

/// The Dockerfile's instructions with `\` continuations joined, comments dropped.
fn dockerfile_instructions() -> Vec<String> {
    let text = read("Dockerfile");
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(head) = trimmed.strip_suffix('\\') {
            current.push_str(head);
            current.push(' ');
        } else {
            current.push_str(trimmed);
            if !current.trim().is_empty() {
                out.push(current.trim().to_string());
            }
            current.clear();
        }
    }
    out
}

/// Instructions of the last stage (the image that is shipped).
fn runtime_stage() -> Vec<String> {
    let all = dockerfile_instructions();
    let last_from =
        all.iter().rposition(|i| i.to_ascii_uppercase().starts_with("FROM ")).expect("Dockerfile has no FROM");
    all[last_from..].to_vec()
}

/// `KEY=value` pairs of `LABEL`/`ENV` instructions (quoted values unquoted).
fn key_values(stage: &[String], instruction: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for ins in stage {
        let Some(rest) = ins.strip_prefix(instruction).filter(|r| r.starts_with(' ')) else { continue };
        let mut rest = rest.trim();
        while !rest.is_empty() {
            let eq = rest.find('=').unwrap_or_else(|| panic!("Dockerfile: use `{instruction} key=value`: {ins}"));
            let key = rest[..eq].trim().to_string();
            rest = &rest[eq + 1..];
            let value;
            if let Some(quoted) = rest.strip_prefix('"') {
                let end = quoted.find('"').unwrap_or_else(|| panic!("Dockerfile: unterminated quote: {ins}"));
                value = quoted[..end].to_string();
                rest = quoted[end + 1..].trim_start();
            } else {
                let end = rest.find(' ').unwrap_or(rest.len());
                value = rest[..end].to_string();
                rest = rest[end..].trim_start();
            }
            pairs.push((key, value));
        }
    }
    pairs
}

fn lookup(pairs: &[(String, String)], key: &str, what: &str) -> String {
    let found: Vec<&String> = pairs.iter().filter(|(k, _)| k == key).map(|(_, v)| v).collect();
    assert_eq!(found.len(), 1, "the Dockerfile's runtime stage must set {what} `{key}` exactly once");
    found[0].clone()
}

// ---- the tests --------------------------------------------------------------------------------

#[test]
fn metadata_has_the_required_fields() {
    let m = metadata();
    assert_eq!(m["metadataSpecVersion"], json!("1.0"), "metadataSpecVersion must be the string \"1.0\"");
    for key in [
        "connectorType",
        "connectorSubtype",
        "definitionId",
        "dockerRepository",
        "dockerImageTag",
        "name",
        "documentationUrl",
        "icon",
        "releaseDate",
        "githubIssueLabel",
        "license",
        "releaseStage",
        "supportLevel",
    ] {
        assert!(!data_str(&m, key).is_empty(), "metadata.yaml: `data.{key}` is empty");
    }
    assert_eq!(data_str(&m, "connectorType"), "source");
    assert_eq!(data_str(&m, "connectorSubtype"), "api");
    assert_eq!(data_str(&m, "name"), "Botmaker");
    assert_eq!(data_str(&m, "dockerRepository"), "airbyte/source-botmaker");
    assert_eq!(data_str(&m, "githubIssueLabel"), "source-botmaker");
    assert_eq!(data_str(&m, "license"), env!("CARGO_PKG_LICENSE"), "metadata license must match Cargo.toml");
    assert!(["alpha", "beta", "generally_available", "custom"].contains(&data_str(&m, "releaseStage")));
    assert!(["community", "certified", "archived"].contains(&data_str(&m, "supportLevel")));
    assert_eq!(m["data"]["tags"], json!(["language:rust"]));
    assert_eq!(m["data"]["allowedHosts"]["hosts"], json!(["api.botmaker.com"]));
    for registry in ["oss", "cloud"] {
        assert!(
            m["data"]["registryOverrides"][registry]["enabled"].is_boolean(),
            "metadata.yaml: `data.registryOverrides.{registry}.enabled` must be a boolean"
        );
    }
    let suites: Vec<&str> = m["data"]["connectorTestSuitesOptions"]
        .as_array()
        .expect("metadata.yaml: `data.connectorTestSuitesOptions` must be a list")
        .iter()
        .map(|s| s["suite"].as_str().expect("each test suite needs a `suite`"))
        .collect();
    assert!(suites.contains(&"unitTests") && suites.contains(&"acceptanceTests"), "test suites: {suites:?}");
}

#[test]
fn definition_id_is_a_uuid() {
    let id = data_str(&metadata(), "definitionId").to_string();
    let groups: Vec<&str> = id.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12], "definitionId `{id}` is not a UUID");
    assert!(
        groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))),
        "definitionId `{id}` must be lower-case hex"
    );
    // Generated once as a random (v4) UUID: version nibble 4, RFC 4122 variant.
    assert!(groups[2].starts_with('4') && "89ab".contains(&groups[3][..1]), "definitionId `{id}` is not a v4 UUID");
}

/// `## [X.Y.Z] - YYYY-MM-DD` headings of CHANGELOG.md, newest first, as (version, date).
fn changelog_releases() -> Vec<(String, String)> {
    read("CHANGELOG.md")
        .lines()
        .filter_map(|l| l.strip_prefix("## ["))
        .filter_map(|l| l.split_once("] - "))
        .map(|(version, date)| (version.to_string(), date.trim().to_string()))
        .collect()
}

#[test]
fn versions_agree() {
    let tag = data_str(&metadata(), "dockerImageTag").to_string();
    assert_eq!(tag, env!("CARGO_PKG_VERSION"), "metadata.yaml dockerImageTag must equal the Cargo.toml version");
    let labels = key_values(&runtime_stage(), "LABEL");
    assert_eq!(
        lookup(&labels, "io.airbyte.version", "LABEL"),
        env!("CARGO_PKG_VERSION"),
        "the Dockerfile's io.airbyte.version label must equal the Cargo.toml version"
    );
    assert_eq!(lookup(&labels, "io.airbyte.name", "LABEL"), data_str(&metadata(), "dockerRepository"));
    // The docs page's changelog table is checked in tests/docs_page.rs.
    assert_eq!(
        changelog_releases().first().map(|(v, _)| v.as_str()),
        Some(env!("CARGO_PKG_VERSION")),
        "CHANGELOG.md's newest release section must be the Cargo.toml version"
    );
}

#[test]
fn release_date_is_the_first_releases_date() {
    let m = metadata();
    let date = data_str(&m, "releaseDate");
    let b = date.as_bytes();
    assert!(
        b.len() == 10 && b[4] == b'-' && b[7] == b'-' && date.replace('-', "").bytes().all(|c| c.is_ascii_digit()),
        "metadata.yaml releaseDate `{date}` must be YYYY-MM-DD"
    );
    let first = changelog_releases().pop().expect("CHANGELOG.md lists releases");
    assert_eq!(date, first.1, "releaseDate is when the connector was first released ({} in CHANGELOG.md)", first.0);
}

#[test]
fn icon_is_a_square_svg_at_the_root() {
    let m = metadata();
    let icon = data_str(&m, "icon");
    assert_eq!(icon, "icon.svg", "Airbyte's QA check wants the icon in `icon.svg` at the connector root");
    let svg = read(icon);
    let open = &svg[svg.find("<svg").expect("icon.svg has no <svg> element")..];
    let open = &open[..open.find('>').unwrap()];
    let attr = |name: &str| -> Option<&str> {
        let at = open.find(&format!(" {name}=\""))? + name.len() + 3;
        open[at..].split('"').next()
    };
    assert_eq!(attr("xmlns"), Some("http://www.w3.org/2000/svg"));
    let view_box: Vec<f64> =
        attr("viewBox").expect("icon.svg needs a viewBox").split_whitespace().map(|n| n.parse().unwrap()).collect();
    assert_eq!(view_box.len(), 4);
    assert_eq!(view_box[2], view_box[3], "icon.svg must be square");
    assert_eq!(attr("width"), attr("height"), "icon.svg must be square");
    for banned in ["<script", "href=", "<image", "@import", "url(http"] {
        assert!(!svg.contains(banned), "icon.svg must be self-contained and inert, found `{banned}`");
    }
}

#[test]
fn external_documentation_urls_follow_the_metadata_schema() {
    // airbyte-connector-models `ConnectorMetadataDefinitionV0DataExternalDocumentationUrl`:
    // title and url required, type from this list, requiresLogin a boolean; nothing else.
    let types = [
        "api_deprecations",
        "api_reference",
        "api_release_history",
        "authentication_guide",
        "code_repository",
        "data_model_reference",
        "developer_community",
        "migration_guide",
        "openapi_spec",
        "other",
        "permissions_scopes",
        "rate_limits",
        "spec_repository",
        "sql_reference",
        "status_page",
    ];
    let m = metadata();
    let entries = m["data"]["externalDocumentationUrls"].as_array().expect("externalDocumentationUrls must be a list");
    let mut found = Vec::new();
    for entry in entries {
        let keys: Vec<&String> = entry.as_object().expect("each entry is a mapping").keys().collect();
        for key in &keys {
            assert!(
                ["title", "url", "type", "requiresLogin"].contains(&key.as_str()),
                "unknown key `{key}` in {entry}"
            );
        }
        assert!(entry["title"].as_str().is_some_and(|t| !t.is_empty()), "an entry lacks a title: {entry}");
        assert!(
            entry["url"].as_str().is_some_and(|u| u.starts_with("https://")),
            "an entry lacks an https url: {entry}"
        );
        let kind = entry["type"].as_str().expect("give each entry a `type`");
        assert!(types.contains(&kind), "unknown type `{kind}`");
        if let Some(login) = entry.get("requiresLogin") {
            assert!(login.is_boolean(), "requiresLogin must be true or false: {entry}");
        }
        found.push(kind);
    }
    for wanted in ["api_reference", "rate_limits", "authentication_guide"] {
        assert!(found.contains(&wanted), "externalDocumentationUrls lacks a `{wanted}` entry");
    }
}

#[test]
fn secrets_directories_are_neither_committed_nor_sent_to_docker() {
    let git: Vec<String> = read(".gitignore").lines().map(|l| l.trim().to_string()).collect();
    assert!(
        git.iter().any(|l| l == "secrets/" || l == "secrets"),
        ".gitignore must ignore secrets/ at any depth (a `secrets/` line)"
    );
    let docker: Vec<String> = read(".dockerignore").lines().map(|l| l.trim().to_string()).collect();
    for pattern in ["secrets", "**/secrets"] {
        assert!(docker.iter().any(|l| l == pattern), ".dockerignore must list `{pattern}`");
    }
}

#[test]
fn entrypoint_matches_airbyte_entrypoint() {
    let stage = runtime_stage();
    let entrypoints: Vec<&String> = stage.iter().filter(|i| i.starts_with("ENTRYPOINT ")).collect();
    assert_eq!(entrypoints.len(), 1, "the runtime stage needs exactly one ENTRYPOINT");
    let exec_form: Vec<String> = serde_json::from_str(entrypoints[0]["ENTRYPOINT ".len()..].trim())
        .expect("ENTRYPOINT must use the exec (JSON array) form");
    let env = lookup(&key_values(&stage, "ENV"), "AIRBYTE_ENTRYPOINT", "ENV");
    assert_eq!(env, exec_form.join(" "), "ENV AIRBYTE_ENTRYPOINT must equal the ENTRYPOINT");
    assert!(env.starts_with('/'), "AIRBYTE_ENTRYPOINT must be an absolute path (the platform changes the workdir)");
    assert!(exec_form[0].ends_with("/source-botmaker"), "the entrypoint should be the source-botmaker binary");
    // The builder stage must put the binary where the runtime stage copies it from, so the offline
    // build (`--build-context builder=DIR`) and a normal `docker build` ship the same layout.
    assert!(
        stage.iter().any(|i| i.starts_with("COPY --from=builder /out/source-botmaker ") && i.ends_with(&exec_form[0])),
        "the runtime stage must COPY --from=builder /out/source-botmaker to {}",
        exec_form[0]
    );
    let user = stage.iter().rfind(|i| i.starts_with("USER ")).expect("the runtime stage needs a USER");
    assert!(
        !user.contains(" root") && !user.ends_with(" 0") && !user.contains(" 0:"),
        "the image must not run as root"
    );
}

#[test]
fn documentation_url_matches_the_spec() {
    assert_eq!(
        specification()["documentationUrl"].as_str(),
        Some(data_str(&metadata(), "documentationUrl")),
        "metadata.yaml documentationUrl and the spec's documentationUrl differ"
    );
}

#[test]
fn suggested_streams_exist() {
    let catalog = catalog();
    let names: Vec<&str> = catalog["streams"].as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    let m = metadata();
    let suggested =
        m["data"]["suggestedStreams"]["streams"].as_array().expect("suggestedStreams.streams must be a list");
    assert!(!suggested.is_empty());
    for s in suggested {
        let s = s.as_str().unwrap();
        assert!(names.contains(&s), "suggested stream `{s}` is not in the catalog {names:?}");
    }
}

#[test]
fn acceptance_test_config_fits_the_cdk_standard_tests() {
    let text = read("acceptance-tests/acceptance-test-config.yml");
    let config = parse_yaml(&text);
    let m = metadata();
    assert_eq!(
        config["connector_image"].as_str(),
        Some(format!("{}:dev", data_str(&m, "dockerRepository")).as_str()),
        "connector_image should be the dev tag of dockerRepository"
    );
    // Keys airbyte-cdk 7.x standard tests reject in the sections they collect.
    for rejected in
        ["expect_records", "exact_order", "ignored_fields", "fail_on_extra_columns", "timeout_seconds", "file_types"]
    {
        for section in ["spec", "connection", "discovery", "basic_read", "full_refresh"] {
            for entry in config["acceptance_tests"][section]["tests"].as_array().into_iter().flatten() {
                assert!(entry.get(rejected).is_none(), "acceptance-test-config.yml: `{section}` sets `{rejected}`");
            }
        }
    }
    let statuses: Vec<&str> = config["acceptance_tests"]["connection"]["tests"]
        .as_array()
        .expect("a `connection` section is required")
        .iter()
        .filter_map(|t| t["status"].as_str())
        .collect();
    assert!(statuses.contains(&"succeed") && statuses.contains(&"failed"), "connection statuses: {statuses:?}");
    for section in ["spec", "discovery", "basic_read", "full_refresh", "incremental"] {
        assert!(
            config["acceptance_tests"][section]["tests"].is_array(),
            "acceptance-test-config.yml lacks `{section}`"
        );
    }
    // Files the config names (relative to the repository root, which the runner mirrors).
    for path in [
        "spec/spec.json",
        "catalog/configured_catalog.json",
        "catalog/configured_catalog_full_refresh.json",
        "acceptance-tests/integration_tests/abnormal_state.json",
        "acceptance-tests/integration_tests/sample_config.json",
        "acceptance-tests/integration_tests/invalid_config.json",
        "acceptance-tests/integration_tests/sample_state.json",
    ] {
        assert!(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path).is_file(), "{path} is missing");
    }
}
