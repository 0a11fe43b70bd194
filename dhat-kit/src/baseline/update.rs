//! The check and its update flow: [`Policy`] (from `DHAT_KIT_UPDATE` and `CI`), [`check`] and
//! [`check_profile`], and [`locate`] for a crate's baseline file.

use super::compare::{compare, Comparison};
use super::file::{Baseline, BaselineError, BaselineFigures, Entry, Measure, METRICS};
use super::{DEFAULT_FILE, DEFAULT_TOLERANCE};
use crate::analyze::Metric;
use crate::atomic_file::with_suffix;
use crate::profile::ProfileError;
use std::collections::btree_map::Entry as MapEntry;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A setting this version does not take: a value of `DHAT_KIT_UPDATE`, or a tolerance.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingError {
    /// `DHAT_KIT_UPDATE` has a value other than `1`, `new` or `0` (and their synonyms).
    Update {
        /// The value found.
        value: String,
    },
    /// A tolerance that is not a percentage of 0 or more.
    Tolerance {
        /// The text found.
        text: String,
    },
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SettingError::Update { value } => write!(
                f,
                "dhat-kit: DHAT_KIT_UPDATE={value:?}: expected 1 (record new and changed \
                 baseline entries), new (write them to a .new file for review) or 0"
            ),
            SettingError::Tolerance { text } => write!(
                f,
                "expected a tolerance in percent, 0 or more, e.g. `5%` or `2.5`; found `{text}`"
            ),
        }
    }
}

impl std::error::Error for SettingError {}

/// What a check may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Update {
    /// Nothing (`DHAT_KIT_UPDATE` unset, `0` or `no`).
    #[default]
    No,
    /// Record new entries and entries outside the tolerance in the file (`DHAT_KIT_UPDATE=1`,
    /// `always` or `yes`).
    Record,
    /// Write them to `FILE.new` for review, and check as if nothing had been written
    /// (`DHAT_KIT_UPDATE=new`).
    Pending,
}

/// The update policy of a check: what `DHAT_KIT_UPDATE` asks for, and whether `CI` is set.
/// When `ci` is true nothing is ever written, whatever `update` says.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{Policy, Update};
///
/// let on_ci = Policy::from_vars(Some("1"), Some("true"))?;
/// assert_eq!(on_ci.effective(), Update::No);
/// let local = Policy::from_vars(Some("new"), None)?;
/// assert_eq!(local.effective(), Update::Pending);
/// assert!(Policy::from_vars(Some("sometimes"), None).is_err());
/// # Ok::<(), dhat_kit::baseline::SettingError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// What `DHAT_KIT_UPDATE` asks for.
    pub update: Update,
    /// Whether this is CI (`CI` set, and not to `false` or `0`; where it is not set, a CI
    /// service's own variable, `JENKINS_URL`, `TF_BUILD` or `TEAMCITY_VERSION`): then nothing is
    /// written.
    pub ci: bool,
}

/// CI services that do not set `CI`, by a variable each sets on every build: Jenkins, Azure
/// Pipelines, TeamCity.
const CI_SERVICES: [&str; 3] = ["JENKINS_URL", "TF_BUILD", "TEAMCITY_VERSION"];

/// The value of `CI` in this process's environment; where it is not set, `true` on a CI service
/// that does not set it ([`CI_SERVICES`]), so that nothing is written there either; `None`
/// elsewhere.
fn ci_var() -> Option<String> {
    match std::env::var_os("CI") {
        Some(v) => Some(v.to_string_lossy().into_owned()),
        None => CI_SERVICES
            .iter()
            .any(|v| std::env::var_os(v).is_some())
            .then(|| "true".to_owned()),
    }
}

/// Whether the value of `CI` (`None` when unset) means CI: set to anything, even empty, but
/// `false` and `0`, which CI services never set and people set to say that a run is not CI.
fn on_ci(ci: Option<&str>) -> bool {
    ci.is_some_and(|v| {
        let v = v.trim();
        !(v.eq_ignore_ascii_case("false") || v == "0")
    })
}

impl Policy {
    /// The policy of this process's environment: `DHAT_KIT_UPDATE` and `CI` (where `CI` is not
    /// set, `JENKINS_URL`, `TF_BUILD` or `TEAMCITY_VERSION` counts as `CI=true`).
    ///
    /// # Errors
    ///
    /// [`SettingError::Update`] (naming `DHAT_KIT_UPDATE` and the values it takes), if it has
    /// another value.
    pub fn from_env() -> Result<Policy, SettingError> {
        let update = std::env::var("DHAT_KIT_UPDATE").ok();
        Policy::from_vars(update.as_deref(), ci_var().as_deref())
    }

    /// The policy of the values of `DHAT_KIT_UPDATE` and `CI` (`None` when unset). `CI` set
    /// means CI, whatever its value (even empty), but `false` and `0` (in any case, spaces
    /// around them ignored), which say it is not.
    ///
    /// # Errors
    ///
    /// As [`Policy::from_env`].
    pub fn from_vars(update: Option<&str>, ci: Option<&str>) -> Result<Policy, SettingError> {
        let update = match update.map(str::trim) {
            None | Some("" | "0" | "no" | "false") => Update::No,
            Some("1" | "yes" | "true" | "always") => Update::Record,
            Some("new") => Update::Pending,
            Some(other) => {
                return Err(SettingError::Update {
                    value: other.to_owned(),
                })
            }
        };
        Ok(Policy {
            update,
            ci: on_ci(ci),
        })
    }

    /// The policy of a command with an `--update[=new]` flag: `update` as the flag asks, and
    /// `ci` from this process's environment (`CI` set, and not to `false` or `0`).
    #[must_use]
    pub fn for_command(update: Update) -> Policy {
        Policy {
            update,
            ci: on_ci(ci_var().as_deref()),
        }
    }

    /// What will be written: [`Update::No`] on CI, else [`Policy::update`].
    #[must_use]
    pub fn effective(&self) -> Update {
        if self.ci {
            Update::No
        } else {
            self.update
        }
    }
}

/// How to check figures against a baseline entry.
///
/// Built from [`Default`], then its fields set (`let mut o = CheckOptions::default(); o.tolerance = 5.0;`): it is
/// `#[non_exhaustive]`, so that a field added later breaks no caller.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CheckOptions {
    /// The tolerance in percent; [`DEFAULT_TOLERANCE`] by default.
    pub tolerance: f64,
    /// The metrics to compare; empty (the default) compares every metric both sides have, and a
    /// metric named here must be on both sides.
    pub metrics: Vec<Metric>,
    /// What may be written.
    pub policy: Policy,
    /// The command that records the entry, quoted in failures: for a test,
    /// `DHAT_KIT_UPDATE=1 cargo test -p my-crate -- --exact parser::small`.
    pub record_command: String,
}

impl Default for CheckOptions {
    fn default() -> CheckOptions {
        CheckOptions {
            tolerance: DEFAULT_TOLERANCE,
            metrics: Vec::new(),
            policy: Policy::default(),
            record_command: String::new(),
        }
    }
}

/// The outcome of a [`check`]: [`message`](Verdict::message) for a terminal,
/// [`to_markdown`](Verdict::to_markdown) for a pull request's comment, and JSON by its
/// `Serialize` (see [`Verdict::to_markdown`]'s example).
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a check that failed fails nothing by itself: read `passed`"]
pub struct Verdict {
    /// Whether the check passed: an entry exists (or was recorded) and nothing regressed beyond
    /// the tolerance.
    pub passed: bool,
    /// Where the figures stood against the entry before anything was written.
    pub standing: Standing,
    /// The comparison, when there was an entry.
    pub comparison: Option<Comparison>,
    /// The file written (the baseline, or its `.new`), if one was.
    pub wrote: Option<PathBuf>,
    /// What to tell the user: empty when the figures are within the tolerance and nothing was
    /// written; otherwise the table, and what to do.
    pub message: String,
    said: Said,
}

/// A check's message in parts, which [`Verdict::message`] and [`Verdict::to_markdown`] put
/// together each in its own way.
#[derive(Debug, Clone, PartialEq)]
struct Said {
    file: PathBuf,
    name: String,
    tolerance: f64,
    /// What the figures measure, which names the table's rows.
    measure: Measure,
    /// The verdict's first sentence (`dhat-kit: ...`). For figures within the tolerance with
    /// nothing written, whose text message is empty, a sentence that says so.
    headline: String,
    /// What comes between the headline and the advice in the text message: `:\n` and the
    /// table, a space or a line break.
    joint: Joint,
    /// What to do now (the commands to record, to accept a pending file), maybe empty.
    advice: String,
}

/// How a text message joins its headline to its advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Joint {
    /// `headline:`, the table, a line break, the advice.
    Table,
    /// A space.
    Space,
    /// A line break.
    Line,
    /// Nothing: the text message is empty (figures within the tolerance, nothing written).
    Quiet,
}

impl Verdict {
    /// The baseline file checked.
    #[must_use]
    pub fn file(&self) -> &Path {
        &self.said.file
    }

    /// The verdict as GitHub-flavoured Markdown, for a pull request's comment: the headline,
    /// the comparison as a table (also when every figure is within the tolerance), then what to
    /// do, with its commands, as a block of text.
    ///
    /// # Examples
    ///
    /// ```
    /// use dhat_kit::baseline::{check, CheckOptions, BaselineFigures, Policy, Standing, Update};
    ///
    /// let dir = std::env::temp_dir().join(format!("dhat-kit-doc-md-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let file = dir.join("memory-baseline.json");
    /// let figures = BaselineFigures { peak_bytes: Some(4096), ..BaselineFigures::default() };
    /// let mut record = CheckOptions::default();
    /// record.policy = Policy { update: Update::Record, ci: false };
    /// check(&file, "parse", &figures, &record)?;
    ///
    /// let bigger = BaselineFigures { peak_bytes: Some(8192), ..figures };
    /// let verdict = check(&file, "parse", &bigger, &CheckOptions::default())?;
    /// assert_eq!(verdict.standing, Standing::Regressed);
    /// assert!(verdict.to_markdown().contains("| 4,096 | 8,192 | +4,096 | +100.0% | regressed | peak bytes |"));
    /// let json = serde_json::to_value(&verdict).unwrap();
    /// assert_eq!(json["standing"], "regressed");
    /// assert_eq!(json["rows"][0]["now"], 8192);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), dhat_kit::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn to_markdown(&self) -> String {
        use crate::analyze::{markdown_fenced, markdown_text, one_line};
        let said = &self.said;
        let mut out = markdown_text(&one_line(said.headline.trim_end_matches(':')));
        out.push_str("\n\n");
        if let Some(c) = &self.comparison {
            out.push_str(&markdown_text(&format!(
                "memory baseline `{}` (tolerance {}%):",
                one_line(&c.name),
                c.tolerance
            )));
            out.push_str("\n\n");
            out.push_str(&c.markdown(&said.measure));
        }
        if !said.advice.trim().is_empty() {
            if self.comparison.is_some() {
                out.push('\n');
            }
            out.push_str(&markdown_fenced(said.advice.trim()));
        }
        out
    }
}

impl serde::Serialize for Verdict {
    /// `file`, `name`, `tolerance`, `standing` (`missing`, `within`, `improved`, `regressed`),
    /// `passed`, `wrote` (the file written, or null), `unit`, `blocks_unit`, `rows` (each
    /// `metric`, `baseline`, `now`, `delta`, `percent` (null from a baseline of 0) and `status`:
    /// `within`, `regressed`, `improved`) and `message` (the text message, maybe empty).
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        /// A row of the comparison in JSON.
        #[derive(serde::Serialize)]
        struct RowJson {
            metric: Metric,
            baseline: u64,
            now: u64,
            delta: i128,
            percent: Option<f64>,
            status: super::compare::Status,
        }
        let rows: Vec<RowJson> = self
            .comparison
            .iter()
            .flat_map(|c| &c.rows)
            .map(|r| RowJson {
                metric: r.metric,
                baseline: r.baseline,
                now: r.now,
                delta: r.delta(),
                percent: r.percent(),
                status: r.status,
            })
            .collect();
        let said = &self.said;
        let mut out = s.serialize_struct("Verdict", 10)?;
        out.serialize_field("file", &said.file)?;
        out.serialize_field("name", &said.name)?;
        out.serialize_field("tolerance", &said.tolerance)?;
        out.serialize_field("standing", &self.standing)?;
        out.serialize_field("passed", &self.passed)?;
        out.serialize_field("wrote", &self.wrote)?;
        out.serialize_field("unit", &said.measure.unit)?;
        out.serialize_field("blocks_unit", &said.measure.blocks)?;
        out.serialize_field("rows", &rows)?;
        out.serialize_field("message", &self.message)?;
        out.end()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Where the figures stand against the baseline entry. In JSON: `missing`, `within`,
/// `improved` or `regressed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Standing {
    /// There is no entry of that name.
    Missing,
    /// Every figure is within the tolerance.
    Within,
    /// A figure is lower beyond the tolerance, and none higher.
    Improved,
    /// A figure is higher beyond the tolerance.
    Regressed,
}

