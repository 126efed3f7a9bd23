//! `kelviq push`: converges an environment (the sandbox unless `--prod`) toward a config
//! file: reads the remote catalogue, prints what changes (the operations of
//! [`crate::plan`]), asks, then applies them in order (products, features, plans,
//! entitlements, prices, publish, prune; see [`crate::apply`]), stopping at the first
//! failure with what was and was not applied.
//!
//! Flags, as documented: `[config]` (default `kelviq.config.toml`, or `kelviq.config.json`
//! when only it exists), `--prod`, `--dry-run` (never writes), `--yes` (no prompts; needed
//! when standard input is not a terminal), `--publish` (publish the plans the run changes,
//! after a second confirmation), `--migrate-features` / `--migrate-pricing` (only with
//! `--publish`, else a usage error), `--prune` (archive remote-only plans and features
//! carrying the `managed-by: kelviq-cli` marker; in production only after typing
//! `production` at a prompt, or with `--allow-prod-prune`, which `--yes` never replaces),
//! `--verbose` (every field of every change, price sets in full), `--json` (only with
//! `--dry-run`, else a usage error).
//!
//! `--dry-run --json` prints one JSON document on standard output and nothing else there:
//!
//! | key | value |
//! |---|---|
//! | `environment` | `"sandbox"` or `"production"`: the target |
//! | `direction` | `"config->sandbox"`, `"config->production"` (push) or `"sandbox->production"` (promote) |
//! | `changes` | `true` when the run would write anything (`operations` is not empty) |
//! | `summary` | counts of operations by action: `create`, `update`, `delete`, `replace`, `publish`, `archive`, and `total` |
//! | `operations` | every write in order: `{step, action, kind, identifier, feature?, changes?, description}`; `step` one of `products`, `features`, `plans`, `entitlements`, `prices`, `publish`, `prune`; `action` one of `create`, `update`, `delete` (an entitlement), `replace` (a price set), `publish`, `archive`; `kind` one of `product`, `feature`, `plan`, `entitlement`, `prices`; `identifier` the product, feature or plan (the plan for entitlements and prices); `feature` the entitlement's feature; `changes` `[{field, from, to}]` for updates and price replacements |
//! | `prune` | `{enabled, archive: [{kind, identifier}], skipped: [{kind, identifier, reason}]}` |
//! | `publish` | `{enabled, plans: [identifier], migrateFeatures, migratePricing}` |
//! | `featureDrift` | `[{identifier, fields: [{field, local, remote}]}]`: features that differ, which stop a push |
//! | `errors` | what stops the run before any write (drift included), as sentences |
//! | `warnings` | what the run reports without stopping (remote-only resources, dropped fields) |
//!
//! It exits 0 whenever the document is rendered, also when `errors` is not empty (as
//! documented: a successful render); when the remote catalogue cannot be read (no key, the
//! network, an answer it cannot use) it prints `{"error": "<reason>"}` instead and exits 1.
//! Without `--json`, a dry run that finds feature drift or other errors exits 1.

use std::io::BufRead;
use std::path::PathBuf;

use kelviq_config::Catalog;

use crate::plan::{self, Operation, Options, Plan};
use crate::remote::{self, Snapshot};
use crate::target::Target;
use crate::ui::{Colour, Ui};
use crate::Failure;

/// `kelviq push` options.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The config file [default: kelviq.config.toml, or kelviq.config.json when only it exists].
    #[arg(value_name = "CONFIG")]
    config: Option<PathBuf>,
    /// Target production instead of sandbox.
    #[arg(long)]
    prod: bool,
    /// The shared flags.
    #[command(flatten)]
    pub flags: Flags,
}

/// The flags `push` and `promote` share.
#[derive(Debug, Clone, clap::Args)]
pub struct Flags {
    /// Print the diff and exit; never writes.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the confirmation prompts (required when not run interactively).
    #[arg(long)]
    pub yes: bool,
    /// Publish the plans this run creates or changes, after its own confirmation.
    #[arg(long)]
    pub publish: bool,
    /// With --publish: migrate existing customers to the published entitlements.
    #[arg(long, requires = "publish")]
    pub migrate_features: bool,
    /// With --publish: migrate existing customers to the published pricing.
    #[arg(long, requires = "publish")]
    pub migrate_pricing: bool,
    /// Archive remote-only plans and features the CLI created (never products).
    #[arg(long)]
    pub prune: bool,
    /// Allow --prune in production without the typed confirmation (for CI).
    #[arg(long)]
    pub allow_prod_prune: bool,
    /// Show every changed field in full.
    #[arg(long)]
    pub verbose: bool,
    /// With --dry-run: print the plan as one JSON document on standard output.
    #[arg(long, requires = "dry_run")]
    pub json: bool,
}

