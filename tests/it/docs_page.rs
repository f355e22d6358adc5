//! `docs/botmaker.md` has the shape Airbyte's connector QA checks expect of a connector page
//! (airbytehq/airbyte `airbyte-ci/connectors/connectors_qa/src/connectors_qa/checks/documentation/`:
//! the heading order of `templates/template.md.j2`, the `<HideInUI>` intro, the sync-modes
//! sentence, Prerequisites naming every required field and the changelog table), and stays true
//! to the spec and the crate version.
//!
//! New sections go where the template leaves room for connector-specific headings: `###`
//! headings inside "Setup guide", "Supported Streams" or "Limitations & Troubleshooting".
//! "Performance considerations" and "Data type map" take none (the template's own headings
//! follow them); use bold lead-ins there. The order test says where a heading is out of place.

use std::path::PathBuf;

use serde_json::Value;
use source_botmaker::{catalog, specification};

/// The connector's display name (metadata.yaml `data.name`; metadata.rs checks the file).
const NAME: &str = "Botmaker";

/// Stands for any number of connector-specific headings in the template.
const SPECIFIC: &str = "{ Connector-specific features }";

fn page() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/botmaker.md");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

struct Heading {
    level: usize,
    text: String,
    /// Index of the heading's line.
    line: usize,
}

/// ATX headings (`#` to `######`) outside fenced code blocks.
fn headings(text: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (line, raw) in text.lines().enumerate() {
        let trimmed = raw.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced || raw.starts_with("    ") {
            continue;
        }
        let level = trimmed.bytes().take_while(|&b| b == b'#').count();
        if (1..=6).contains(&level) && trimmed[level..].starts_with(' ') {
            let text = trimmed[level..].trim().trim_end_matches('#').trim().to_string();
            out.push(Heading { level, text, line });
        }
    }
    out
}

/// The lines after each heading named `name`, up to the next heading of any level (how the QA
/// checks cut sections).
fn sections(text: &str, name: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let all = headings(text);
    all.iter()
        .enumerate()
        .filter(|(_, h)| h.text == name)
        .map(|(i, h)| {
            let end = all.get(i + 1).map_or(lines.len(), |next| next.line);
            lines[h.line + 1..end].iter().map(|l| format!("{l}\n")).collect()
        })
        .collect()
}

fn only_section(text: &str, name: &str) -> String {
    let mut found = sections(text, name);
    assert_eq!(found.len(), 1, "docs/botmaker.md needs exactly one `{name}` section");
    found.remove(0)
}

/// The QA check drops "Step 1: " / "Step 2: " from heading names.
fn without_step(heading: &str) -> String {
    heading.replace("Step 1: ", "").replace("Step 2: ", "")
}

/// The template's headings (h1–h4) in order, as `template.md.j2` renders for this connector.
fn template_headings() -> Vec<String> {
    [
        NAME,
        "Prerequisites",
        "Setup guide",
        "Set up {NAME}",
        "For Airbyte Cloud:",
        "For Airbyte Open Source:",
        SPECIFIC,
        "Set up the {NAME} connector in Airbyte",
        "For Airbyte Cloud:",
        "For Airbyte Open Source:",
        SPECIFIC,
        "Supported sync modes",
        "Supported Streams",
        SPECIFIC,
        "Performance considerations",
        "Data type map",
        "Limitations & Troubleshooting",
        SPECIFIC,
        "Tutorials",
        "Changelog",
    ]
    .iter()
    .map(|h| h.replace("{NAME}", NAME))
    .collect()
}

/// Template headings a page may leave out (`get_not_required_headers`).
fn optional_headings() -> Vec<String> {
    [
        "Set up the {NAME} connector in Airbyte",
        "For Airbyte Cloud:",
        "For Airbyte Open Source:",
        SPECIFIC,
        "Performance considerations",
        "Data type map",
        "Limitations & Troubleshooting",
        "Tutorials",
    ]
    .iter()
    .map(|h| h.replace("{NAME}", NAME))
    .collect()
}