impl Standing {
    /// Where a comparison stands (an entry exists).
    #[must_use]
    pub fn of(comparison: &Comparison) -> Standing {
        if comparison.unchanged() {
            Standing::Within
        } else if comparison.passed() {
            Standing::Improved
        } else {
            Standing::Regressed
        }
    }
}

/// Which file a check writes the figures to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Write {
    /// The baseline file itself.
    Baseline,
    /// `FILE.new`, for review.
    Pending,
}

/// What a check does: whether it passes, and what it writes. A pure function of the policy and
/// where the figures stand: [`decide`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the check passes.
    pub passed: bool,
    /// What it writes, if anything.
    pub write: Option<Write>,
}

/// The update decision of a check, as in the table of [`check`]: nothing is ever written on CI,
/// figures within the tolerance are never written, a record passes, a pending write passes only
/// where the figures alone would.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{decide, Decision, Policy, Standing, Update, Write};
///
/// let local = Policy { update: Update::Record, ci: false };
/// assert_eq!(decide(local, Standing::Regressed), Decision { passed: true, write: Some(Write::Baseline) });
/// let on_ci = Policy { update: Update::Record, ci: true };
/// assert_eq!(decide(on_ci, Standing::Regressed), Decision { passed: false, write: None });
/// ```
#[must_use]
pub fn decide(policy: Policy, standing: Standing) -> Decision {
    let passes = matches!(standing, Standing::Within | Standing::Improved);
    match (standing, policy.effective()) {
        (Standing::Within, _) | (_, Update::No) => Decision {
            passed: passes,
            write: None,
        },
        (_, Update::Record) => Decision {
            passed: true,
            write: Some(Write::Baseline),
        },
        (_, Update::Pending) => Decision {
            passed: passes,
            write: Some(Write::Pending),
        },
    }
}

/// [`decide`] for an entry that may lack a figure the check measures (`incomplete`): where the
/// policy writes, such an entry is made whole even within the tolerance, and written as the
/// policy writes (a pending write for review, as any other).
fn decide_entry(policy: Policy, standing: Standing, incomplete: bool) -> Decision {
    let decision = decide(policy, standing);
    let write = match policy.effective() {
        Update::No => None,
        Update::Record => Some(Write::Baseline),
        Update::Pending => Some(Write::Pending),
    };
    match decision.write {
        None if incomplete => Decision { write, ..decision },
        _ => decision,
    }
}

/// Checks `now` against the entry `name` of the baseline at `path`, and records it as `options`'
/// policy says: the decision ([`decide`]), then the write, then the message.
///
/// | entry | figures | nothing to write | `Record` | `Pending` |
/// |---|---|---|---|---|
/// | missing | | fails, with the command that records it | recorded, passes | written to `FILE.new`, fails |
/// | present | within tolerance | passes | passes, nothing written | passes; other figures `FILE.new` holds for it go back to the entry's |
/// | present | improved | passes, with the table and a hint to record | recorded, passes | written to `FILE.new`, passes |
/// | present | regressed | fails with the table | recorded, passes | written to `FILE.new`, fails |
///
/// On CI ([`Policy::ci`]) nothing is written and a missing entry fails. Only entries outside the
/// tolerance are recorded again, so that the baseline does not creep up by a tolerance at a time;
/// and an entry without a figure that `options.metrics` names (and `now` has) is recorded again,
/// with every figure, as a missing one is; where the policy writes, so is an entry without any
/// figure `now` has, named or not.
///
/// `now` are bytes and blocks ([`Measure::default`]), as a test's [`Stats`](crate::Stats) count
/// them; [`check_loaded`] checks a profile's figures, whatever they measure.
///
/// # Errors
///
/// A [`BaselineError`] naming the file if it (or its `.new`) cannot be read (corrupt,
/// half-written: it is left as it is) or written, if the entry lacks a metric named in
/// `options.metrics` and the policy writes nothing (the message gives the command that records
/// it), or [`BaselineError::Kinds`] if the entry measures something else than
/// bytes and blocks (an ad-hoc profile's units and events): nothing is then written, whatever
/// the policy.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{check, CheckOptions, BaselineFigures, Policy, Update};
///
/// let dir = std::env::temp_dir().join(format!("dhat-kit-doc-check-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("memory-baseline.json");
/// let figures = BaselineFigures { peak_bytes: Some(4096), ..BaselineFigures::default() };
///
/// let mut options = CheckOptions::default();
/// options.record_command = "DHAT_KIT_UPDATE=1 cargo test".into();
/// let missing = check(&file, "parse", &figures, &options)?;
/// assert!(!missing.passed && missing.message.contains("DHAT_KIT_UPDATE=1 cargo test"));
///
/// options.policy = Policy { update: Update::Record, ci: false };
/// assert!(check(&file, "parse", &figures, &options)?.passed); // recorded
///
/// options.policy = Policy::default();
/// let bigger = BaselineFigures { peak_bytes: Some(8192), ..figures };
/// let regressed = check(&file, "parse", &bigger, &options)?;
/// assert!(!regressed.passed);
/// println!("{regressed}"); // the table: baseline, now, delta, %
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), dhat_kit::baseline::BaselineError>(())
/// ```
pub fn check(
    path: &Path,
    name: &str,
    now: &BaselineFigures,
    options: &CheckOptions,
) -> Result<Verdict, BaselineError> {
    let bytes = Measure::default();
    check_measured(path, name, now, &bytes, "the figures checked", options)
}

/// [`check`] of figures `now` that measure `measure`, from `from` (a profile's file, for
/// messages); an entry they would be compared with or recorded over must measure the same
/// ([`same_kind`]).
fn check_measured(
    path: &Path,
    name: &str,
    now: &BaselineFigures,
    measure: &Measure,
    from: &str,
    options: &CheckOptions,
) -> Result<Verdict, BaselineError> {
    // A baseline shared through a link (packages whose `memory-baseline.json` link to one file)
    // is that file: its `.new` goes beside it, one for every package, and the command that
    // accepts it names it. Beside the link, a record through another link missed the `.new`,
    // and accepting it (`mv` onto the link) replaced the link with a copy that lacked that record.
    let followed = crate::atomic_file::follow_links(path);
    let path = followed.as_deref().unwrap_or(path);
    let baseline = Baseline::load(path)?;
    let entry = baseline.as_ref().and_then(|b| b.get(name));
    same_kind(path, name, entry, measure, from, options.policy)?;
    // An entry without a figure the check names is recorded again, with every figure, where the
    // policy writes (as a missing one is); otherwise it is an error that says how to record it.
    let writes = options.policy.effective() != Update::No;
    let lacking = entry
        .and_then(|e| lacking(e, options))
        .filter(|m| now.get(*m).is_some());
    let comparison = match entry {
        None => None,
        Some(_) if lacking.is_some() && writes => None,
        Some(entry) => Some(comparison(path, name, entry, now, options)?),
    };
    let standing = comparison.as_ref().map_or(Standing::Missing, Standing::of);
    // An entry without a figure the check measures, named or not (a hand edit or a merge that
    // dropped one).
    let incomplete = entry.filter(|_| lacking.is_none()).and_then(|e| {
        METRICS
            .iter()
            .copied()
            .find(|m| e.figures.get(*m).is_none() && now.get(*m).is_some())
    });
    let decision = decide_entry(options.policy, standing, incomplete.is_some());
    // The figure the message says was added: one named that the entry lacked, or one made whole
    // within the tolerance (outside it, the entry is recorded whole anyway, with its table).
    let lacking = lacking.or(incomplete.filter(|_| writes && standing == Standing::Within));
    let recorded = Recorded {
        name,
        now,
        measure,
        from,
        policy: options.policy,
    };
    let wrote = match decision.write {
        None => None,
        Some(Write::Baseline) => {
            record(path, None, &recorded)?;
            // A `.new` begun earlier holds the entry as it was, or lacks it: accepting it would
            // undo this record. It takes the entry as recorded.
            let pending = with_suffix(path, ".new");
            if pending.exists() {
                record(&pending, Some(path), &recorded)?;
            }
            Some(path.to_path_buf())
        }
        Some(Write::Pending) => {
            let pending = with_suffix(path, ".new");
            record(&pending, Some(path), &recorded)?;
            Some(pending)
        }
    };
    let pending = with_suffix(path, ".new");
    // Under `Pending`, figures within the tolerance take back what the `.new` holds for the entry
    // from an earlier run (a regression since mended): accepting the `.new` would otherwise put
    // those stale figures in the baseline.
    let withdrawn = match (options.policy.effective(), standing, entry) {
        (Update::Pending, Standing::Within, Some(entry)) if wrote.is_none() => {
            withdraw(&pending, path, name, entry)?.then_some(pending.as_path())
        }
        _ => None,
    };
    // A failing check whose figures a reviewed `.new` may already hold says so, and whether
    // accepting them would pass (they may be older than these).
    let waiting = (!decision.passed && wrote.is_none())
        .then(|| Baseline::load(&pending).ok().flatten())
        .flatten()
        .and_then(|b| b.get(name).cloned())
        .map(|held| {
            self::comparison(&pending, name, &held, now, options)
                .is_ok_and(|c| Standing::of(&c) != Standing::Regressed)
        });
    let near = match entry {
        None => baseline
            .as_ref()
            .and_then(|b| nearest(name, b.entries().map(|(n, _)| n))),
        Some(_) => None,
    };
    let said = render(&Rendered {
        path,
        name,
        entry,
        lacking,
        near,
        absent: baseline.is_none(),
        measure,
        standing,
        comparison: comparison.as_ref(),
        wrote: wrote.as_deref(),
        waiting: waiting.map(|current| (pending.as_path(), current)),
        withdrawn,
        options,
    });
    Ok(Verdict {
        passed: decision.passed,
        standing,
        message: said.text(comparison.as_ref()),
        comparison,
        wrote,
        said,
    })
}

/// Whether figures that measure `now` (from `from`) may be compared with the entry `name` (if
/// there is one) and recorded over it: only if the entry measures the same
/// ([`Measure::comparable`]); an entry of bytes and blocks that does not say of which kind
/// (`measures` is written only for other figures, so every heap entry, every entry of a test's
/// figures, and every file from before it or in the seed format) is compared with any profile of
/// bytes, heap or copy, as before. Otherwise [`BaselineError::Kinds`], whatever `policy` asks:
/// figures of another kind replace an entry only once the user has removed it.
fn same_kind(
    path: &Path,
    name: &str,
    entry: Option<&Entry>,
    now: &Measure,
    from: &str,
    policy: Policy,
) -> Result<(), BaselineError> {
    match entry {
        Some(entry) if !may_compare(&entry.measure, now) => Err(BaselineError::Kinds {
            file: path.to_path_buf(),
            name: name.to_owned(),
            entry: Box::new(entry.measure.clone()),
            from: from.to_owned(),
            now: Box::new(now.clone()),
            update: policy.update != Update::No,
        }),
        _ => Ok(()),
    }
}

/// Whether an entry of figures that measure `entry` may be compared with figures that measure
/// `now` (see [`same_kind`]).
fn may_compare(entry: &Measure, now: &Measure) -> bool {
    if *entry == Measure::default() {
        now.unit == entry.unit
    } else {
        entry.comparable(now)
    }
}

