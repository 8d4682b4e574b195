//! Docstrings at runtime from the stubs: reads python/domo_datasets/_domo.pyi and writes
//! `stub_doc!`, a macro giving the docstring of each stub class and member, so that
//! `help()`, IPython's `?` and the type checker's view come from one text. A binding
//! naming a member the stubs do not document fails to build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

const STUB: &str = "python/domo_datasets/_domo.pyi";

fn main() {
    println!("cargo:rerun-if-changed={STUB}");
    println!("cargo:rerun-if-changed=build.rs");
    let text = std::fs::read_to_string(STUB).expect("the stubs are beside the crate");
    let docs = docstrings(&text);
    let mut out = String::from(
        "/// The docstring of a stub class (`stub_doc!(Dataset)`) or member\n\
         /// (`stub_doc!(Dataset, upload)`), from `_domo.pyi`; written by build.rs.\n\
         #[allow(unused_macros)]\nmacro_rules! stub_doc {\n",
    );
    for ((class, member), doc) in &docs {
        let key = match member {
            Some(member) => format!("{class}, {member}"),
            None => class.clone(),
        };
        writeln!(out, "    ({key}) => {{ {doc:?} }};").expect("writing to a String");
    }
    out.push_str("}\n");
    let dest =
        Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("stub_docs.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

/// (class, member) -> cleaned docstring; module functions under the class `module`.
fn docstrings(text: &str) -> BTreeMap<(String, Option<String>), String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut docs = BTreeMap::new();
    let mut class: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(rest) = line.strip_prefix("class ") {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            class = Some(name.clone());
            if let Some((doc, next)) = docstring_at(&lines, i + 1) {
                docs.insert((name, None), doc);
                i = next;
                continue;
            }
        } else if let Some(name) = def_name(line, "") {
            class = None;
            let end = header_end(&lines, i);
            if let Some((doc, next)) = docstring_at(&lines, end + 1) {
                docs.insert(("module".to_string(), Some(name)), doc);
                i = next;
                continue;
            }
        } else if let (Some(cls), Some(name)) = (&class, def_name(line, "    ")) {
            let end = header_end(&lines, i);
            if let Some((doc, next)) = docstring_at(&lines, end + 1) {
                docs.insert((cls.clone(), Some(name)), doc);
                i = next;
                continue;
            }
            i = end;
        } else if !line.is_empty() && !line.starts_with([' ', '#', '@', ')']) {
            class = None;
        }
        i += 1;
    }
    docs
}

/// The name of a `def` or `async def` at exactly this indentation.
fn def_name(line: &str, indent: &str) -> Option<String> {
    let rest = line.strip_prefix(indent)?;
    let rest = rest
        .strip_prefix("async ")
        .unwrap_or(rest)
        .strip_prefix("def ")?;
    Some(
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect(),
    )
}

/// The line that ends a `def` header (its parameters may span lines).
fn header_end(lines: &[&str], start: usize) -> usize {
    (start..lines.len())
        .find(|&j| {
            let t = lines[j].trim_end();
            t.ends_with(':') || t.ends_with(": ...")
        })
        .unwrap_or(start)
}

/// The docstring starting at line `at`, if there is one, and the line after it.
fn docstring_at(lines: &[&str], at: usize) -> Option<(String, usize)> {
    let first = lines.get(at)?.trim_start().strip_prefix("\"\"\"")?;
    if let Some(one) = first.strip_suffix("\"\"\"") {
        return Some((clean(&[one]), at + 1));
    }
    let mut body = vec![first];
    for (j, line) in lines.iter().enumerate().skip(at + 1) {
        if let Some(last) = line.trim_end().strip_suffix("\"\"\"") {
            body.push(last);
            return Some((clean(&body), j + 1));
        }
        body.push(line);
    }
    None
}

/// What `inspect.cleandoc` makes of a docstring: the first line stripped, the others
/// dedented by their common indentation, blank lines at either end removed.
fn clean(lines: &[&str]) -> String {
    let indent = lines
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<String> = vec![lines[0].trim().to_string()];
    for line in &lines[1..] {
        let line = line.trim_end();
        out.push(line.get(indent..).unwrap_or("").to_string());
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    // The stubs' docstrings are plain (not raw) literals: `\\` is one backslash.
    out.join("\n").replace("\\\\", "\\")
}
