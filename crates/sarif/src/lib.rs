//! SARIF 2.1.0 logs into Rampart findings.
//!
//! Every security tool in a CI pipeline (semgrep, trivy, CodeQL, gitleaks, …)
//! can write SARIF, so accepting it makes each of them a Rampart source
//! without an integration of its own. Reading walks the JSON by hand instead
//! of deserialising into rigid structs: real-world SARIF varies a lot, and
//! when something required is missing the error must name the exact path
//! (`runs[0].results[3].message.text`).
//!
//! ```
//! let log = r#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"demo"}},
//!   "results":[{"ruleId":"R1","level":"error","message":{"text":"Bad thing"},
//!   "locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.rs"},"region":{"startLine":3}}}]}]}]}"#;
//! let findings = rampart_sarif::read_findings(log.as_bytes(), &Default::default()).unwrap();
//! assert_eq!(findings[0].location.as_deref(), Some("a.rs:3"));
//! ```

use rampart_core::{MAX_TITLE_LEN, NewFinding, Severity, fingerprint_of};
use serde_json::{Map, Value};
use sha2_free::stable_hash;

/// Why a SARIF log was refused. `path` points into the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct SarifError {
    pub path: String,
    pub message: String,
}

impl SarifError {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        SarifError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Choices the uploader makes about a log.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The asset (repository, service) the results belong to. When absent,
    /// the run's `versionControlProvenance[0].repositoryUri` is used.
    pub asset: Option<String>,
    /// The finding source name; `sarif` by default.
    pub source: Option<String>,
}

/// Most results a single upload may hold; bigger logs should be split.
pub const MAX_RESULTS: usize = 200_000;
/// Longest tool name or rule id accepted, in characters.
pub const MAX_NAME_LEN: usize = 1_000;
/// Longest artifact URI accepted, in characters.
pub const MAX_URI_LEN: usize = 65_000;

/// An optional string property: absent is fine; present, it must be a
/// string without NUL of at most `max` characters. Rampart is strict about
/// the properties it reads, so a malformed log is refused with the exact path
/// instead of half-imported.
fn opt_str<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
    max: usize,
) -> Result<Option<&'a str>, SarifError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.contains('\0') {
                Err(SarifError::new(
                    format!("{path}.{key}"),
                    "must not contain NUL characters",
                ))
            } else if s.chars().count() > max {
                Err(SarifError::new(
                    format!("{path}.{key}"),
                    format!("must be at most {max} characters"),
                ))
            } else {
                Ok(Some(s))
            }
        }
        Some(_) => Err(SarifError::new(format!("{path}.{key}"), "must be a string")),
    }
}

fn opt_object<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Map<String, Value>>, SarifError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(SarifError::new(
            format!("{path}.{key}"),
            "must be an object",
        )),
    }
}

fn opt_array<'a>(
    obj: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a Vec<Value>>, SarifError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(a)) => Ok(Some(a)),
        Some(_) => Err(SarifError::new(format!("{path}.{key}"), "must be an array")),
    }
}