/// The comparison of `now` with an entry, on the metrics `options` names (all both sides have,
/// by default).
fn comparison(
    path: &Path,
    name: &str,
    entry: &Entry,
    now: &BaselineFigures,
    options: &CheckOptions,
) -> Result<Comparison, BaselineError> {
    let all = METRICS;
    let metrics = if options.metrics.is_empty() {
        &all[..]
    } else {
        &options.metrics[..]
    };
    if let Some(m) = metrics.iter().find(|m| !METRICS.contains(m)) {
        return Err(BaselineError::Entry {
            file: path.to_path_buf(),
            message: format!(
                "`{m}` is not a figure a baseline records; it records {}",
                crate::analyze::names(&METRICS)
            ),
        });
    }
    if let Some(m) = lacking(entry, options) {
        let command = &options.record_command;
        let how = if command.is_empty() {
            String::new()
        } else {
            format!(": {command}")
        };
        // An update asked for on CI, where nothing is written (it read as not asked).
        let policy = options.policy;
        let ci = if policy.ci && policy.update != Update::No {
            " (the update asked for is not made: CI is set, and nothing is written on CI)"
        } else {
            ""
        };
        return Err(BaselineError::Entry {
            file: path.to_path_buf(),
            message: format!(
                "the entry `{name}` has no {} figure to compare; record the entry again to add \
                 it{how}{ci}",
                m.key()
            ),
        });
    }
    Ok(compare(
        name,
        &entry.figures,
        now,
        options.tolerance,
        metrics,
    ))
}

/// The first metric `options` names that `entry` has no figure of.
fn lacking(entry: &Entry, options: &CheckOptions) -> Option<Metric> {
    options
        .metrics
        .iter()
        .copied()
        .find(|m| METRICS.contains(m) && entry.figures.get(*m).is_none())
}

/// What a check's message is made of.
struct Rendered<'a> {
    path: &'a Path,
    name: &'a str,
    entry: Option<&'a Entry>,
    /// A metric the check names that the entry has no figure of (it was then recorded again, or
    /// written to the pending file, with every figure).
    lacking: Option<Metric>,
    /// Without an entry of the name: the file's entry whose name is nearest to it, if one is a
    /// likely typo's ([`nearest`]).
    near: Option<&'a str>,
    /// Whether the baseline file did not exist (a first check, or a typo in its path).
    absent: bool,
    /// What the figures checked measure.
    measure: &'a Measure,
    standing: Standing,
    comparison: Option<&'a Comparison>,
    wrote: Option<&'a Path>,
    /// The pending file (`.new`), when the check failed and it holds an entry of the name.
    waiting: Option<(&'a Path, bool)>,
    /// The pending file, when figures within the tolerance took back what it held for the entry.
    withdrawn: Option<&'a Path>,
    options: &'a CheckOptions,
}

impl Said {
    /// The text message: empty for figures within the tolerance with nothing written (the
    /// command prints the table itself then).
    fn text(&self, comparison: Option<&Comparison>) -> String {
        match (self.joint, comparison) {
            (Joint::Table, Some(c)) => format!(
                "{}:\n{}\n{}",
                self.headline,
                c.measured(&self.measure),
                self.advice
            ),
            (Joint::Table, None) | (Joint::Quiet, _) => String::new(),
            (Joint::Space, _) => format!("{} {}", self.headline, self.advice),
            (Joint::Line, _) if self.advice.is_empty() => self.headline.clone(),
            (Joint::Line, _) => format!("{}\n{}", self.headline, self.advice),
        }
    }
}

/// The message of a check in parts, from what was decided and done, and the pending file
/// waiting for review, if any.
fn render(r: &Rendered<'_>) -> Said {
    let (headline, joint, mut advice) = render_verdict(r);
    match r.waiting {
        Some((pending, true)) => advice.push_str(&format!(
            "\n{p} holds figures for `{name}` waiting for review: accept them with \
             `mv {p} {file}`.",
            p = pending.display(),
            name = r.name,
            file = r.path.display(),
        )),
        Some((pending, false)) => advice.push_str(&format!(
            "\n{p} holds figures for `{name}` that these exceed (recorded before them): record \
             these for review instead (DHAT_KIT_UPDATE=new, or --update=new).",
            p = pending.display(),
            name = r.name,
        )),
        None => {}
    }
    Said {
        file: r.path.to_path_buf(),
        name: r.name.to_owned(),
        tolerance: r.comparison.map_or(r.options.tolerance, |c| c.tolerance),
        measure: r.entry.map_or(r.measure, |e| &e.measure).clone(),
        headline,
        joint,
        advice,
    }
}

/// How to accept an entry written to `pending` for review into the baseline `file`.
fn accept(pending: &Path, file: &Path) -> String {
    format!(
        "Accept it with `mv {p} {f}` and commit {f}.",
        p = pending.display(),
        f = file.display()
    )
}

/// The message of a check, from what was decided and done: its headline, how the text joins
/// it to the rest, and what to do.
fn render_verdict(r: &Rendered<'_>) -> (String, Joint, String) {
    let (file, name, policy) = (r.path.display(), r.name, r.options.policy);
    let command = &r.options.record_command;
    let ci_note = if policy.ci && policy.update != Update::No {
        "\n(The update asked for is not made: CI is set, and nothing is written on CI.)"
    } else {
        ""
    };
    let Some(entry) = r.entry else {
        // A likely typo, said before an entry of the misspelt name is recorded beside the real one.
        // A file that is not there is said to be missing where nothing was recorded in it: on CI,
        // a typo in its path read as an entry to record there.
        let near = match r.near {
            Some(n) => format!(" (it has `{n}`: a typo?)"),
            None if r.absent && r.wrote.is_none() => {
                " (there is no such file: is its path right?)".to_owned()
            }
            None => String::new(),
        };
        return match (r.wrote, policy.effective()) {
            (Some(pending), Update::Pending) => (
                format!(
                    "dhat-kit: no baseline entry `{name}` in {file}{near}; wrote it to {p} for review.",
                    p = pending.display()
                ),
                Joint::Line,
                accept(pending, r.path),
            ),
            (Some(_), _) => (
                format!("dhat-kit: recorded the new baseline entry `{name}` in {file}{near}"),
                Joint::Line,
                String::new(),
            ),
            (None, _) if policy.ci => {
                let asked = if policy.update == Update::No {
                    ""
                } else {
                    ", though an update was asked for"
                };
                (
                    format!(
                        "dhat-kit: no baseline entry `{name}` in {file}{near}, and CI is set, so \
                         none is recorded{asked} (nothing is written on CI)."
                    ),
                    Joint::Line,
                    format!(
                        "Record it on a development machine and commit {file}:\n\n    {command}\n"
                    ),
                )
            }
            (None, _) => {
                let review = if command.contains("DHAT_KIT_UPDATE=1") {
                    format!(
                        " To review it first, write {file}.new instead:\n\n    {}\n",
                        command.replacen("DHAT_KIT_UPDATE=1", "DHAT_KIT_UPDATE=new", 1)
                    )
                } else {
                    String::new()
                };
                (
                    format!("dhat-kit: no baseline entry `{name}` in {file}{near}."),
                    Joint::Space,
                    format!("Record it with:\n\n    {command}\n\nthen commit {file}.{review}"),
                )
            }
        };
    };
    if let (Some(m), Some(wrote)) = (r.lacking, r.wrote) {
        let had = format!(
            "the baseline entry `{name}` in {file} had no {} figure",
            m.key()
        );
        return match policy.effective() {
            Update::Pending => (
                format!(
                    "dhat-kit: {had}; wrote it with every figure to {p} for review.",
                    p = wrote.display()
                ),
                Joint::Line,
                accept(wrote, r.path),
            ),
            _ => (
                format!("dhat-kit: {had}; recorded it again with every figure"),
                Joint::Line,
                String::new(),
            ),
        };
    }
    if r.comparison.is_none() || r.standing == Standing::Within {
        let tolerance = r.comparison.map_or(r.options.tolerance, |c| c.tolerance);
        let within =
            format!("dhat-kit: `{name}` is within its baseline in {file} (tolerance {tolerance}%)");
        return match r.withdrawn {
            Some(pending) => (
                format!(
                    "{within}; took back the figures {} held for it from an earlier run, which \
                     accepting it would have recorded",
                    pending.display()
                ),
                Joint::Line,
                String::new(),
            ),
            None => (within, Joint::Quiet, String::new()),
        };
    }
    let recorded = entry
        .recorded_at
        .as_deref()
        .map(|at| format!(", recorded {at}"))
        .unwrap_or_default();
    let commit = entry
        .commit
        .as_deref()
        .map(|c| format!(" at {}", c.chars().take(12).collect::<String>()))
        .unwrap_or_default();
    let improved = r.standing == Standing::Improved;
    let headline = if improved {
        format!("dhat-kit: `{name}` uses less memory than its baseline in {file}{recorded}{commit}, beyond the tolerance")
    } else {
        format!("dhat-kit: `{name}` uses more memory than its baseline in {file}{recorded}{commit}")
    };
    let what_now = match (r.wrote, policy.effective()) {
        (Some(pending), Update::Pending) => {
            let p = pending.display();
            format!("Wrote the new figures to {p} for review; accept them with `mv {p} {file}`.")
        }
        (Some(_), _) => format!("Recorded the new figures in {file}; commit it."),
        (None, _) => {
            let machine = if policy.ci {
                " on a development machine"
            } else {
                ""
            };
            if improved {
                format!("Record the improvement{machine} so that it is kept:\n\n    {command}\n")
            } else {
                format!("If the growth is intended, record the new figures{machine}:\n\n    {command}\n")
            }
        }
    };
    (headline, Joint::Table, format!("{what_now}{ci_note}"))
}

/// The entry of `names` nearest to `name` ([`crate::suggest::nearest`]), when it is near enough
/// to be what was meant. Not for a test's path (`crate::module::test`, the entry of
/// `#[assert_heap(baseline)]`), which nobody types: `tests::case_2` is no typo of `tests::case_1`.
fn nearest<'n>(name: &str, names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    if name.contains("::") {
        return None;
    }
    crate::suggest::nearest(name, names)
}

/// Puts the baseline's `entry` of `name` (the baseline at `path`) back into the pending file at
/// `pending`, under its lock, where that holds other figures for it: a proposal that figures
/// within the tolerance no longer need. Whether it did; nothing is written where there is no
/// pending file or it holds no other figures (a pending file that cannot be read is left to the
/// check that reads it, as it was).
fn withdraw(pending: &Path, path: &Path, name: &str, entry: &Entry) -> Result<bool, BaselineError> {
    let held = Baseline::load(pending).ok().flatten();
    if held.is_none_or(|b| b.get(name).is_none_or(|e| e.figures == entry.figures)) {
        return Ok(false);
    }
    Baseline::update(pending, Some(path), |b| {
        // The baseline's entry now, which another run may have recorded since this check read
        // it (a later record than the `.new`'s is already in `b`, and is no stale proposal).
        let current = Baseline::load(path)
            .ok()
            .flatten()
            .and_then(|base| base.get(name).cloned())
            .unwrap_or_else(|| entry.clone());
        let stale = b.get(name).is_some_and(|e| e.figures != current.figures);
        if stale {
            b.insert(name, current);
        }
        stale
    })
}

/// Figures to record: `now`, which measure `measure`, from `from`, as the entry `name`, under
/// `policy` (for the error of an entry of another kind).
struct Recorded<'a> {
    name: &'a str,
    now: &'a BaselineFigures,
    measure: &'a Measure,
    from: &'a str,
    policy: Policy,
}

/// Records `r.now` as the entry `r.name` of the baseline at `path` under its lock, starting from
/// the file at `start_from` if `path` does not exist yet.
///
/// The check's read of the file took no lock, so another writer may have recorded an entry
/// `r.name` of another kind since. The baseline itself (`start_from` is `None`) is checked again
/// under the lock ([`same_kind`]), and such an entry is left as it is. A pending file (`.new`) is
/// a proposal rebuilt from the baseline, so its entry is replaced.
fn record(path: &Path, start_from: Option<&Path>, r: &Recorded<'_>) -> Result<(), BaselineError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let entry = Entry {
        measure: r.measure.clone(),
        ..Entry::recorded_now(*r.now, dir)
    };
    Baseline::update(path, start_from, |b| {
        if start_from.is_none() {
            same_kind(path, r.name, b.get(r.name), r.measure, r.from, r.policy)?;
        }
        b.insert(r.name, entry);
        Ok(())
    })?
}

/// What [`check_profile`] could not read.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProfileCheck {
    /// The profile.
    Profile(ProfileError),
    /// The baseline file.
    Baseline(BaselineError),
}

impl fmt::Display for ProfileCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProfileCheck::Profile(e) => e.fmt(f),
            ProfileCheck::Baseline(e) => e.fmt(f),
        }
    }
}

