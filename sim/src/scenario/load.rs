//! Loading a scenario: parsing its TOML, reading the files it names, checking it, and
//! errors that name the file, the line and the key.

use std::path::Path;

use super::{BUILT_IN, Problem, Scenario, bounds, ivr_flow};
use crate::SimError;

impl Scenario {
    /// Parses a scenario from TOML. `origin` names the file in errors; relative paths inside
    /// it (a profile CSV, handle times) are resolved against `base_dir`.
    pub fn from_toml(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Scenario, SimError> {
        let parse = |line: Option<usize>, message: String| SimError::Parse {
            origin: origin.to_string(),
            line,
            message,
        };
        if text.len() as u64 > bounds::MAX_FILE_BYTES {
            return Err(parse(
                None,
                format!(
                    "larger than the {} KiB limit of scenario files",
                    bounds::MAX_FILE_BYTES / 1024
                ),
            ));
        }
        let mut s: Scenario = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|sp| line_of_offset(text, sp.start));
            parse(line, e.message().to_string())
        })?;
        if let Err(e) = s.resolve_files(base_dir) {
            let (key, message) = e;
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", &key));
            return Err(parse(find_key_line(text, table, leaf), message));
        }
        if let Err(Problem(key, message)) = s.check() {
            // Messages from distributions name the key themselves; say it once.
            let message = message
                .strip_prefix(&format!("`{key}`: "))
                .map_or(message.clone(), str::to_string);
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", &key));
            let table = table.split('[').next().unwrap_or(table);
            let leaf = leaf.split('[').next().unwrap_or(leaf);
            return Err(parse(
                find_key_line(text, table, leaf),
                format!("key `{key}`: {message}"),
            ));
        }
        Ok(s)
    }

    /// Reads a scenario file (at most 1 MiB).
    pub fn load(path: &Path) -> Result<Scenario, SimError> {
        let text = bounds::read_bounded(path)?;
        Self::from_toml(&text, &path.display().to_string(), path.parent())
    }

    /// Checks a scenario changed after loading (command-line overrides), naming the key.
    pub fn validate(&self) -> Result<(), SimError> {
        self.check()
            .map_err(|Problem(key, message)| SimError::Invalid(format!("`{key}`: {message}")))
    }

    /// A built-in scenario by name.
    pub fn built_in(name: &str) -> Result<Scenario, SimError> {
        let (_, text) = BUILT_IN.iter().find(|(n, _)| *n == name).ok_or_else(|| {
            SimError::Invalid(format!(
                "no built-in scenario `{name}` (see `tandem sim --list`)"
            ))
        })?;
        Self::from_toml(text, &format!("built-in:{name}"), None)
    }

    /// Loads the files the scenario names (profile and handle-time CSVs). Errors carry the
    /// key.
    fn resolve_files(&mut self, base_dir: Option<&Path>) -> Result<(), (String, String)> {
        self.arrivals
            .resolve(base_dir)
            .map_err(|e| ("arrivals.kind".to_string(), e.to_string()))?;
        for (i, t) in self.call_types.iter_mut().enumerate() {
            if let Some(a) = &mut t.arrivals {
                a.resolve(base_dir).map_err(|e| {
                    (
                        "call_types.arrivals".to_string(),
                        format!("`call_types[{i}].arrivals`: {e}"),
                    )
                })?;
            }
        }
        for (key, d) in self.dists_mut() {
            d.resolve(&key, base_dir)
                .map_err(|e| (key.clone(), e.to_string()))?;
        }
        ivr_flow::load(self, base_dir)
    }
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The line where `leaf = …` appears inside `[table]` (or at top level for an empty table),
/// also matching inline `table.leaf = …` and `leaf` inside `[[table]]` arrays.
fn find_key_line(text: &str, table: &str, leaf: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if let Some(h) = line.strip_prefix('[') {
            current = h
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim()
                .to_string();
            continue;
        }
        let Some((k, _)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        let full = if current.is_empty() {
            k.to_string()
        } else {
            format!("{current}.{k}")
        };
        let want = if table.is_empty() {
            leaf.to_string()
        } else {
            format!("{table}.{leaf}")
        };
        if full == want || (current == table && k == leaf) {
            return Some(i + 1);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_key_and_line() {
        let text = "name = \"x\"\nduration_s = 60\n[arrivals]\nkind = \"poisson\"\nper_min = 10\n[queue]\npatience = { kind = \"exponential\", mean = 30 }\n[agents]\ncount = 0\ntalk = { kind = \"exponential\", mean = 60 }\n";
        let e = Scenario::from_toml(text, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:9") && e.contains("agents.count"), "{e}");

        let bad_key = text.replace("count = 0", "count = 5\ncolour = 3");
        let e = Scenario::from_toml(&bad_key, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:10") && e.contains("colour"), "{e}");

        let bad_type = text.replace("count = 0", "count = \"many\"");
        let e = Scenario::from_toml(&bad_type, "s.toml", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml:9"), "{e}");
    }
}