impl Flags {
    fn options(&self) -> Options {
        Options {
            publish: self.publish,
            migrate_features: self.migrate_features,
            migrate_pricing: self.migrate_pricing,
            prune: self.prune,
        }
    }
}

/// Runs `kelviq push`.
pub fn run(args: Args, ui: &Ui) -> Result<(), Failure> {
    let target = Target::from_prod_flag(args.prod);
    let path = args
        .config
        .unwrap_or_else(|| kelviq_config::default_path(std::path::Path::new(".")));
    let json = args.flags.json;
    let desired = match kelviq_config::load(&path) {
        Ok(catalog) => catalog,
        Err(error) => {
            let message = error
                .diagnostics()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            return Err(json_failure(json, ui, message));
        }
    };
    let client = remote::client(target).map_err(|f| json_failure(json, ui, f.message))?;
    let direction = format!("config->{}", target.name());
    converge(
        ui,
        "push",
        target,
        &direction,
        &desired,
        Vec::new(),
        &client,
        &args.flags,
    )
}

/// A failure: as a `{"error": …}` document on standard output in JSON mode.
pub fn json_failure(json: bool, ui: &Ui, message: String) -> Failure {
    if json {
        ui.out(&serde_json::json!({ "error": message }).to_string());
        Failure {
            message: String::new(),
            code: 1,
        }
    } else {
        Failure::new(message)
    }
}

/// Diffs the environment `client` talks to against `desired`, and converges it as the
/// flags say; `verb` names the command in messages.
#[allow(clippy::too_many_arguments)]
pub fn converge(
    ui: &Ui,
    verb: &str,
    target: Target,
    direction: &str,
    desired: &Catalog,
    source_warnings: Vec<String>,
    client: &kelviq::blocking::Client,
    flags: &Flags,
) -> Result<(), Failure> {
    let Snapshot {
        catalog,
        mut ids,
        warnings: target_warnings,
    } = remote::fetch(client, ui)
        .map_err(|e| json_failure(flags.json, ui, format!("{verb} failed: {e}")))?;
    let mut plan = plan::plan(desired, &catalog, &flags.options());
    // What reading the source and the target reported comes first, each line naming the
    // environment it is about, then what the planner found.
    let read_warnings = source_warnings.into_iter().chain(
        target_warnings
            .into_iter()
            .map(|w| format!("{}: {w}", target.name())),
    );
    plan.warnings.splice(0..0, read_warnings);

    if flags.json {
        let document = plan.to_json(target.name(), direction);
        ui.out(&serde_json::to_string_pretty(&document).unwrap_or_default());
        return Ok(());
    }

    render(ui, &plan, target, flags.verbose);
    if plan.is_blocked() {
        return Err(Failure::new(format!(
            "{verb} stopped before writing anything: {} problem{}",
            plan.errors.len(),
            if plan.errors.len() == 1 { "" } else { "s" }
        )));
    }
    if flags.dry_run {
        ui.status(&ui.paint_err("Dry run: nothing was written.", Colour::Dim));
        return Ok(());
    }
    if !plan.has_changes() {
        return Ok(());
    }

    let total = plan.operations.len();
    confirm(
        ui,
        flags.yes,
        &format!(
            "Apply {total} operation{} to {}?",
            if total == 1 { "" } else { "s" },
            target.name()
        ),
    )?;
    if !plan.publish.plans.is_empty() {
        let mut question = format!(
            "Publish {} in {}? Customers will see the published plans.",
            plan.publish
                .plans
                .iter()
                .map(|p| format!("\"{p}\""))
                .collect::<Vec<_>>()
                .join(", "),
            target.name()
        );
        if plan.publish.migrate_features {
            question
                .push_str(" --migrate-features: existing customers move to the new entitlements.");
        }
        if plan.publish.migrate_pricing {
            question.push_str(" --migrate-pricing: existing customers move to the new pricing.");
        }
        if !plan.publish.migrate_features && !plan.publish.migrate_pricing {
            question.push_str(" Existing customers stay on what they have.");
        }
        confirm(ui, flags.yes, &question)?;
    }
    if target == Target::Production && !plan.prune.archive.is_empty() && !flags.allow_prod_prune {
        production_prune_gate(ui, plan.prune.archive.len())?;
    }

    let mut applied = Vec::new();
    let result = crate::apply::apply(
        client,
        desired,
        &plan,
        &mut ids,
        |step: usize, op: &Operation| ui.progress(step, total, &op.description),
        |op: &Operation| applied.push(op.description.clone()),
    );
    match result {
        Ok(()) => {
            ui.out(&format!(
                "Applied {total} operation{} to {}.",
                if total == 1 { "" } else { "s" },
                target.name()
            ));
            if plan.publish.plans.is_empty() && !plan.publish.enabled {
                ui.status(&ui.paint_err(
                    "Plans were written as drafts: nothing customers see changed until they \
                     are published (--publish).",
                    Colour::Dim,
                ));
            }
            Ok(())
        }
        Err(stopped) => {
            let mut message = format!(
                "{verb} stopped after applying {} of {total} operations: {}",
                stopped.applied, stopped.reason
            );
            message.push_str("\napplied:");
            for line in &applied {
                message.push_str(&format!("\n  {line}"));
            }
            if applied.is_empty() {
                message.push_str(" nothing");
            }
            message.push_str("\nnot applied:");
            for op in &plan.operations[stopped.applied..] {
                message.push_str(&format!("\n  {}", op.description));
            }
            message.push_str(
                "\n(what was applied are drafts unless published; nothing was rolled back)",
            );
            Err(Failure::new(message))
        }
    }
}