/// Each variant is its error, transparently: that error's message and its source (a chain that
/// named the error as the source said its message twice).
impl std::error::Error for ProfileCheck {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProfileCheck::Profile(e) => e.source(),
            ProfileCheck::Baseline(e) => e.source(),
        }
    }
}

/// `dhat-kit check PROFILE --baseline FILE`: reads the DHAT profile at `profile` (with
/// [`profile::read`](crate::profile::read)) and [`check_loaded`]s it.
///
/// # Errors
///
/// [`ProfileCheck::Profile`] if the profile cannot be read, otherwise as [`check_loaded`].
pub fn check_profile(
    profile: &Path,
    baseline: &Path,
    name: &str,
    options: &CheckOptions,
) -> Result<Verdict, ProfileCheck> {
    let loaded = crate::profile::read(profile).map_err(ProfileCheck::Profile)?;
    check_loaded(
        &loaded,
        &profile.display().to_string(),
        baseline,
        name,
        options,
    )
}

/// Checks a profile already read (`file` names it in errors): its [`BaselineFigures::from_profile`]
/// against the entry `name` of `baseline`, as [`check`] does. A new entry records what the
/// profile measures ([`Measure::of`]) when it is not bytes and blocks (an ad-hoc profile's units
/// and events).
///
/// # Errors
///
/// [`ProfileCheck::Profile`] if the profile lacks a metric named in `options.metrics` (an ad-hoc
/// profile has no peak); [`ProfileCheck::Baseline`] as [`check`], and
/// [`BaselineError::Kinds`] if the entry measures something else than the profile (bytes and
/// blocks against an ad-hoc profile's units and events, say): nothing is then written, even if
/// `options` asks for an update.
pub fn check_loaded(
    profile: &crate::profile::Profile,
    file: &str,
    baseline: &Path,
    name: &str,
    options: &CheckOptions,
) -> Result<Verdict, ProfileCheck> {
    let figures = BaselineFigures::from_profile(profile);
    if let Some(m) = options
        .metrics
        .iter()
        .find(|m| METRICS.contains(m) && figures.get(**m).is_none())
    {
        return Err(ProfileCheck::Profile(ProfileError::new(
            file,
            format!(
                "a heap profile with block lifetimes, for {} (this is {} `{}` profile)",
                m.name(),
                crate::analyze::article(&profile.mode),
                profile.mode
            ),
            "bklt",
        )));
    }
    let measure = Measure::of(profile);
    check_measured(baseline, name, &figures, &measure, file, options)
        .map_err(ProfileCheck::Baseline)
}

/// The `dhat-kit check` command that records the profile `profile`'s figures as the entry `name`
/// of the baseline `baseline` with `options` (their tolerance, if not the default, and their
/// metrics), in the flow `update` asks for (`--update=new` for [`Update::Pending`], `--update`
/// otherwise): each word quoted for a POSIX shell where it must be. Recording at another
/// tolerance than the check's would find figures beyond it within the default, and record
/// nothing.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::{check_command, CheckOptions, Update};
///
/// let mut options = CheckOptions::default();
/// options.tolerance = 1.0;
/// let command = check_command("out/dhat heap.json".as_ref(), "mb.json".as_ref(), "main", &options, Update::No);
/// assert_eq!(
///     command,
///     "dhat-kit check 'out/dhat heap.json' --baseline mb.json --name main --tolerance 1% --update"
/// );
/// ```
#[must_use]
pub fn check_command(
    profile: &Path,
    baseline: &Path,
    name: &str,
    options: &CheckOptions,
    update: Update,
) -> String {
    let mut words = vec![
        "dhat-kit".to_owned(),
        "check".to_owned(),
        profile.to_string_lossy().into_owned(),
        "--baseline".to_owned(),
        baseline.to_string_lossy().into_owned(),
        "--name".to_owned(),
        name.to_owned(),
    ];
    if options.tolerance != DEFAULT_TOLERANCE {
        words.extend(["--tolerance".to_owned(), format!("{}%", options.tolerance)]);
    }
    if !options.metrics.is_empty() {
        let names: Vec<&str> = options.metrics.iter().map(|m| m.name()).collect();
        words.extend(["--metric".to_owned(), names.join(",")]);
    }
    words.push(match update {
        Update::Pending => "--update=new".to_owned(),
        Update::No | Update::Record => "--update".to_owned(),
    });
    let words: Vec<String> = words.iter().map(|w| shell_word(w)).collect();
    words.join(" ")
}

/// A tolerance as the command takes it: `5%`, `5` or `2.5%`, in percent, 0 or more.
///
/// # Errors
///
/// [`SettingError::Tolerance`], saying what was expected.
///
/// # Examples
///
/// ```
/// use dhat_kit::baseline::parse_tolerance;
/// assert_eq!(parse_tolerance("5%"), Ok(5.0));
/// assert_eq!(parse_tolerance("2.5"), Ok(2.5));
/// assert!(parse_tolerance("-1%").is_err());
/// assert!(parse_tolerance("five").is_err());
/// ```
pub fn parse_tolerance(text: &str) -> Result<f64, SettingError> {
    let number = text.trim().strip_suffix('%').unwrap_or(text.trim()).trim();
    match number.parse::<f64>() {
        // `-0` is 0 (shown `-0%` in the table's heading otherwise).
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p.abs()),
        _ => Err(SettingError::Tolerance {
            text: text.to_owned(),
        }),
    }
}

/// The baseline file of the crate at `manifest_dir`: `DHAT_KIT_BASELINE` if set and not blank
/// (relative to `manifest_dir` unless absolute), else [`DEFAULT_FILE`] at the crate root.
///
/// # Examples
///
/// ```
/// let file = dhat_kit::baseline::locate(env!("CARGO_MANIFEST_DIR").as_ref());
/// # if std::env::var_os("DHAT_KIT_BASELINE").is_none() {
/// assert!(file.ends_with("memory-baseline.json"));
/// # }
/// ```
#[must_use]
pub fn locate(manifest_dir: &Path) -> PathBuf {
    locate_with(
        manifest_dir,
        std::env::var_os("DHAT_KIT_BASELINE").as_deref(),
    )
}

pub(crate) fn locate_with(manifest_dir: &Path, var: Option<&std::ffi::OsStr>) -> PathBuf {
    match var {
        // Blank (`DHAT_KIT_BASELINE="  "`): unset, as empty, not a file named by spaces.
        Some(v) if !v.to_string_lossy().trim().is_empty() => manifest_dir.join(v),
        _ => manifest_dir.join(DEFAULT_FILE),
    }
}

/// The runtime of `#[assert_heap(baseline)]`: checks a test's figures against its entry in its
/// crate's baseline file, with this process's [`Policy`], on the figures `metrics` names (all
/// when empty). The entry is `name`, or the test's
/// path (`test_path`, `module_path!()::name`, which begins with the crate's name: test binaries
/// whose crates are named alike have one path for their tests, as a package's lib and bin unit
/// tests, an integration test named like its package, or two packages' `tests/integ.rs` do).
/// Returns the failure message; a passing check with something to say (an improvement, a
/// recorded entry) prints it to stderr. Another test, or the same path in another test binary,
/// that checked the entry before in this process or run of the test binaries (of nextest, or of
/// `cargo test` on Linux) fails the check ([`claim`]).
pub(crate) fn check_test(entry: TestEntry<'_>, stats: &crate::Stats) -> Result<(), String> {
    let TestEntry {
        package,
        manifest_dir,
        source,
        integration,
        bin,
        test_path,
        name,
        tolerance,
        metrics,
        all_threads,
    } = entry;
    let policy = Policy::from_env().map_err(|e| e.to_string())?;
    let path = locate(Path::new(manifest_dir));
    let name = name.unwrap_or(test_path);
    // libtest names a test by its path inside its crate.
    let (krate, filter) = test_path.split_once("::").unwrap_or(("", test_path));
    let built = Built { integration, bin };
    let selector = target_selector(package, Path::new(manifest_dir), krate, source, built);
    claim(
        &path,
        name,
        &Claimant::new(test_path, package, selector.as_deref()),
    )?;
    let target = selector.map(|t| format!(" {t}")).unwrap_or_default();
    // A release build allocates otherwise than a debug one: the entry is recorded as measured.
    let profile = std::env::current_exe()
        .ok()
        .and_then(|exe| profile_selector(&exe))
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    // Relative to the crate root, as the test reads it: the same file whatever the directory.
    let file = std::env::var_os("DHAT_KIT_BASELINE")
        .filter(|v| !v.is_empty())
        .map(|v| format!(" DHAT_KIT_BASELINE={}", shell_word(&v.to_string_lossy())))
        .unwrap_or_default();
    let options = CheckOptions {
        tolerance: tolerance.unwrap_or(DEFAULT_TOLERANCE),
        metrics: metrics.to_vec(),
        policy,
        record_command: format!(
            "DHAT_KIT_UPDATE=1{file} cargo test -p {package}{profile}{target} -- --exact {filter}"
        ),
    };
    let verdict = check(&path, name, &(*stats).into(), &options).map_err(|e| e.to_string())?;
    if verdict.passed {
        if !verdict.message.is_empty() {
            eprintln!("{verdict}");
        }
        return Ok(());
    }
    // Over every thread, the peak is a moment of all of them: where two threads' peaks fall
    // together is the scheduler's doing, run to run.
    let peak_only = verdict.comparison.as_ref().is_some_and(|c| {
        c.regressions().next().is_some()
            && c.regressions()
                .all(|r| matches!(r.metric, Metric::PeakBytes | Metric::PeakBlocks))
    });
    if all_threads && metrics.is_empty() && peak_only {
        return Err(format!(
            "{}\nthe peak of threads that run at once depends on how they are scheduled, run to \
             run; to compare what they allocate only: \
             #[assert_heap(threads = \"all\", baseline, metrics = [\"total_bytes\", \
             \"total_blocks\"])]",
            verdict.message
        ));
    }
    Err(verdict.message)
}

/// A test's baseline entry, as `#[assert_heap(baseline ..)]` gives it to [`check_test`].
pub(crate) struct TestEntry<'a> {
    /// The test crate's package, and its root.
    pub(crate) package: &'a str,
    pub(crate) manifest_dir: &'a str,
    /// The file the test is in, for the command that records its entry.
    pub(crate) source: &'a str,
    /// Built in an integration test's (or a benchmark's) crate.
    pub(crate) integration: bool,
    /// The binary whose crate the test was built in (`CARGO_BIN_NAME`, for a bin's or an
    /// example's unit tests).
    pub(crate) bin: Option<&'a str>,
    /// `module_path!()::name`.
    pub(crate) test_path: &'a str,
    /// The entry's name, if not the test's path.
    pub(crate) name: Option<&'a str>,
    /// In percent.
    pub(crate) tolerance: Option<f64>,
    /// The figures compared; all the entry records when empty.
    pub(crate) metrics: &'a [Metric],
    /// Measured on every thread of the process (`threads = "all"`).
    pub(crate) all_threads: bool,
}

/// The cargo option that selects the test binary a test was built in (`--lib`, `--test NAME`,
/// `--bench NAME`, `--example NAME`, `--bin NAME`), so that its record command runs it alone and
/// not a same-named test of another binary of the package: from the file the test is in
/// (`source`, as rustc was given it: relative to the workspace root, or absolute), the package
/// at `manifest_dir`, and the test crate's name (`krate`, the first segment of `module_path!()`).
/// `None` where the file is not found under the package.
fn target_selector(
    package: &str,
    manifest_dir: &Path,
    krate: &str,
    source: &str,
    built: Built<'_>,
) -> Option<String> {
    let Built { integration, bin } = built;
    // A binary's unit tests, by cargo's word: its file alone (`src/main.rs`, or a module of it
    // beside the library's) would read as the library's.
    if let Some(bin) = bin {
        let example = Path::new(source)
            .components()
            .any(|c| c.as_os_str() == "examples");
        let kind = if example { "--example" } else { "--bin" };
        return Some(format!("{kind} {}", shell_word(bin)));
    }
    let in_package = manifest_dir
        .ancestors()
        .map(|dir| dir.join(source))
        .find(|p| p.starts_with(manifest_dir) && p.is_file())?;
    let rel = in_package.strip_prefix(manifest_dir).ok()?;
    let parts: Vec<&str> = rel.iter().filter_map(|c| c.to_str()).collect();
    let crate_of = |name: &str| name.replace('-', "_");
    // The target's name: the file or directory named after it (a target `my-test` is the crate
    // `my_test`), else the crate's name.
    let named = |part: Option<&&str>| {
        part.map(|p| p.strip_suffix(".rs").unwrap_or(p))
            .filter(|name| crate_of(name) == krate)
            .unwrap_or(krate)
            .to_string()
    };
    let kind = match (parts.first().copied(), parts.get(1).copied()) {
        (Some("tests"), _) => "--test",
        (Some("benches"), _) => "--bench",
        (Some("examples"), _) => "--example",
        (Some("src"), Some("bin")) => return Some(format!("--bin {}", named(parts.get(2)))),
        (Some("src"), _) if manifest_dir.join("src/lib.rs").is_file() => {
            return Some("--lib".into())
        }
        (Some("src"), _) if krate == crate_of(package) => return Some(format!("--bin {package}")),
        // An integration test whose file is elsewhere (a `[[test]]` with a `path`): its target
        // is named in the manifest, which cargo's `--test` matches as a pattern, each `_` of the
        // crate's name standing for a `-` or a `_` of the target's.
        _ if integration => return Some(format!("--test '{}'", krate.replace('_', "?"))),
        _ => return None,
    };
    Some(format!("{kind} {}", named(parts.get(1))))
}

