//! Workspace tasks, run as `cargo xtask <task>`.
//!
//! - `codegen`: regenerate `kelviq-gen/src/generated.rs` from `openapi/kelviq.yaml`.
//! - `codegen --check`: fail, naming the file, when the committed code is stale.
//! - `bench`: build and run the benchmark (`bench/`) in release mode; it prints a table.
//! - `build-time [--runs N] [--only PACKAGE] [--against REV]`: cold builds of the published crates,
//!   each in a fresh target directory, printed as a table of medians (a figure, never an
//!   assertion); `--against` also builds the default `kelviq` at an older commit, run for run,
//!   and prints the ratio, which a noisy or slower machine leaves standing.

mod build_time;
mod wire_table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use progenitor_impl::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};

const SPEC: &str = "openapi/kelviq.yaml";
const GENERATED: &str = "kelviq-gen/src/generated.rs";
const WIRE_TABLE: &str = "kelviq-gen/src/wire_table.rs";

const USAGE: &str =
    "usage: cargo xtask codegen [--check] | cargo xtask bench | cargo xtask build-time [--runs N] [--only PACKAGE] [--against REV]";

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["codegen"] => codegen(false),
        ["codegen", "--check"] => codegen(true),
        ["bench"] => bench(),
        ["build-time", options @ ..] => {
            let (mut runs, mut only, mut against) = (3, None, None);
            let mut options = options.iter();
            while let Some(option) = options.next() {
                match (*option, options.next()) {
                    ("--runs", Some(n)) => match n.parse() {
                        Ok(n) if n > 0 => runs = n,
                        _ => bail!("--runs takes a positive number, not {n:?}\n{USAGE}"),
                    },
                    ("--only", Some(package)) => only = Some(*package),
                    ("--against", Some(rev)) => against = Some(*rev),
                    _ => bail!("{USAGE}"),
                }
            }
            build_time::run(&workspace_root(), runs, only, against)
        }
        _ => bail!("{USAGE}"),
    }
}

fn workspace_root() -> PathBuf {
    // xtask lives one level below the workspace root.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent directory")
        .to_path_buf()
}