/// The text diff on standard output; warnings and errors on standard error.
fn render(ui: &Ui, plan: &Plan, target: Target, verbose: bool) {
    if plan.operations.is_empty() {
        if !plan.is_blocked() {
            ui.out(&format!("No changes: {} matches.", target.name()));
        }
    } else {
        ui.out(&format!("Changes to {}:", target.name()));
    }
    for op in &plan.operations {
        let colour = match op.action {
            plan::Action::Create => Colour::Green,
            plan::Action::Delete | plan::Action::Archive => Colour::Red,
            plan::Action::Publish => Colour::Bold,
            _ => Colour::Yellow,
        };
        ui.out(&format!("  {}", ui.paint_out(&op.description, colour)));
        if verbose {
            for change in &op.changes {
                ui.out(&format!(
                    "      {}: {} → {}",
                    change.field, change.from, change.to
                ));
            }
        }
    }
    for skipped in &plan.prune.skipped {
        if plan.prune.enabled {
            ui.out(&format!(
                "  skipped {} \"{}\": {}",
                skipped.kind.name(),
                skipped.identifier,
                skipped.reason
            ));
        }
    }
    if !plan.feature_drift.is_empty() {
        ui.note(&format!(
            "Feature drift (the config against {}):",
            target.name()
        ));
    }
    for drift in &plan.feature_drift {
        for field in &drift.fields {
            ui.note(&format!(
                "  feature \"{}\" {}: config {} / environment {}",
                drift.identifier, field.field, field.local, field.remote
            ));
        }
    }
    for warning in &plan.warnings {
        ui.warn(warning);
    }
    for error in &plan.errors {
        ui.error(error);
    }
}

/// Asks `question` unless `yes`; refuses when nobody can answer.
fn confirm(ui: &Ui, yes: bool, question: &str) -> Result<(), Failure> {
    if yes {
        return Ok(());
    }
    if !ui.stdin_is_terminal() {
        return Err(Failure::new(format!(
            "{question}\nstandard input is not a terminal, so nobody can confirm: pass --yes \
             to apply without prompts; nothing was written"
        )));
    }
    eprint!("{question} [y/N] ");
    let answer = read_line()?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new("not confirmed; nothing was written"))
    }
}

/// The typed confirmation for archiving in production.
fn production_prune_gate(ui: &Ui, count: usize) -> Result<(), Failure> {
    if !ui.stdin_is_terminal() {
        return Err(Failure::new(
            "--prune in production needs the typed confirmation, and standard input is not a \
             terminal: pass --allow-prod-prune (--yes never unlocks it); nothing was written",
        ));
    }
    eprint!("Type `production` to archive {count} resource(s) in production: ");
    if read_line()?.trim() == "production" {
        Ok(())
    } else {
        Err(Failure::new(
            "production prune not confirmed; nothing was written",
        ))
    }
}

fn read_line() -> Result<String, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::new(format!("cannot read the answer: {e}")))?;
    Ok(line)
}