/// What cargo said of the crate a test was built in: an integration test's (or a benchmark's),
/// or a binary's (its name).
#[derive(Clone, Copy, Default)]
struct Built<'a> {
    integration: bool,
    bin: Option<&'a str>,
}

/// The cargo option that builds the test binary `exe` with the profile it was built with, from
/// the directory cargo put it in (`target/[TRIPLE/]PROFILE/deps/NAME-HASH`): none for `debug`
/// (`cargo test`'s own), `--release` for `release`, `--profile NAME` for a custom profile's
/// directory; `None` for a binary outside such a directory.
fn profile_selector(exe: &Path) -> Option<String> {
    let deps = exe.parent()?;
    if deps.file_name()? != "deps" {
        return None;
    }
    match deps.parent()?.file_name()?.to_str()? {
        "debug" => None,
        "release" => Some("--release".into()),
        name => Some(format!("--profile {}", shell_word(name))),
    }
}

/// `word` as one word of a POSIX shell command: as it is when it holds no character the shell
/// treats specially, in single quotes otherwise.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@%+,=-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// A test that claims a baseline entry: its path, and the test binary it runs in, so that one
/// path in two binaries (a package's lib and bin unit tests, an integration test named like its
/// package, `tests/integ.rs` of two packages sharing one baseline) is two tests.
#[derive(Clone, PartialEq, Eq, Debug)]
struct Claimant {
    /// `module_path!()::name`.
    test: String,
    /// The test binary: this process's executable.
    binary: String,
    /// The test's package, and the cargo option that selects its binary (`--lib`, `--bin NAME`,
    /// `--test NAME`, ...), if known: how a message names the binary.
    package: String,
    target: Option<String>,
}

impl Claimant {
    /// The test `test` of the package `package`, in the binary `target` selects, run by this
    /// process.
    fn new(test: &str, package: &str, target: Option<&str>) -> Claimant {
        let binary = std::env::current_exe().unwrap_or_default();
        Claimant {
            test: test.to_owned(),
            binary: binary.to_string_lossy().into_owned(),
            package: package.to_owned(),
            target: target.map(str::to_owned),
        }
    }

    /// Whether `other` is this test again (a retry, a repeated call).
    fn is(&self, other: &Claimant) -> bool {
        self.test == other.test && self.binary == other.binary
    }

    /// How a message names its binary beside `other`'s, when they differ: the cargo option that
    /// selects it, after `-p PACKAGE` when the packages differ; the binary's file name where
    /// that does not tell them apart.
    fn binary_beside(&self, other: &Claimant) -> String {
        let selector = |c: &Claimant| {
            let target = c.target.clone().unwrap_or_default();
            if self.package == other.package {
                target
            } else {
                format!("-p {} {target}", c.package).trim_end().to_owned()
            }
        };
        let (mine, theirs) = (selector(self), selector(other));
        if mine.is_empty() || mine == theirs {
            let name = Path::new(&self.binary).file_name().unwrap_or_default();
            format!("test binary {}", name.to_string_lossy())
        } else {
            mine
        }
    }
}

/// Which test checked each baseline entry in this process, by the baseline file and the entry's
/// name.
static CHECKED: Mutex<BTreeMap<(PathBuf, String), Claimant>> = Mutex::new(BTreeMap::new());

/// Claims the entry `name` of the baseline at `path` for the test `me`: in this process, and in
/// this run of the test binaries: under cargo-nextest (which runs each test in its own process
/// and names the run in `NEXTEST_RUN_ID`), its run; under `cargo test` on Linux (which runs each
/// test binary as its child, `CARGO` naming it), that cargo process's ([`cargo_run`]). A test
/// may claim its entry again (a retry, a repeated call); another test's claim, or the same test
/// path's in another test binary, is an error naming both, and the check then neither compares
/// nor records anything.
///
/// What is never seen: two tests of one entry in different runs, in test binaries that neither
/// nextest nor cargo runs (run by hand, through a runner such as `target.<triple>.runner`, or by
/// another program), or under `cargo test` elsewhere than on Linux.
fn claim(path: &Path, name: &str, me: &Claimant) -> Result<(), String> {
    let file = same_file(path);
    {
        let mut checked = CHECKED.lock().unwrap_or_else(PoisonError::into_inner);
        match checked.entry((file.clone(), name.to_owned())) {
            MapEntry::Vacant(v) => {
                v.insert(me.clone());
            }
            MapEntry::Occupied(o) if o.get().is(me) => {}
            MapEntry::Occupied(o) => return Err(shared(path, name, o.get(), me, None)),
        }
    }
    let run = match std::env::var("NEXTEST_RUN_ID") {
        Ok(run) => Some((run.clone(), format!("in this nextest run ({run})"))),
        Err(_) => cargo_run().map(|(run, pid)| {
            (
                run,
                format!("in this `cargo test` run (cargo's process {pid})"),
            )
        }),
    };
    let Some((run, when)) = run else {
        return Ok(());
    };
    match claim_in_run(&std::env::temp_dir(), &run, &file, name, me) {
        Some(first) if !first.is(me) => Err(shared(path, name, &first, me, Some(&when))),
        _ => Ok(()),
    }
}