/// Parses a SARIF 2.1.0 log and returns one finding per result.
pub fn read_findings(bytes: &[u8], opts: &ReadOptions) -> Result<Vec<NewFinding>, SarifError> {
    let doc: Value = serde_json::from_slice(bytes).map_err(|e| {
        SarifError::new(
            format!("line {} column {}", e.line(), e.column()),
            format!("not valid JSON: {e}"),
        )
    })?;
    let root = doc
        .as_object()
        .ok_or_else(|| SarifError::new("$", "a SARIF log must be a JSON object"))?;
    match root.get("version").and_then(Value::as_str) {
        Some("2.1.0") => {}
        Some(v) => {
            return Err(SarifError::new(
                "version",
                format!("SARIF version {v:?} is not supported; send SARIF 2.1.0"),
            ));
        }
        None => {
            return Err(SarifError::new(
                "version",
                "missing; SARIF 2.1.0 logs say \"version\": \"2.1.0\"",
            ));
        }
    }
    let runs = root
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| SarifError::new("runs", "missing or not an array"))?;

    let source = opts.source.as_deref().unwrap_or("sarif");
    let mut out = Vec::new();
    for (ri, run) in runs.iter().enumerate() {
        let rpath = format!("runs[{ri}]");
        let run = run
            .as_object()
            .ok_or_else(|| SarifError::new(&rpath, "must be an object"))?;
        let tool = opt_object(run, "tool", &rpath)?
            .ok_or_else(|| SarifError::new(format!("{rpath}.tool"), "missing"))?;
        let driver = opt_object(tool, "driver", &format!("{rpath}.tool"))?
            .ok_or_else(|| SarifError::new(format!("{rpath}.tool.driver"), "missing"))?;
        let dpath = format!("{rpath}.tool.driver");
        let tool = opt_str(driver, "name", &dpath, MAX_NAME_LEN)?
            .ok_or_else(|| SarifError::new(format!("{dpath}.name"), "missing"))?;
        if let Some(rules) = opt_array(driver, "rules", &dpath)? {
            for (i, rule) in rules.iter().enumerate() {
                let rp = format!("{dpath}.rules[{i}]");
                let rule = rule
                    .as_object()
                    .ok_or_else(|| SarifError::new(&rp, "must be an object"))?;
                opt_str(rule, "id", &rp, MAX_NAME_LEN)?
                    .ok_or_else(|| SarifError::new(format!("{rp}.id"), "missing"))?;
            }
        }
        let rules = Rules::new(driver);
        let asset = opts.asset.clone().or_else(|| {
            run.get("versionControlProvenance")
                .and_then(|v| v.get(0))
                .and_then(|v| v.get("repositoryUri"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let Some(results) = opt_array(run, "results", &rpath)? else {
            continue; // A run that ran nothing is valid SARIF.
        };
        if out.len() + results.len() > MAX_RESULTS {
            return Err(SarifError::new(
                format!("{rpath}.results"),
                format!("more than {MAX_RESULTS} results in one upload; split the log"),
            ));
        }
        for (i, result) in results.iter().enumerate() {
            let path = format!("{rpath}.results[{i}]");
            out.push(read_result(
                result,
                &path,
                tool,
                &rules,
                asset.as_deref(),
                source,
            )?);
        }
    }
    Ok(out)
}

struct Rules<'a> {
    list: Vec<&'a Map<String, Value>>,
}

impl<'a> Rules<'a> {
    fn new(driver: &'a Map<String, Value>) -> Self {
        let list = driver
            .get("rules")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_object).collect())
            .unwrap_or_default();
        Rules { list }
    }

    fn find(&self, id: Option<&str>, index: Option<u64>) -> Option<&'a Map<String, Value>> {
        if let Some(i) = index
            && let Some(r) = self.list.get(i as usize)
        {
            return Some(r);
        }
        let id = id?;
        self.list
            .iter()
            .copied()
            .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
    }
}