fn codegen(check: bool) -> Result<ExitCode> {
    let root = workspace_root();
    let spec = read_spec(&root.join(SPEC))?;
    let for_client = read_spec_for_client(&root.join(SPEC))?;
    // One generated module per family: the default one (the operations of the official
    // clients, no `x-kelviq-family`) and one per family, each from the document filtered to
    // its operations and the schemas they reach, so that a family left out of the build
    // compiles nothing.
    let mut outputs = vec![(
        GENERATED.to_owned(),
        generate(&family_document(&for_client, None)?)?,
    )];
    for family in FAMILIES {
        outputs.push((
            format!("kelviq-gen/src/generated_{family}.rs"),
            generate(&family_document(&for_client, Some(family))?)?,
        ));
    }
    outputs.push((WIRE_TABLE.to_owned(), wire_table::generate(&spec, SPEC)?));
    let mut stale = false;
    for (file, generated) in outputs {
        let file = file.as_str();
        let target = root.join(file);
        if check {
            let committed = std::fs::read_to_string(&target).unwrap_or_default();
            if committed == generated {
                println!("{file} is up to date with {SPEC}");
            } else {
                eprintln!(
                    "{file} is stale: it is not what {SPEC} generates. \
                     Run `cargo xtask codegen` and commit the result."
                );
                stale = true;
            }
        } else {
            std::fs::write(&target, generated).with_context(|| format!("writing {file}"))?;
            println!("wrote {file} from {SPEC}");
        }
    }
    Ok(if stale {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn read_spec(spec_path: &Path) -> Result<openapiv3::OpenAPI> {
    let text = std::fs::read_to_string(spec_path)
        .with_context(|| format!("reading {}", spec_path.display()))?;
    serde_yaml_ng::from_str(&text).with_context(|| format!("parsing {SPEC}"))
}

/// The document the client is generated from: the document without its string `pattern`s.
///
/// typify turns each pattern into a newtype checked by the `regress` regex engine, which
/// kelviq-gen then compiles (3 s of a cold build, on the critical path) for five patterns that
/// the `kelviq` crate checks by hand anyway (`validate.rs`), naming the field. The document
/// keeps them for other languages' generators and validators.
fn read_spec_for_client(spec_path: &Path) -> Result<serde_yaml_ng::Value> {
    let text = std::fs::read_to_string(spec_path)
        .with_context(|| format!("reading {}", spec_path.display()))?;
    let mut value: serde_yaml_ng::Value =
        serde_yaml_ng::from_str(&text).with_context(|| format!("parsing {SPEC}"))?;
    strip_string_patterns(&mut value);
    Ok(value)
}

/// The families of operations behind cargo features of `kelviq-gen` (and `kelviq`), named
/// by each operation's `x-kelviq-family`; operations without one are the default family.
const FAMILIES: [&str; 3] = ["catalog", "partner", "admin"];

/// The document with only the operations of `family` (`None`: those without a family) and
/// the components they reach through `$ref`, directly or through other components.
fn family_document(
    document: &serde_yaml_ng::Value,
    family: Option<&str>,
) -> Result<openapiv3::OpenAPI> {
    use serde_yaml_ng::Value;
    let mut document = document.clone();
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    // A family this task does not generate (a typo, a family not added to `FAMILIES`)
    // would leave its operations out of every module: refused, naming the operation.
    if let Some(Value::Mapping(paths)) = document.get("paths") {
        for (path, item) in paths {
            let Value::Mapping(item) = item else { continue };
            for (method, operation) in item {
                let Some(named) = operation.get("x-kelviq-family") else {
                    continue;
                };
                if !named
                    .as_str()
                    .is_some_and(|named| FAMILIES.contains(&named))
                {
                    bail!(
                        "{SPEC}: {} {}: x-kelviq-family {named:?} is not one of {FAMILIES:?}",
                        method.as_str().unwrap_or_default(),
                        path.as_str().unwrap_or_default(),
                    );
                }
            }
        }
    }
    if let Some(Value::Mapping(paths)) = document.get_mut("paths") {
        for (_, item) in paths.iter_mut() {
            if let Value::Mapping(item) = item {
                item.retain(|key, operation| {
                    let is_method = key.as_str().is_some_and(|k| METHODS.contains(&k));
                    !is_method || operation.get("x-kelviq-family").and_then(Value::as_str) == family
                });
            }
        }
        paths.retain(|_, item| {
            item.as_mapping().is_some_and(|item| {
                item.keys()
                    .any(|k| k.as_str().is_some_and(|k| METHODS.contains(&k)))
            })
        });
    }
    // Which components the remaining operations reach.
    let mut reached = std::collections::BTreeSet::new();
    let mut pending = Vec::new();
    collect_refs(document.get("paths").unwrap_or(&Value::Null), &mut pending);
    while let Some(reference) = pending.pop() {
        if !reached.insert(reference.clone()) {
            continue;
        }
        if let Some(component) = component(&document, &reference) {
            collect_refs(component, &mut pending);
        }
    }
    if let Some(Value::Mapping(components)) = document.get_mut("components") {
        for kind in ["schemas", "responses", "parameters", "requestBodies"] {
            if let Some(Value::Mapping(named)) = components.get_mut(kind) {
                named.retain(|name, _| {
                    name.as_str().is_some_and(|name| {
                        reached.contains(&format!("#/components/{kind}/{name}"))
                    })
                });
            }
        }
    }
    serde_yaml_ng::from_value(document).with_context(|| format!("reading {SPEC} as OpenAPI"))
}

fn collect_refs(value: &serde_yaml_ng::Value, into: &mut Vec<String>) {
    use serde_yaml_ng::Value;
    match value {
        Value::Mapping(map) => {
            for (key, nested) in map {
                match (key.as_str(), nested) {
                    (Some("$ref"), Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_refs(nested, into),
                }
            }
        }
        Value::Sequence(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}

fn component<'a>(
    document: &'a serde_yaml_ng::Value,
    reference: &str,
) -> Option<&'a serde_yaml_ng::Value> {
    let mut parts = reference.strip_prefix("#/components/")?.split('/');
    let (kind, name) = (parts.next()?, parts.next()?);
    document.get("components")?.get(kind)?.get(name)
}

/// Removes `pattern` from every schema of `type: string`, wherever it is nested.
fn strip_string_patterns(value: &mut serde_yaml_ng::Value) {
    use serde_yaml_ng::Value;
    match value {
        Value::Mapping(map) => {
            if map.get("type").and_then(Value::as_str) == Some("string") {
                map.remove("pattern");
            }
            for (_, nested) in map.iter_mut() {
                strip_string_patterns(nested);
            }
        }
        Value::Sequence(items) => items.iter_mut().for_each(strip_string_patterns),
        _ => {}
    }
}

/// Runs the benchmark in release mode from the workspace root; its table goes to stdout.
fn bench() -> Result<ExitCode> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .current_dir(workspace_root())
        .args(["run", "--release", "--quiet", "--package", "kelviq-bench"])
        .status()
        .context("running the benchmark")?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The formatted source of the client progenitor generates from the document.
fn generate(spec: &openapiv3::OpenAPI) -> Result<String> {
    let mut settings = GenerationSettings::new();
    settings
        .with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        // The `kelviq` crate supplies the transport (auth, retries, tracing) through
        // `kelviq_gen::Transport`; `Expected` makes a missing hook impl a compile error
        // rather than a silent fallback to the bare reqwest call.
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote_inner_type())
        .with_derive("PartialEq");

    // progenitor panics (instead of returning an error) on some shapes it cannot take;
    // turn that into an error that says which document caused it.
    let tokens = std::panic::catch_unwind(|| Generator::new(&settings).generate_tokens(spec))
        .map_err(|_| anyhow::anyhow!("progenitor panicked on {SPEC}: see ../shared/progenitor-notes.md for the shapes it cannot take"))?
        .with_context(|| format!("generating the client from {SPEC}"))?;

    let file: syn::File = syn::parse2(tokens).context("parsing the generated tokens")?;
    let body = prettyplease::unparse(&file);
    let source = format!(
        "// @generated by `cargo xtask codegen` from {SPEC} with progenitor. Do not edit:\n\
         // change the document and run `cargo xtask codegen` again.\n\n{body}"
    );
    // Not run through rustfmt: it re-indents the block doc comments typify and progenitor
    // write, turning their link definitions into code blocks, and it does not settle on
    // them in one pass. `kelviq-gen/src/lib.rs` marks the module `#[rustfmt::skip]`.
    Ok(source)
}

fn quote_inner_type() -> proc_macro2::TokenStream {
    "crate::Transport"
        .parse()
        .expect("a type path is a valid token stream")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(family: &str) -> serde_yaml_ng::Value {
        serde_yaml_ng::from_str(&format!(
            r#"
openapi: 3.0.3
info: {{title: t, version: "1"}}
paths:
  /things:
    get:
      operationId: listThings
      x-kelviq-family: {family}
      responses:
        "200": {{description: ok}}
"#
        ))
        .unwrap()
    }

    fn operations(document: &openapiv3::OpenAPI) -> usize {
        document.operations().count()
    }

    /// An operation whose `x-kelviq-family` names no family of `FAMILIES` (a typo such as
    /// `catlog`, or a new family not added there) would be in no generated module at all,
    /// with `codegen --check` content: it is an error instead.
    #[test]
    fn an_operation_of_an_unknown_family_is_an_error_not_dropped() {
        let doc = document("catlog");
        let kept: usize = std::iter::once(None)
            .chain(FAMILIES.iter().copied().map(Some))
            .filter_map(|family| family_document(&doc, family).ok())
            .map(|filtered| operations(&filtered))
            .sum();
        assert!(
            kept == 1 || family_document(&doc, None).is_err(),
            "listThings (x-kelviq-family: catlog) is in no generated module, and no error says so"
        );
    }

    #[test]
    fn a_known_family_keeps_its_operation() {
        let doc = document("catalog");
        assert_eq!(
            operations(&family_document(&doc, Some("catalog")).unwrap()),
            1
        );
        assert_eq!(operations(&family_document(&doc, None).unwrap()), 0);
    }
}