/// The `cargo test` run this process is a test binary of, and the id of its cargo process: on
/// Linux, where `CARGO` names the executable of this process's parent, as cargo sets it for the
/// test binaries it runs as its children. The run is named after the cargo process's id, its
/// start time and the system's boot, so that another `cargo test`, even one given the same
/// process id, is another run. `None` otherwise: a test binary run by hand or by another program
/// (a runner, a test that runs one), or elsewhere than on Linux.
fn cargo_run() -> Option<(String, u32)> {
    #[cfg(target_os = "linux")]
    {
        let cargo = Path::new(&std::env::var_os("CARGO")?).canonicalize().ok()?;
        let parent = std::os::unix::process::parent_id();
        let proc = PathBuf::from(format!("/proc/{parent}"));
        if std::fs::read_link(proc.join("exe")).ok()? != cargo {
            return None;
        }
        // After the command's name, in parentheses that may hold anything: the state (field 3),
        // ..., the start time since boot (field 22).
        let stat = std::fs::read_to_string(proc.join("stat")).ok()?;
        let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
        Some((format!("cargo-{}-{parent}-{start}", boot.trim()), parent))
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `path` with its links followed (its directory's, and its own where it is a link, whether or
/// not the file it names exists yet) and made absolute where it exists, so that every process of
/// a run, and every package that shares one baseline through links, names one file alike.
fn same_file(path: &Path) -> PathBuf {
    let resolved = crate::atomic_file::follow_links(path);
    let path = resolved.as_deref().unwrap_or(path);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    match (dir.map(Path::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(file)) => dir.join(file),
        _ => path.to_path_buf(),
    }
}

/// The message of the test `second`, which checks the entry `name` of the baseline at `path`
/// that the test `first` checked before it (in this process, or `when`: in which run). Tests in
/// two binaries are named with their binaries.
fn shared(
    path: &Path,
    name: &str,
    first: &Claimant,
    second: &Claimant,
    when: Option<&str>,
) -> String {
    let when = when.unwrap_or("in this process");
    let named = |c: &Claimant, other: &Claimant| {
        if c.binary == other.binary {
            format!("`{}`", c.test)
        } else {
            format!("`{}` ({})", c.test, c.binary_beside(other))
        }
    };
    let (one, two) = (named(first, second), named(second, first));
    let advice = if first.test == second.test {
        "They are one test path in two test binaries, whose `baseline` alone is one entry: give \
         one of them a `baseline = \"...\"` of its own"
    } else {
        "Give each test its own entry, with `baseline = \"...\"` (a name of its own) or \
         `baseline` alone (the entry is then the test's path)"
    };
    format!(
        "dhat-kit: the baseline entry `{name}` of {file} is checked by two tests: {one}, then \
         {two} {when}. Each would compare its figures with, and record them over, the other's; \
         nothing was compared or recorded for {two}.\n\
         {advice}, and record it with DHAT_KIT_UPDATE=1.",
        file = path.display(),
    )
}

/// Claims the entry `name` of the baseline `file` for `me` in the run `run` (of nextest, or of
/// `cargo test`), through a file under `tmp/dhat-kit-claims/RUN/`: the test that claimed it
/// first in the run (`me` itself if none had), or `None` when the claim cannot be made or read
/// (a run ID that is not a plain name, a temporary directory that cannot be written): then
/// nothing is detected.
///
/// A claim is written whole to a file of its own, then linked to its name, which fails if
/// another process linked it first: no process reads half a claim.
fn claim_in_run(tmp: &Path, run: &str, file: &Path, name: &str, me: &Claimant) -> Option<Claimant> {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if run.is_empty() || !run.chars().all(plain) {
        return None;
    }
    let claims = tmp.join("dhat-kit-claims");
    let dir = claims.join(run);
    let _ = std::fs::create_dir_all(&claims);
    // A link in its place (another user's, say) is not followed.
    if !claims.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return None;
    }
    match std::fs::create_dir(&dir) {
        // The run's first claim: the directories of runs over a day old go.
        Ok(()) => remove_old_runs(&claims, run),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(_) => return None,
    }
    let key = fnv1a(&[file.as_os_str().as_encoded_bytes(), b"\0", name.as_bytes()]);
    let claim = dir.join(format!("{key:016x}.json"));
    let mine = serde_json::json!({
        "file": file,
        "entry": name,
        "test": me.test,
        "binary": me.binary,
        "package": me.package,
        "target": me.target,
    })
    .to_string();
    let read = || -> Option<Claimant> {
        let text = std::fs::read_to_string(&claim).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        // Another entry whose key is the same: not a claim on this one.
        let same = value["file"] == serde_json::json!(file) && value["entry"] == name;
        let text = |field: &str| value[field].as_str().map(str::to_owned);
        same.then(|| {
            Some(Claimant {
                test: text("test")?,
                binary: text("binary")?,
                package: text("package")?,
                target: text("target"),
            })
        })?
    };
    if let Some(first) = read() {
        return Some(first);
    }
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let part = dir.join(format!("{key:016x}.{}.{n}.part", std::process::id()));
    std::fs::write(&part, mine).ok()?;
    let linked = std::fs::hard_link(&part, &claim);
    let _ = std::fs::remove_file(&part);
    match linked {
        Ok(()) => Some(me.clone()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(),
        Err(_) => None,
    }
}

/// Removes the claims of the nextest runs, other than `run`, last written to over a day ago:
/// only files named as claims are, and a run's directory only once it is empty, so that nothing
/// else is ever removed, even if `claims` is not what this module made.
fn remove_old_runs(claims: &Path, run: &str) {
    let day = std::time::Duration::from_secs(24 * 60 * 60);
    let old = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > day)
    };
    let Ok(runs) = std::fs::read_dir(claims) else {
        return;
    };
    for dir in runs.flatten() {
        // `symlink_metadata`: a link is never followed.
        let Ok(meta) = dir.path().symlink_metadata() else {
            continue;
        };
        if !meta.is_dir() || !old(&meta) || dir.file_name() == run {
            continue;
        }
        let Ok(files) = std::fs::read_dir(dir.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name();
            let is_claim = name.to_str().is_some_and(|n| {
                let (Some(key), Some(rest)) = (n.get(..16), n.get(16..)) else {
                    return false;
                };
                key.bytes().all(|b| b.is_ascii_hexdigit())
                    && (rest == ".json" || (rest.starts_with('.') && rest.ends_with(".part")))
            });
            if is_claim && file.file_type().is_ok_and(|t| t.is_file()) {
                let _ = std::fs::remove_file(file.path());
            }
        }
        let _ = std::fs::remove_dir(dir.path());
    }
}

/// The 64-bit FNV-1a hash of `parts`, one after the other: the same in every process and build.
fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in parts.iter().flat_map(|p| p.iter()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile or baseline that cannot be read says its I/O error's text once in a chain: its
    /// message says it, and its source is what lies below it.
    #[test]
    fn a_check_that_cannot_read_says_each_cause_once() {
        let dir = crate::atomic_file::fresh_dir("cause-once");
        let missing = dir.join("missing.json");
        let options = CheckOptions::default();
        let err = check_profile(&missing, &missing, "main", &options).unwrap_err();
        assert!(matches!(err, ProfileCheck::Profile(_)), "{err}");
        crate::tests::each_cause_once(&err);
        let profile = dir.join("dhat-heap.json");
        std::fs::write(
            &profile,
            r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
              "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"t","pid":1,"te":10,"tg":5,
              "pps":[],"ftbl":["[root]"]}"#,
        )
        .unwrap();
        let err = check_profile(&profile, &dir, "main", &options).unwrap_err();
        assert!(matches!(err, ProfileCheck::Baseline(_)), "{err}");
        crate::tests::each_cause_once(&err);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A baseline file that is not there is said to be missing, on CI and off it, where nothing
    /// was recorded in it: on CI, a typo in its path (`memory-baselin.json`) read as an entry to
    /// record in that file.
    #[test]
    fn a_baseline_file_that_is_not_there_is_said_to_be_missing() {
        let dir = crate::atomic_file::fresh_dir("absent");
        let file = dir.join("memory-baselin.json");
        let figures = BaselineFigures {
            peak_bytes: Some(10),
            ..BaselineFigures::default()
        };
        let missing = format!(
            "dhat-kit: no baseline entry `parse` in {} (there is no such file: is its path right?)",
            file.display()
        );
        for ci in [false, true] {
            let options = CheckOptions {
                policy: Policy {
                    update: Update::No,
                    ci,
                },
                ..CheckOptions::default()
            };
            let v = check(&file, "parse", &figures, &options).unwrap();
            assert!(!v.passed);
            assert!(v.message.starts_with(&missing), "{}", v.message);
        }
        // Recorded, it is there: nothing said of it.
        let record = CheckOptions {
            policy: Policy {
                update: Update::Record,
                ci: false,
            },
            ..CheckOptions::default()
        };
        let v = check(&file, "parse", &figures, &record).unwrap();
        assert!(!v.message.contains("no such file"), "{}", v.message);
        // A file that is there without the entry: nothing said of the file.
        let v = check(&file, "other", &figures, &CheckOptions::default()).unwrap();
        assert!(!v.message.contains("no such file"), "{}", v.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_likely_typo_names_the_entry_meant() {
        let names = ["parse-large", "main", "render", "tests::case_1"];
        let near = |name: &str| nearest(name, names.iter().copied());
        assert_eq!(near("parse-larg"), Some("parse-large"));
        assert_eq!(near("parse-lrage"), Some("parse-large"));
        assert_eq!(near("mian"), Some("main"));
        assert_eq!(near("man"), Some("main"));
        assert_eq!(near("parse"), None);
        assert_eq!(near("main"), None, "the name itself is no typo");
        assert_eq!(near("tests::case_2"), None, "a test's path is never typed");

        // In the message, before the command that would record the misspelt name.
        let dir = crate::atomic_file::fresh_dir("near");
        let file = dir.join("memory-baseline.json");
        let figures = BaselineFigures {
            peak_bytes: Some(10),
            ..BaselineFigures::default()
        };
        let record = CheckOptions {
            policy: Policy {
                update: Update::Record,
                ci: false,
            },
            ..CheckOptions::default()
        };
        assert!(
            check(&file, "parse-large", &figures, &record)
                .unwrap()
                .passed
        );
        let missing = check(&file, "parse-larg", &figures, &CheckOptions::default()).unwrap();
        assert!(
            missing.message.starts_with(&format!(
                "dhat-kit: no baseline entry `parse-larg` in {} (it has `parse-large`: a typo?).",
                file.display()
            )),
            "{}",
            missing.message
        );
        let recorded = check(&file, "parse-larg", &figures, &record).unwrap();
        assert!(
            recorded
                .message
                .ends_with("(it has `parse-large`: a typo?)"),
            "{}",
            recorded.message
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The record command built the test in debug whatever it ran in: a release test's entry,
    /// recorded as printed, held a debug build's figures.
    #[test]
    fn the_record_command_builds_the_profile_the_test_ran_in() {
        let selector = |p: &str| profile_selector(Path::new(p));
        assert_eq!(selector("/w/target/debug/deps/memory-0123abcd"), None);
        assert_eq!(
            selector("/w/target/release/deps/memory-0123abcd").as_deref(),
            Some("--release")
        );
        assert_eq!(
            selector("/w/target/x86_64-unknown-linux-gnu/release/deps/memory-0123abcd").as_deref(),
            Some("--release")
        );
        assert_eq!(
            selector("/w/target/profiling/deps/memory-0123abcd").as_deref(),
            Some("--profile profiling")
        );
        assert_eq!(selector("/usr/local/bin/memory"), None);
    }

    #[test]
    fn locating() {
        let dir = Path::new("/crate");
        assert_eq!(
            locate_with(dir, None),
            Path::new("/crate/memory-baseline.json")
        );
        assert_eq!(
            locate_with(dir, Some("perf/mem.json".as_ref())),
            Path::new("/crate/perf/mem.json")
        );
        assert_eq!(
            locate_with(dir, Some("/abs/mem.json".as_ref())),
            Path::new("/abs/mem.json")
        );
        // Blank, as empty: the default, not a file named by spaces.
        for blank in ["", "  ", "\t"] {
            assert_eq!(
                locate_with(dir, Some(blank.as_ref())),
                Path::new("/crate/memory-baseline.json"),
                "{blank:?}"
            );
        }
    }

    /// `-0` is a tolerance of 0, shown `0%` (the table's heading read `(tolerance -0%)`).
    #[test]
    fn a_tolerance_of_minus_0_is_0() {
        let t = parse_tolerance("-0").unwrap();
        assert!(t == 0.0 && t.is_sign_positive(), "{t}");
        assert_eq!(format!("{t}%"), "0%");
    }

    #[test]
    fn the_decision_is_a_table_of_policy_and_standing() {
        use Standing::*;
        let (pass, fail) = (true, false);
        let (none, base, pend) = (None, Some(Write::Baseline), Some(Write::Pending));
        // (standing, [no update, record, pending, record on CI, pending on CI])
        let table = [
            (
                Missing,
                [
                    (fail, none),
                    (pass, base),
                    (fail, pend),
                    (fail, none),
                    (fail, none),
                ],
            ),
            (
                Within,
                [
                    (pass, none),
                    (pass, none),
                    (pass, none),
                    (pass, none),
                    (pass, none),
                ],
            ),
            (
                Improved,
                [
                    (pass, none),
                    (pass, base),
                    (pass, pend),
                    (pass, none),
                    (pass, none),
                ],
            ),
            (
                Regressed,
                [
                    (fail, none),
                    (pass, base),
                    (fail, pend),
                    (fail, none),
                    (fail, none),
                ],
            ),
        ];
        let policies = [
            Policy {
                update: Update::No,
                ci: false,
            },
            Policy {
                update: Update::Record,
                ci: false,
            },
            Policy {
                update: Update::Pending,
                ci: false,
            },
            Policy {
                update: Update::Record,
                ci: true,
            },
            Policy {
                update: Update::Pending,
                ci: true,
            },
        ];
        for (standing, row) in table {
            for (policy, (passed, write)) in policies.iter().zip(row) {
                assert_eq!(
                    decide(*policy, standing),
                    Decision { passed, write },
                    "{standing:?} under {policy:?}"
                );
                assert_eq!(
                    decide_entry(*policy, standing, false),
                    Decision { passed, write },
                    "{standing:?} under {policy:?}"
                );
            }
        }
        // An entry that lacks a figure the check measures: made whole where the policy writes,
        // within the tolerance too, as an improvement is; the verdict is the table's. (It is
        // never `Missing`: there is an entry.)
        let improved = table[2].1;
        for (standing, row) in &table[1..] {
            let row = if *standing == Within { improved } else { *row };
            for (policy, (passed, write)) in policies.iter().zip(row) {
                assert_eq!(
                    decide_entry(*policy, *standing, true),
                    Decision { passed, write },
                    "an incomplete entry, {standing:?} under {policy:?}"
                );
            }
        }
    }

    /// An entry without a figure a check names said "record the entry again to add it", and
    /// recording it failed the same way: the comparison refused it before the policy was asked.
    #[test]
    fn an_entry_without_a_figure_named_is_recorded_again_where_the_policy_writes() {
        let dir = crate::atomic_file::fresh_dir("lacking");
        let file = dir.join("memory-baseline.json");
        let pending = with_suffix(&file, ".new");
        let policy = |update, ci| Policy { update, ci };
        let options = |policy| CheckOptions {
            metrics: vec![Metric::PeakBytes],
            policy,
            record_command: "DHAT_KIT_UPDATE=1 cargo test".into(),
            ..CheckOptions::default()
        };
        let only_totals = BaselineFigures {
            total_bytes: Some(100),
            ..BaselineFigures::default()
        };
        let figures = BaselineFigures {
            total_bytes: Some(120),
            peak_bytes: Some(64),
            ..BaselineFigures::default()
        };
        assert!(
            check(
                &file,
                "parse",
                &only_totals,
                &options(policy(Update::Record, false)),
            )
            .unwrap()
            .passed
        );
        let entry = || {
            Baseline::load(&file)
                .unwrap()
                .unwrap()
                .get("parse")
                .cloned()
                .unwrap()
        };
        // Nothing to write, or on CI: the error, with the command that records the entry, and
        // on CI why the update asked for was not made.
        for (p, ci) in [
            (policy(Update::No, false), ""),
            (
                policy(Update::Record, true),
                " (the update asked for is not made: CI is set, and nothing is written on CI)",
            ),
        ] {
            let e = check(&file, "parse", &figures, &options(p)).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!(
                    "dhat-kit: {}: the entry `parse` has no peak_bytes figure to compare; record \
                     the entry again to add it: DHAT_KIT_UPDATE=1 cargo test{ci}",
                    file.display()
                )
            );
            assert_eq!(entry().figures, only_totals, "{p:?}");
        }
        // For review: the pending file holds the entry with every figure, and the check fails.
        let v = check(
            &file,
            "parse",
            &figures,
            &options(policy(Update::Pending, false)),
        )
        .unwrap();
        assert!(!v.passed, "{}", v.message);
        assert_eq!(v.wrote.as_deref(), Some(pending.as_path()));
        assert!(
            v.message.starts_with(&format!(
                "dhat-kit: the baseline entry `parse` in {} had no peak_bytes figure; wrote it \
                 with every figure to {} for review.",
                file.display(),
                pending.display()
            )),
            "{}",
            v.message
        );
        let held = Baseline::load(&pending).unwrap().unwrap();
        assert_eq!(held.get("parse").unwrap().figures, figures);
        std::fs::remove_file(&pending).unwrap();
        // Recorded: the entry has every figure now, and the next check compares them.
        let v = check(
            &file,
            "parse",
            &figures,
            &options(policy(Update::Record, false)),
        )
        .unwrap();
        assert!(v.passed, "{}", v.message);
        assert_eq!(
            v.message,
            format!(
                "dhat-kit: the baseline entry `parse` in {} had no peak_bytes figure; recorded \
                 it again with every figure",
                file.display()
            )
        );
        assert_eq!(entry().figures, figures);
        let v = check(&file, "parse", &figures, &options(Policy::default())).unwrap();
        assert!(v.passed && v.comparison.is_some(), "{}", v.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// An entry without a figure no `metrics` names (a hand edit dropped it): compared on what it
    /// has, and recorded again with every figure where the policy writes (recording left it
    /// without).
    #[test]
    fn an_entry_without_a_figure_is_made_whole_where_the_policy_writes() {
        let dir = crate::atomic_file::fresh_dir("whole");
        let file = dir.join("memory-baseline.json");
        let options = |update| CheckOptions {
            policy: Policy { update, ci: false },
            ..CheckOptions::default()
        };
        let only_totals = BaselineFigures {
            total_bytes: Some(100),
            ..BaselineFigures::default()
        };
        let figures = BaselineFigures {
            total_bytes: Some(100),
            peak_bytes: Some(64),
            ..BaselineFigures::default()
        };
        assert!(
            check(&file, "parse", &only_totals, &options(Update::Record))
                .unwrap()
                .passed
        );
        let v = check(&file, "parse", &figures, &options(Update::No)).unwrap();
        assert!(v.passed && v.wrote.is_none(), "{}", v.message);
        let v = check(&file, "parse", &figures, &options(Update::Record)).unwrap();
        assert!(v.passed, "{}", v.message);
        assert_eq!(
            v.message,
            format!(
                "dhat-kit: the baseline entry `parse` in {} had no peak_bytes figure; recorded \
                 it again with every figure",
                file.display()
            )
        );
        let entry = Baseline::load(&file).unwrap().unwrap();
        assert_eq!(entry.get("parse").unwrap().figures, figures);
        // Whole, it is not written again within the tolerance.
        let v = check(&file, "parse", &figures, &options(Update::Record)).unwrap();
        assert!(v.passed && v.wrote.is_none(), "{}", v.message);
        // For review, within the tolerance: the `.new` holds it whole, and the check passes.
        assert!(
            check(&file, "parse", &only_totals, &options(Update::Record))
                .unwrap()
                .passed
        );
        std::fs::remove_file(&file).unwrap();
        assert!(
            check(&file, "parse", &only_totals, &options(Update::Record))
                .unwrap()
                .passed
        );
        let v = check(&file, "parse", &figures, &options(Update::Pending)).unwrap();
        assert!(v.passed, "{}", v.message);
        let pending = with_suffix(&file, ".new");
        assert_eq!(v.wrote.as_deref(), Some(pending.as_path()));
        let held = Baseline::load(&pending).unwrap().unwrap();
        assert_eq!(held.get("parse").unwrap().figures, figures);
        std::fs::remove_file(&pending).unwrap();
        // Beyond it: the table as for any regression (it said only that a figure was added), and
        // the entry recorded whole.
        let grown = BaselineFigures {
            total_bytes: Some(1000),
            peak_bytes: Some(64),
            ..BaselineFigures::default()
        };
        let v = check(&file, "parse", &grown, &options(Update::Record)).unwrap();
        assert!(v.passed && v.comparison.is_some(), "{}", v.message);
        assert!(
            v.message
                .starts_with("dhat-kit: `parse` uses more memory than its baseline in"),
            "{}",
            v.message
        );
        let entry = Baseline::load(&file).unwrap().unwrap();
        assert_eq!(entry.get("parse").unwrap().figures, grown);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_figure_a_baseline_does_not_record_is_an_error_not_a_missing_entry() {
        let figures = BaselineFigures {
            total_bytes: Some(10),
            ..BaselineFigures::default()
        };
        let entry = Entry {
            figures,
            ..Entry::default()
        };
        let options = |metrics| CheckOptions {
            metrics,
            ..CheckOptions::default()
        };
        let path = Path::new("memory-baseline.json");
        let err = comparison(path, "t", &entry, &figures, &options(vec![Metric::Reads]))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`reads` is not a figure a baseline records")
                && err.contains("total-bytes, total-blocks, peak-bytes, peak-blocks or end-bytes"),
            "{err}"
        );
        let c = comparison(
            path,
            "t",
            &entry,
            &figures,
            &options(vec![Metric::TotalBytes]),
        )
        .unwrap();
        assert!(c.passed());
    }

    #[test]
    fn figures_of_another_kind_are_never_compared_nor_recorded() {
        use crate::profile::Kind;
        let ad_hoc = Measure::ad_hoc();
        let copy = Measure {
            kind: Kind::Copy,
            ..Measure::default()
        };
        let entry = |measure: &Measure| Entry {
            measure: measure.clone(),
            ..Entry::default()
        };
        let path = Path::new("mb.json");
        let all = [Measure::default(), ad_hoc.clone(), copy];
        for update in [Update::No, Update::Record, Update::Pending] {
            for ci in [false, true] {
                let policy = Policy { update, ci };
                for was in &all {
                    for now in &all {
                        let decided =
                            same_kind(path, "main", Some(&entry(was)), now, "p.json", policy);
                        // An entry of bytes and blocks that does not say its kind takes a copy
                        // profile's bytes too; a copy entry takes only a copy profile's.
                        let same =
                            was == now || (*was == Measure::default() && now.unit == "bytes");
                        assert_eq!(decided.is_ok(), same, "{was:?} {now:?} {policy:?}");
                        // A new entry is recorded whatever it measures.
                        assert!(same_kind(path, "main", None, now, "p.json", policy).is_ok());
                    }
                }
            }
        }
        let refuse = |update| {
            let policy = Policy { update, ci: false };
            same_kind(
                path,
                "main",
                Some(&entry(&Measure::default())),
                &ad_hoc,
                "ad.json",
                policy,
            )
            .unwrap_err()
            .to_string()
        };
        let compared = refuse(Update::No);
        assert!(
            compared.starts_with(
                "dhat-kit: mb.json: entry `main` holds bytes and blocks; ad.json holds units and \
                 events (an ad-hoc profile): their figures cannot be compared"
            ),
            "{compared}"
        );
        let recorded = refuse(Update::Record);
        assert!(
            recorded.contains("not replaced") && recorded.contains("remove it from mb.json first"),
            "{recorded}"
        );
    }

    #[test]
    fn an_entry_of_another_kind_recorded_since_the_check_read_the_file_is_left_alone() {
        // The check read no entry; another writer then recorded ad-hoc figures under the name.
        let dir = crate::atomic_file::fresh_dir("race");
        let path = dir.join("mb.json");
        let theirs = Entry {
            measure: Measure::ad_hoc(),
            figures: BaselineFigures {
                total_bytes: Some(7),
                ..BaselineFigures::default()
            },
            ..Entry::default()
        };
        Baseline::update(&path, None, |b| {
            b.insert("main", theirs.clone());
        })
        .unwrap();
        let before = std::fs::read(&path).unwrap();
        let now = BaselineFigures {
            total_bytes: Some(4096),
            ..BaselineFigures::default()
        };
        let bytes = Measure::default();
        let recorded = Recorded {
            name: "main",
            now: &now,
            measure: &bytes,
            from: "the figures checked",
            policy: Policy {
                update: Update::Record,
                ci: false,
            },
        };
        let err = record(&path, None, &recorded).unwrap_err();
        assert!(matches!(err, BaselineError::Kinds { .. }), "{err}");
        assert!(
            err.to_string().contains("; the figures checked hold "),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), before);
        assert_eq!(Baseline::read(&path).unwrap().get("main"), Some(&theirs));
        // Figures of the same kind replace it; a pending file's entry is replaced whatever it
        // held.
        let ad_hoc = Measure::ad_hoc();
        let same = Recorded {
            measure: &ad_hoc,
            ..recorded
        };
        record(&path, None, &same).unwrap();
        let read = Baseline::read(&path).unwrap();
        assert_eq!(read.get("main").unwrap().figures, now);
        let pending = dir.join("mb.json.new");
        std::fs::copy(&path, &pending).unwrap();
        record(&pending, Some(&path), &recorded).unwrap();
        assert_eq!(
            Baseline::read(&pending)
                .unwrap()
                .get("main")
                .unwrap()
                .measure,
            bytes
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Figures of `bytes` bytes in all, and nothing else.
    fn total(bytes: u64) -> BaselineFigures {
        BaselineFigures {
            total_bytes: Some(bytes),
            ..BaselineFigures::default()
        }
    }

    /// The default options with the policy `update`, off CI.
    fn updating(update: Update) -> CheckOptions {
        CheckOptions {
            policy: Policy { update, ci: false },
            ..CheckOptions::default()
        }
    }

    #[test]
    fn a_failing_check_says_when_a_pending_file_holds_its_entry() {
        let dir = crate::atomic_file::fresh_dir("pending");
        let path = dir.join("mb.json");
        assert!(
            check(&path, "t", &total(100), &updating(Update::Record))
                .unwrap()
                .passed
        );
        // A regression written for review, then the plain run that fails on it.
        let proposed = check(&path, "t", &total(200), &updating(Update::Pending)).unwrap();
        assert!(!proposed.passed && !proposed.message.contains("waiting"));
        let failed = check(&path, "t", &total(200), &updating(Update::No)).unwrap();
        assert!(!failed.passed);
        assert!(
            failed.message.ends_with(&format!(
                "{p} holds figures for `t` waiting for review: accept them with `mv {p} {f}`.",
                p = dir.join("mb.json.new").display(),
                f = path.display()
            )),
            "{}",
            failed.message
        );
        // Figures above those the `.new` holds: accepting it would not pass, so it says to record
        // them (it said to accept the `.new`).
        let above = check(&path, "t", &total(400), &updating(Update::No)).unwrap();
        assert!(!above.passed);
        assert!(
            above.message.ends_with(&format!(
                "{p} holds figures for `t` that these exceed (recorded before them): record these \
                 for review instead (DHAT_KIT_UPDATE=new, or --update=new).",
                p = dir.join("mb.json.new").display(),
            )),
            "{}",
            above.message
        );
        // Another entry's failure, and a pass, say nothing of it.
        let other = check(&path, "u", &total(1), &updating(Update::No)).unwrap();
        assert!(!other.passed && !other.message.contains("waiting"));
        let within = check(&path, "t", &total(100), &updating(Update::No)).unwrap();
        assert!(within.passed && !within.message.contains("waiting"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A `.new` proposed for review, then an entry recorded straight into the baseline: the
    /// `.new` takes the record, so that accepting it (as a failing check then advises) keeps it.
    /// It kept the entry as it was when the `.new` began, and accepting it undid the record.
    #[test]
    fn a_record_into_the_baseline_joins_a_pending_file() {
        let dir = crate::atomic_file::fresh_dir("record-joins-pending");
        let path = dir.join("mb.json");
        let pending = dir.join("mb.json.new");
        for name in ["a", "f"] {
            assert!(
                check(&path, name, &total(113), &updating(Update::Record))
                    .unwrap()
                    .passed
            );
        }
        // `a` regresses, proposed for review; then `f` regresses and is recorded, and `g` is new.
        assert!(
            !check(&path, "a", &total(300), &updating(Update::Pending))
                .unwrap()
                .passed
        );
        for name in ["f", "g"] {
            assert!(
                check(&path, name, &total(200), &updating(Update::Record))
                    .unwrap()
                    .passed
            );
        }
        let held = Baseline::read(&pending).unwrap();
        let total_of = |name| held.get(name).and_then(|e| e.figures.total_bytes);
        assert_eq!(
            (total_of("a"), total_of("f"), total_of("g")),
            (Some(300), Some(200), Some(200))
        );
        // Accepted as advised: `f` and `g` pass as recorded.
        std::fs::rename(&pending, &path).unwrap();
        for name in ["f", "g"] {
            assert!(
                check(&path, name, &total(200), &updating(Update::No))
                    .unwrap()
                    .passed
            );
        }
        // Without a `.new`, a record makes none.
        assert!(
            check(&path, "h", &total(1), &updating(Update::Record))
                .unwrap()
                .passed
        );
        assert!(!pending.exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A regression written for review, then mended: the check under `Pending` within the
    /// tolerance takes the `.new`'s stale figures for the entry back to the baseline's, and says
    /// so (they stayed, and accepting the `.new` put them in the baseline: 3x too loose). The
    /// `.new`'s other proposals stay, and a `.new` without other figures is left as it is.
    #[test]
    fn a_pending_proposal_that_figures_within_the_tolerance_no_longer_need_is_taken_back() {
        let dir = crate::atomic_file::fresh_dir("withdraw");
        let path = dir.join("mb.json");
        let pending = dir.join("mb.json.new");
        let held = |name| {
            Baseline::read(&pending)
                .unwrap()
                .get(name)
                .map(|e| e.figures.total_bytes)
        };
        for name in ["t", "u"] {
            let recorded = check(&path, name, &total(1208), &updating(Update::Record)).unwrap();
            assert!(recorded.passed);
        }
        // Both regress, written for review.
        for name in ["t", "u"] {
            let proposed = check(&path, name, &total(3661), &updating(Update::Pending)).unwrap();
            assert!(!proposed.passed);
        }
        assert_eq!((held("t"), held("u")), (Some(Some(3661)), Some(Some(3661))));
        // `t` is mended: the `.new` holds the baseline's figures for it again, `u`'s stay.
        let mended = check(&path, "t", &total(1210), &updating(Update::Pending)).unwrap();
        assert!(mended.passed);
        assert_eq!(mended.wrote, None);
        assert_eq!((held("t"), held("u")), (Some(Some(1208)), Some(Some(3661))));
        assert_eq!(
            mended.message,
            format!(
                "dhat-kit: `t` is within its baseline in {f} (tolerance 5%); took back the \
                 figures {p} held for it from an earlier run, which accepting it would have \
                 recorded",
                f = path.display(),
                p = pending.display()
            )
        );
        // Again: nothing more to take back, nothing written, nothing said.
        let before = std::fs::read(&pending).unwrap();
        let again = check(&path, "t", &total(1210), &updating(Update::Pending)).unwrap();
        assert!(
            again.passed && again.message.is_empty(),
            "{}",
            again.message
        );
        assert_eq!(std::fs::read(&pending).unwrap(), before);
        // Without `Pending` (a plain run, or on CI) the `.new` is never written.
        for policy in [
            Policy::default(),
            Policy {
                update: Update::Pending,
                ci: true,
            },
        ] {
            let options = CheckOptions {
                policy,
                ..CheckOptions::default()
            };
            assert!(check(&path, "u", &total(1208), &options).unwrap().passed);
            assert_eq!(held("u"), Some(Some(3661)));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Another run records the entry again between the check's reading of the baseline and its
    /// taking back of a stale proposal: the `.new` gets the entry recorded since, not the one the
    /// check read (it put that older one back over the newer).
    #[test]
    fn a_proposal_is_taken_back_to_the_baselines_entry_of_now() {
        let dir = crate::atomic_file::fresh_dir("withdraw-race");
        let (path, pending) = (dir.join("mb.json"), dir.join("mb.json.new"));
        let entry = |bytes, at: &str| Entry {
            figures: total(bytes),
            recorded_at: Some(at.to_owned()),
            ..Entry::default()
        };
        let read = entry(1208, "2026-01-01T00:00:01Z");
        let write = |file: &Path, e: &Entry| {
            Baseline::update(file, None, |b| b.insert("t", e.clone())).unwrap();
        };
        write(&path, &read);
        write(&pending, &entry(3661, "2026-01-01T00:00:02Z"));
        // Recorded since the check read `read`.
        write(&path, &entry(1500, "2026-01-01T00:00:02Z"));
        assert!(withdraw(&pending, &path, "t", &read).unwrap());
        let held = Baseline::read(&pending).unwrap();
        assert_eq!(held.get("t").unwrap().figures, total(1500));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_test_claims_an_entry_of_a_file_once_in_a_run() {
        let tmp = crate::atomic_file::fresh_dir("claims");
        let (file, other_file) = (Path::new("/c/mb.json"), Path::new("/d/mb.json"));
        let claim = |run, file, name, test| {
            claim_in_run(&tmp, run, file, name, &Claimant::new(test, "p", None)).map(|c| c.test)
        };
        assert_eq!(claim("r1", file, "parse", "t::a").as_deref(), Some("t::a"));
        // Again by the same test (a retry); then by another test, of the run, of another.
        assert_eq!(claim("r1", file, "parse", "t::a").as_deref(), Some("t::a"));
        assert_eq!(claim("r1", file, "parse", "t::b").as_deref(), Some("t::a"));
        assert_eq!(claim("r2", file, "parse", "t::b").as_deref(), Some("t::b"));
        // Another entry, or the entry of another file, is another claim.
        assert_eq!(claim("r1", file, "lex", "t::b").as_deref(), Some("t::b"));
        assert_eq!(
            claim("r1", other_file, "parse", "t::b").as_deref(),
            Some("t::b")
        );
        // A run ID that is not a plain name claims nothing.
        assert_eq!(claim("../r1", file, "parse", "t::b"), None);
        assert_eq!(claim("", file, "parse", "t::b"), None);
        // A claim file of another entry under the same key is not a claim on this one.
        let key = fnv1a(&[file.as_os_str().as_encoded_bytes(), b"\0", b"tok"]);
        let collided = tmp
            .join("dhat-kit-claims/r1")
            .join(format!("{key:016x}.json"));
        let theirs = r#"{"file": "/e/mb.json", "entry": "x", "test": "t::z"}"#;
        std::fs::write(&collided, theirs).unwrap();
        assert_eq!(claim("r1", file, "tok", "t::b"), None);
        assert_eq!(std::fs::read_to_string(&collided).unwrap(), theirs);
        // Claims race: one test wins, and every claimant sees it.
        let firsts: Vec<_> = std::thread::scope(|s| {
            let claimants: Vec<_> = (0..8)
                .map(|i| {
                    let tmp = &tmp;
                    let me = Claimant::new(&format!("t::{i}"), "p", None);
                    s.spawn(move || claim_in_run(tmp, "r3", file, "parse", &me))
                })
                .collect();
            claimants.into_iter().map(|c| c.join().unwrap()).collect()
        });
        assert!(
            firsts[0].is_some() && firsts.iter().all(|f| *f == firsts[0]),
            "{firsts:?}"
        );
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn only_claims_of_runs_over_a_day_old_are_removed() {
        let tmp = std::env::temp_dir().join(format!("dhat-kit-prune-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let claims = tmp.join("dhat-kit-claims");
        let (file, name) = (Path::new("/c/mb.json"), "parse");
        for run in ["old", "mixed", "young"] {
            assert!(
                claim_in_run(&tmp, run, file, name, &Claimant::new("t::a", "p", None)).is_some()
            );
        }
        std::fs::write(claims.join("mixed/notes.txt"), "kept").unwrap();
        std::fs::write(claims.join("stray.txt"), "kept").unwrap();
        let two_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(172_800);
        for old in ["old", "mixed", "stray.txt"] {
            let f = std::fs::File::open(claims.join(old)).unwrap();
            f.set_modified(two_days_ago).unwrap();
        }
        // A new run's first claim removes the old runs' claims, and nothing else.
        assert!(claim_in_run(&tmp, "new", file, name, &Claimant::new("t::b", "p", None)).is_some());
        let left = |p: &str| claims.join(p).exists();
        assert!(!left("old") && left("young") && left("new"));
        assert!(left("mixed/notes.txt") && left("stray.txt"));
        assert_eq!(std::fs::read_dir(claims.join("mixed")).unwrap().count(), 1);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_place_of_the_claims_is_not_followed() {
        let tmp = std::env::temp_dir().join(format!("dhat-kit-link-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let elsewhere = tmp.join("elsewhere");
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::os::unix::fs::symlink(&elsewhere, tmp.join("dhat-kit-claims")).unwrap();
        let file = Path::new("/c/mb.json");
        assert_eq!(
            claim_in_run(&tmp, "r", file, "parse", &Claimant::new("t::a", "p", None)),
            None
        );
        assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
        std::fs::remove_dir_all(&tmp).unwrap();
    }

    #[test]
    fn the_first_test_of_an_entry_in_the_process_keeps_it() {
        let dir = crate::atomic_file::fresh_dir("claim");
        let file = dir.join("mb.json");
        let claim = |file, name, test| claim(file, name, &Claimant::new(test, "p", None));
        claim(&file, "parse", "t::a").unwrap();
        claim(&file, "parse", "t::a").unwrap();
        // The same file named otherwise is the same file.
        let again = dir.join(".").join("mb.json");
        let err = claim(&again, "parse", "t::b").unwrap_err();
        assert!(
            err.starts_with(&format!(
                "dhat-kit: the baseline entry `parse` of {} is checked by two tests: `t::a`, \
                 then `t::b` in this process.",
                again.display()
            )),
            "{err}"
        );
        claim(&file, "lex", "t::b").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The record command's target: the test binary the test's file belongs to.
    #[test]
    fn the_target_of_a_test_is_its_binary() {
        let root = std::env::temp_dir().join(format!("dhat-kit-target-{}", std::process::id()));
        for file in [
            "src/lib.rs",
            "src/bin/my-tool.rs",
            "tests/my-test.rs",
            "benches/b/main.rs",
        ] {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), "").unwrap();
        }
        let at = |krate: &str, file: &str| {
            let source = root.join(file);
            target_selector(
                "my-pkg",
                &root,
                krate,
                source.to_str().unwrap(),
                Built::default(),
            )
        };
        let integration = Built {
            integration: true,
            bin: None,
        };
        assert_eq!(at("my_pkg", "src/lib.rs").as_deref(), Some("--lib"));
        assert_eq!(
            at("my_tool", "src/bin/my-tool.rs").as_deref(),
            Some("--bin my-tool")
        );
        assert_eq!(
            at("my_test", "tests/my-test.rs").as_deref(),
            Some("--test my-test")
        );
        assert_eq!(at("b", "benches/b/main.rs").as_deref(), Some("--bench b"));
        assert_eq!(at("my_test", "tests/missing.rs"), None);
        // A `[[test]]` whose `path` is outside `tests/` (it had no selector: the command ran every
        // binary of the package): an integration test's crate, by cargo's word.
        std::fs::create_dir_all(root.join("memtests")).unwrap();
        std::fs::write(root.join("memtests/main.rs"), "").unwrap();
        let custom = root.join("memtests/main.rs");
        let custom = custom.to_str().unwrap();
        assert_eq!(
            target_selector("my-pkg", &root, "custom_target", custom, integration).as_deref(),
            Some("--test 'custom?target'")
        );
        assert_eq!(
            target_selector("my-pkg", &root, "custom_target", custom, Built::default()),
            None
        );
        // Relative to an ancestor of the package (the workspace root), as cargo gives rustc.
        let name = root.file_name().unwrap().to_str().unwrap();
        let relative = format!("{name}/tests/my-test.rs");
        assert_eq!(
            target_selector("my-pkg", &root, "my_test", &relative, integration).as_deref(),
            Some("--test my-test")
        );
        // The unit tests of the package's binary, in `src/main.rs` or a module of it, beside a
        // library: cargo names the binary (they read as `--lib`, and the command ran the
        // library's test of that name).
        std::fs::write(root.join("src/main.rs"), "").unwrap();
        std::fs::write(root.join("src/cli.rs"), "").unwrap();
        let of_bin = |file: &str, bin: &'static str| {
            let source = root.join(file);
            let built = Built {
                integration: false,
                bin: Some(bin),
            };
            target_selector("my-pkg", &root, "my_pkg", source.to_str().unwrap(), built)
        };
        assert_eq!(
            of_bin("src/main.rs", "my-pkg").as_deref(),
            Some("--bin my-pkg")
        );
        assert_eq!(
            of_bin("src/cli.rs", "my-pkg").as_deref(),
            Some("--bin my-pkg")
        );
        assert_eq!(at("my_pkg", "src/cli.rs").as_deref(), Some("--lib"));
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(shell_word("a/b-c.json"), "a/b-c.json");
        assert_eq!(shell_word("my file's.json"), "'my file'\\''s.json'");
    }

    #[test]
    fn policies() {
        assert_eq!(Policy::from_vars(None, None).unwrap(), Policy::default());
        assert_eq!(
            Policy::from_vars(Some("1"), None).unwrap().effective(),
            Update::Record
        );
        assert_eq!(
            Policy::from_vars(Some("1"), Some("")).unwrap().effective(),
            Update::No
        );
        for ci in ["true", "1", "yes", "woodpecker"] {
            assert!(Policy::from_vars(None, Some(ci)).unwrap().ci, "CI={ci}");
        }
        // Said to be no CI.
        for ci in ["false", "FALSE", " False ", "0"] {
            let policy = Policy::from_vars(Some("1"), Some(ci)).unwrap();
            assert_eq!(policy.effective(), Update::Record, "CI={ci:?}");
        }
        let err = Policy::from_vars(Some("yes please"), None).unwrap_err();
        assert!(
            err.to_string().contains("DHAT_KIT_UPDATE=\"yes please\""),
            "{err}"
        );
    }
}