fn text_of(v: Option<&Value>) -> Option<String> {
    let v = v?;
    v.get("text")
        .or_else(|| v.get("markdown"))
        .and_then(Value::as_str)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn read_result(
    result: &Value,
    path: &str,
    tool: &str,
    rules: &Rules<'_>,
    asset: Option<&str>,
    source: &str,
) -> Result<NewFinding, SarifError> {
    let result = result
        .as_object()
        .ok_or_else(|| SarifError::new(path, "must be an object"))?;
    let rule_id = opt_str(result, "ruleId", path, MAX_NAME_LEN)?.or_else(|| {
        result
            .get("rule")
            .and_then(|r| r.get("id"))
            .and_then(Value::as_str)
    });
    if let Some(level) = result.get("level").filter(|v| !v.is_null())
        && !matches!(level.as_str(), Some("none" | "note" | "warning" | "error"))
    {
        return Err(SarifError::new(
            format!("{path}.level"),
            "must be one of none, note, warning, error",
        ));
    }
    let rule_index = result.get("ruleIndex").and_then(Value::as_u64).or_else(|| {
        result
            .get("rule")
            .and_then(|r| r.get("index"))
            .and_then(Value::as_u64)
    });
    let rule = rules.find(rule_id, rule_index);
    let rule_id = rule_id.or_else(|| rule.and_then(|r| r.get("id")).and_then(Value::as_str));

    let msg = opt_object(result, "message", path)?.ok_or_else(|| {
        SarifError::new(
            format!("{path}.message"),
            "missing; every result needs a message",
        )
    })?;
    opt_str(
        msg,
        "text",
        &format!("{path}.message"),
        rampart_core::MAX_TEXT_LEN,
    )?;
    let message = text_of(result.get("message")).ok_or_else(|| {
        SarifError::new(
            format!("{path}.message.text"),
            "missing or blank; every result needs a message",
        )
    })?;

    let title_src = rule
        .and_then(|r| text_of(r.get("shortDescription")))
        .unwrap_or_else(|| message.lines().next().unwrap_or("").to_owned());
    let title: String = title_src.chars().take(MAX_TITLE_LEN).collect();

    let severity = severity_of(result, rule);
    let cwe = rule.and_then(cwe_of);

    let location = read_location(result, path)?;

    let mut description = message.clone();
    if let Some(full) = rule.and_then(|r| text_of(r.get("fullDescription")))
        && full != message
    {
        description.push_str("\n\n");
        description.push_str(&full);
    }
    if let Some(help) = rule.and_then(|r| text_of(r.get("help"))) {
        description.push_str("\n\n");
        description.push_str(&help);
    }

    let qualified_rule = format!("{tool}/{}", rule_id.unwrap_or("result"));
    // A tool's own fingerprints survive code moving around; prefer them.
    let fingerprint = tool_fingerprint(result)
        .map(|fp| stable_hash(&[source, tool, &qualified_rule, asset.unwrap_or(""), &fp]))
        .unwrap_or_else(|| {
            fingerprint_of(
                source,
                Some(&qualified_rule),
                asset,
                location.as_deref(),
                &title,
            )
        });

    let mut b = NewFinding::builder(source, &title, severity)
        .rule_id(&qualified_rule)
        .description(&description)
        .fingerprint(&fingerprint);
    if let Some(a) = asset {
        b = b.asset(a);
    }
    if let Some(l) = &location {
        b = b.location(l);
    }
    if let Some(c) = cwe {
        b = b.cwe(c);
    }
    let finding = b.build();
    finding
        .validate()
        .map_err(|e| SarifError::new(format!("{path} ({})", e.field), e.message))?;
    Ok(finding)
}

/// The first location as `uri:line`, checking the documented properties.
fn read_location(result: &Map<String, Value>, path: &str) -> Result<Option<String>, SarifError> {
    let Some(locations) = opt_array(result, "locations", path)? else {
        return Ok(None);
    };
    let mut first = None;
    for (i, loc) in locations.iter().enumerate() {
        let lp = format!("{path}.locations[{i}]");
        let loc = loc
            .as_object()
            .ok_or_else(|| SarifError::new(&lp, "must be an object"))?;
        let Some(phys) = opt_object(loc, "physicalLocation", &lp)? else {
            continue;
        };
        let pp = format!("{lp}.physicalLocation");
        let uri = match opt_object(phys, "artifactLocation", &pp)? {
            Some(a) => opt_str(a, "uri", &format!("{pp}.artifactLocation"), MAX_URI_LEN)?,
            None => None,
        };
        let line = match opt_object(phys, "region", &pp)? {
            Some(r) => match r.get("startLine") {
                None | Some(Value::Null) => None,
                Some(v) => Some(
                    v.as_f64()
                        .filter(|f| f.fract() == 0.0 && *f >= 1.0 && *f <= 9_007_199_254_740_991.0)
                        .map(|f| f as u64)
                        .ok_or_else(|| {
                            SarifError::new(
                                format!("{pp}.region.startLine"),
                                "must be a whole number of at least 1",
                            )
                        })?,
                ),
            },
            None => None,
        };
        if first.is_none() {
            first = uri.map(|u| match line {
                Some(l) => format!("{u}:{l}"),
                None => u.to_owned(),
            });
        }
    }
    Ok(first)
}

/// `security-severity` (a CVSS-like score that GitHub code scanning also
/// reads) wins over `level`, which only says how loudly to report.
fn severity_of(result: &Map<String, Value>, rule: Option<&Map<String, Value>>) -> Severity {
    let score = |props: Option<&Value>| {
        props
            .and_then(|p| p.get("security-severity"))
            .and_then(|s| match s {
                Value::String(s) => s.trim().parse::<f64>().ok(),
                Value::Number(n) => n.as_f64(),
                _ => None,
            })
            .filter(|s| s.is_finite() && (0.0..=10.0).contains(s))
    };
    if let Some(s) =
        score(result.get("properties")).or_else(|| score(rule.and_then(|r| r.get("properties"))))
    {
        return Severity::from_cvss_score(s);
    }
    let level = result
        .get("level")
        .and_then(Value::as_str)
        .or_else(|| {
            rule.and_then(|r| r.get("defaultConfiguration"))
                .and_then(|c| c.get("level"))
                .and_then(Value::as_str)
        })
        .unwrap_or("warning");
    match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        "note" => Severity::Low,
        _ => Severity::Info,
    }
}

/// Finds a CWE number in a rule's tags (`external/cwe/cwe-079`, `CWE-79`).
fn cwe_of(rule: &Map<String, Value>) -> Option<u32> {
    let tags = rule.get("properties")?.get("tags")?.as_array()?;
    tags.iter().filter_map(Value::as_str).find_map(|t| {
        let lower = t.to_ascii_lowercase();
        let idx = lower.rfind("cwe-")?;
        let digits: String = lower[idx + 4..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0 && *n <= 100_000)
    })
}

fn tool_fingerprint(result: &Map<String, Value>) -> Option<String> {
    for key in ["fingerprints", "partialFingerprints"] {
        if let Some(map) = result.get(key).and_then(Value::as_object) {
            let mut parts: Vec<String> = map
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect();
            if !parts.is_empty() {
                parts.sort();
                return Some(parts.join(";"));
            }
        }
    }
    None
}

mod sha2_free {
    /// Combines parts into a fingerprint using the core's length-prefixed
    /// SHA-256 (so the two hashing schemes cannot collide by accident).
    pub fn stable_hash(parts: &[&str]) -> String {
        let joined: Vec<String> = parts.iter().map(|p| format!("{}:{p}", p.len())).collect();
        rampart_core::fingerprint_of("sarif-fp", Some(&joined.join("|")), None, None, "")
    }
}

#[cfg(test)]
mod tests;