/// `CheckDocumentationHeadersOrder.check_headers`, ported: walks the page's headings against the
/// template's, letting connector-specific headings sit where the template allows them and
/// optional template headings be absent. Returns what is wrong, if anything.
fn heading_order_problem(actual: &[String]) -> Option<String> {
    let expected = template_headings();
    let optional = optional_headings();
    let (mut a, mut e) = (0, 0);
    while a < actual.len() && e < expected.len() {
        if expected[e] == SPECIFIC {
            if expected.contains(&actual[a]) {
                e += 1;
            } else {
                a += 1;
            }
        } else if actual[a] == expected[e] {
            a += 1;
            e += 1;
        } else if optional.contains(&expected[e]) {
            e += 1;
        } else {
            return Some(format!("heading `{}` is out of place: expected `{}` here", actual[a], expected[e]));
        }
    }
    let missing: Vec<&String> = expected[e..].iter().filter(|h| !optional.contains(h)).collect();
    (!missing.is_empty()).then(|| format!("required headings missing at the end: {missing:?}"))
}

fn page_headings() -> Vec<String> {
    headings(&page()).into_iter().filter(|h| h.level <= 4).map(|h| without_step(&h.text)).collect()
}

#[test]
fn headings_follow_airbytes_connector_page_template() {
    let actual = page_headings();
    if let Some(problem) = heading_order_problem(&actual) {
        panic!("docs/botmaker.md: {problem}\nheadings: {actual:#?}");
    }
    // Beyond what the QA check requires, this page keeps every section the template offers
    // for an API source, in the template's order.
    let wanted = [
        "Prerequisites",
        "Setup guide",
        "Set up Botmaker",
        "Set up the Botmaker connector in Airbyte",
        "Supported sync modes",
        "Supported Streams",
        "Performance considerations",
        "Limitations & Troubleshooting",
        "Changelog",
    ];
    let positions: Vec<usize> = wanted
        .iter()
        .map(|w| actual.iter().position(|a| a == w).unwrap_or_else(|| panic!("docs/botmaker.md lacks `{w}`")))
        .collect();
    assert!(positions.windows(2).all(|p| p[0] < p[1]), "sections out of order: {wanted:?} at {positions:?}");
    let h1: Vec<String> = headings(&page()).into_iter().filter(|h| h.level == 1).map(|h| h.text).collect();
    assert_eq!(h1, [NAME], "exactly one `# {NAME}` title");
}

#[test]
fn the_order_check_catches_misplaced_and_missing_headings() {
    let good = page_headings();
    let mut swapped = good.clone();
    let a = swapped.iter().position(|h| h == "Supported sync modes").unwrap();
    let b = swapped.iter().position(|h| h == "Supported Streams").unwrap();
    swapped.swap(a, b);
    assert!(heading_order_problem(&swapped).is_some(), "swapped sections pass");
    let renamed: Vec<String> =
        good.iter().map(|h| if h == "Supported Streams" { "Supported streams".into() } else { h.clone() }).collect();
    assert!(heading_order_problem(&renamed).is_some(), "a wrongly cased heading passes");
    let without_changelog: Vec<String> = good.iter().filter(|h| *h != "Changelog").cloned().collect();
    assert!(heading_order_problem(&without_changelog).is_some(), "a page without a changelog passes");
}

