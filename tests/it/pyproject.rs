//! The pip wheel's metadata (`pyproject.toml`, built by maturin, see scripts/build-wheel.sh) must
//! agree with `Cargo.toml`: the same version, license and description, the package name PyAirbyte
//! looks the installed version up by, and the connector's binary as the wheel's executable.
//!
//! No TOML crate is added for this: the small reader below understands `[table]` headers,
//! `key = "string"`, `key = true|false` and arrays of strings (which may span lines); any other
//! value (numbers, inline tables, arrays of them) must fit on its own lines and is kept as raw text.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A value in the TOML subset: a string, a boolean, an array of strings, or anything else as text.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    List(Vec<String>),
    Other(String),
}

/// Tables of the TOML subset: `{table name: {key: value}}`; keys before any header are in "".
type Tables = BTreeMap<String, BTreeMap<String, Value>>;

fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '#' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// A basic (double-quoted) TOML string without escapes other than JSON's, which TOML shares.
fn string(raw: &str, line: usize) -> String {
    let raw = raw.trim();
    assert!(
        raw.starts_with('"') && raw.ends_with('"') && raw.len() >= 2,
        "line {line}: expected a \"string\", got `{raw}`"
    );
    serde_json::from_str(raw).unwrap_or_else(|e| panic!("line {line}: {e}"))
}

fn parse_toml(text: &str) -> Tables {
    let mut tables = Tables::new();
    let mut table = String::new();
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, strip_comment(l).trim()));
    while let Some((number, line)) = lines.next() {
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            assert!(!name.starts_with('['), "line {number}: arrays of tables are not supported here");
            table = name.trim().to_string();
            continue;
        }
        let (key, value) = line.split_once('=').unwrap_or_else(|| panic!("line {number}: expected `key = value`"));
        let key = key.trim();
        let key = if key.starts_with('"') { string(key, number) } else { key.to_string() };
        let value = value.trim();
        let value = if let Some(rest) = value.strip_prefix('[') {
            // An array of strings, possibly over several lines, with an optional trailing comma.
            let mut body = rest.to_string();
            while !body.trim_end().ends_with(']') {
                let (_, more) = lines.next().unwrap_or_else(|| panic!("line {number}: unterminated array"));
                body.push(' ');
                body.push_str(more);
            }
            // Without the trailing comma, an array of strings is a JSON array.
            let body = body.trim_end().strip_suffix(']').unwrap().trim_end();
            let items = format!("[{}]", body.strip_suffix(',').unwrap_or(body));
            serde_json::from_str(&items).map(Value::List).unwrap_or(Value::Other(items))
        } else if let Ok(flag) = value.parse::<bool>() {
            Value::Bool(flag)
        } else if value.starts_with('"') {
            Value::Str(string(value, number))
        } else {
            Value::Other(value.to_string())
        };
        let previous = tables.entry(table.clone()).or_default().insert(key.clone(), value);
        assert!(previous.is_none(), "line {number}: `{key}` is defined twice in [{table}]");
    }
    tables
}

fn pyproject() -> Tables {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("pyproject.toml");
    parse_toml(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())))
}

fn str_value<'a>(tables: &'a Tables, table: &str, key: &str) -> Option<&'a str> {
    match tables.get(table)?.get(key)? {
        Value::Str(s) => Some(s),
        other => panic!("pyproject.toml [{table}] {key} must be a string, not {other:?}"),
    }
}

#[test]
fn toml_reader_understands_the_subset() {
    let tables = parse_toml(
        "top = \"x\"\n[a]\nname = \"n # not a comment\" # a comment\n\"quoted key\" = \"v\"\nflag = true\nn = 3\n\
         tables = [{ path = \"a,b\", format = \"sdist\" }]\n\
         list = [\"one\", \"t,wo\"]\n[b.c]\nlong = [\n  \"x\",\n  \"y\",\n]\nempty = []\n",
    );
    assert_eq!(tables[""]["top"], Value::Str("x".into()));
    assert_eq!(tables["a"]["name"], Value::Str("n # not a comment".into()));
    assert_eq!(tables["a"]["quoted key"], Value::Str("v".into()));
    assert_eq!(tables["a"]["flag"], Value::Bool(true));
    assert_eq!(tables["a"]["n"], Value::Other("3".into()));
    assert!(matches!(&tables["a"]["tables"], Value::Other(text) if text.contains("format")));
    assert_eq!(tables["a"]["list"], Value::List(vec!["one".into(), "t,wo".into()]));
    assert_eq!(tables["b.c"]["long"], Value::List(vec!["x".into(), "y".into()]));
    assert_eq!(tables["b.c"]["empty"], Value::List(vec![]));
}

#[test]
fn wheel_version_is_cargo_version() {
    let tables = pyproject();
    match str_value(&tables, "project", "version") {
        // maturin takes the version from Cargo.toml when pyproject.toml declares it dynamic.
        None => assert!(
            matches!(tables["project"].get("dynamic"), Some(Value::List(d)) if d.iter().any(|f| f == "version")),
            "pyproject.toml [project] must list \"version\" in `dynamic` (maturin then takes Cargo.toml's) or set it"
        ),
        Some(version) => assert_eq!(
            version,
            env!("CARGO_PKG_VERSION"),
            "pyproject.toml [project] version must equal the Cargo.toml version (or be dynamic)"
        ),
    }
}

#[test]
fn wheel_metadata_matches_the_crate() {
    let tables = pyproject();
    // PyAirbyte's pip_url installer reads the installed version as `airbyte-<connector name>`.
    assert_eq!(str_value(&tables, "project", "name"), Some("airbyte-source-botmaker"));
    assert_eq!(str_value(&tables, "project", "license"), Some(env!("CARGO_PKG_LICENSE")));
    assert_eq!(str_value(&tables, "project", "description"), Some(env!("CARGO_PKG_DESCRIPTION")));
    assert_eq!(str_value(&tables, "build-system", "build-backend"), Some("maturin"));
    // The wheel carries the binary itself (named after the Cargo package: `source-botmaker`, the
    // executable PyAirbyte runs from the virtual environment), built with the image's profile.
    assert_eq!(str_value(&tables, "tool.maturin", "bindings"), Some("bin"));
    assert_eq!(str_value(&tables, "tool.maturin", "profile"), Some("release"));
    assert_eq!(env!("CARGO_PKG_NAME"), "source-botmaker");
}