/// Replaces every http(s) URL with `{docs_link}`, as the QA check does before comparing the
/// intro (`replace_connector_specific_urls_from_section`).
fn without_urls(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = ["https://", "http://"].iter().filter_map(|p| rest.find(p)).min() {
        out.push_str(&rest[..at]);
        out.push_str("{docs_link}");
        let tail = &rest[at..];
        let end = tail.find(|c: char| c.is_whitespace() || c == ')').unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn intro_is_the_templates_hidden_in_ui_sentence() {
    let intro = without_urls(&only_section(&page(), NAME));
    let expected = format!(
        "<HideInUI>\n\nThis page contains the setup guide and reference information for the [{NAME}]({{docs_link}}) source connector.\n\n</HideInUI>\n"
    );
    assert!(intro.contains(&expected), "the intro must contain:\n{expected}\ngot:\n{intro}");
}

#[test]
fn prerequisites_name_every_required_field_by_its_spec_title() {
    let spec = specification();
    let connection = &spec["connectionSpecification"];
    let prerequisites = only_section(&page(), "Prerequisites").to_lowercase();
    let required = connection["required"].as_array().expect("the spec lists required fields");
    assert!(!required.is_empty());
    for field in required {
        let field = field.as_str().unwrap();
        let title = connection["properties"][field]["title"]
            .as_str()
            .unwrap_or_else(|| panic!("required field `{field}` has no title"));
        assert!(
            prerequisites.contains(&title.to_lowercase()),
            "Prerequisites must name the required field `{field}` by its title \"{title}\""
        );
    }
    // The QA check also wants credentials mentioned with one of these words.
    assert!(["account", "auth", "credentials", "access", "client"].iter().any(|k| prerequisites.contains(k)));
}

#[test]
fn supported_sync_modes_opens_with_the_templates_sentence() {
    let section = only_section(&page(), "Supported sync modes");
    let expected = format!(
        "\nThe {NAME} source connector supports the following [sync modes](https://docs.airbyte.com/cloud/core-concepts/#connection-sync-modes):\n\n"
    );
    assert!(section.starts_with(&expected), "the section must start with:\n{expected}\ngot:\n{section}");
}

#[test]
fn supported_streams_lists_every_discovered_stream() {
    let section = only_section(&page(), "Supported Streams");
    let catalog = catalog();
    for stream in catalog["streams"].as_array().unwrap() {
        let name = stream["name"].as_str().unwrap();
        assert!(section.contains(&format!("| {name} |")), "Supported Streams has no row for `{name}`");
    }
}

/// The changelog table's rows as (version, date, pull request, subject).
fn changelog_rows() -> Vec<[String; 4]> {
    let section = only_section(&page(), "Changelog");
    let body = section.trim();
    assert!(
        body.starts_with("<details>\n  <summary>Expand to review</summary>\n"),
        "the changelog must open with <details> and its summary:\n{body}"
    );
    assert!(body.ends_with("</details>"), "the changelog must end with </details>");
    let mut rows = section.lines().filter(|l| l.starts_with('|'));
    let header: Vec<&str> = rows.next().expect("a changelog table").split('|').map(str::trim).collect();
    assert_eq!(header, ["", "Version", "Date", "Pull Request", "Subject", ""], "changelog table header");
    let divider = rows.next().expect("the table's divider row");
    assert!(divider.chars().all(|c| "|:- ".contains(c)), "second row must be the divider: {divider}");
    rows.map(|row| {
        let cells: Vec<String> = row.split('|').map(|c| c.trim().to_string()).collect();
        assert_eq!(cells.len(), 6, "a changelog row has four cells: {row}");
        [cells[1].clone(), cells[2].clone(), cells[3].clone(), cells[4].clone()]
    })
    .collect()
}

fn version_numbers(version: &str) -> Vec<u64> {
    version.split('.').map(|n| n.parse().unwrap_or_else(|_| panic!("`{version}` is not a version"))).collect()
}

#[test]
fn changelog_table_lists_the_crate_version_first_newest_to_oldest() {
    let rows = changelog_rows();
    assert_eq!(
        rows.first().map(|r| r[0].as_str()),
        Some(env!("CARGO_PKG_VERSION")),
        "the docs changelog's first row must be the Cargo.toml version"
    );
    for pair in rows.windows(2) {
        assert!(version_numbers(&pair[0][0]) > version_numbers(&pair[1][0]), "versions not descending: {pair:?}");
        assert!(pair[0][1] >= pair[1][1], "dates not descending: {pair:?}");
    }
    for row in &rows {
        let date = row[1].as_bytes();
        assert!(
            date.len() == 10 && date[4] == b'-' && date[7] == b'-',
            "changelog date `{}` is not YYYY-MM-DD",
            row[1]
        );
        assert!(!row[3].is_empty(), "version {} has no subject", row[0]);
    }
}

#[test]
fn links_inside_the_page_point_at_its_own_headings() {
    let text = page();
    let anchors: Vec<String> = headings(&text)
        .iter()
        .map(|h| {
            h.text
                .to_lowercase()
                .chars()
                .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
                .collect::<String>()
                .replace(' ', "-")
        })
        .collect();
    for (at, _) in text.match_indices("](#") {
        let anchor: String = text[at + 3..].chars().take_while(|&c| c != ')').collect();
        assert!(anchors.contains(&anchor), "link to #{anchor}, which is no heading of the page ({anchors:?})");
    }
}

#[test]
fn documentation_url_is_this_page_in_the_repository() {
    let spec: Value = specification();
    let url = spec["documentationUrl"].as_str().unwrap();
    let repository = env!("CARGO_PKG_REPOSITORY");
    assert!(repository.starts_with("https://"), "Cargo.toml `repository` must be an https URL");
    let path = url
        .strip_prefix(repository)
        .and_then(|p| p.strip_prefix("/blob/main/"))
        .unwrap_or_else(|| panic!("documentationUrl {url} is not a file of the repository {repository}"));
    assert_eq!(path, "docs/botmaker.md");
    assert!(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path).is_file());
}
