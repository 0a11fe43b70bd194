//! `dhat-kit`: top sites, before/after diffs, CI summaries, flame graphs and baseline checks from
//! DHAT JSON.
//!
//! A thin shell over [`dhat_kit::profile`], [`dhat_kit::analyze`] and [`dhat_kit::baseline`]. Exit status: 0 on
//! success, 1 for a failed check, 2 for bad input (one line on stderr: the file, what was
//! expected, and where).

use std::io::{IsTerminal, Write};

/// `eprintln!` that lets a closed standard error pass: a reader of it that left (`2>&1 | head`)
/// ended the command with a panic, status 101, where the rest of its work and its status did not
/// depend on what it said there.
macro_rules! eprintln {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use dhat_kit::analyze::{self, DiffOptions, Format, GroupBy, Metric, TopOptions};
use dhat_kit::baseline::{self, CheckOptions, Measure, Policy, Update};
use dhat_kit::export::To;
use dhat_kit::profile::{self, Frame, Profile};

/// Reads DHAT JSON profiles (dhat-rs heap and ad-hoc, Valgrind DHAT heap, copy and ad-hoc, and
/// dhat-kit's peak files) and prints what they say.
#[derive(Parser)]
#[command(name = "dhat-kit", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Mode, command, total, peak (t-gmax) and at-exit bytes and blocks, and run time.
    Summary {
        /// The profile (dhat-heap.json, dhat-ad-hoc.json, dhat-peak.json, dhat-sampled.json, or
        /// Valgrind's dhat.out.PID; `-` reads it from standard input).
        file: PathBuf,
        /// Prints the stable JSON shape CI scripts read (schema "dhat-kit-summary/1").
        #[arg(long)]
        json: bool,
    },
    /// The top allocation sites, with their figures, share and most informative frame.
    Top {
        /// The profile (`-` for standard input).
        file: PathBuf,
        #[command(flatten)]
        rank: Rank,
        /// Shows each row's call stack, this many frames from its site outwards.
        #[arg(long, value_name = "N", default_value_t = 0)]
        stack: usize,
        /// The output format; markdown pastes straight into a write-up.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// The regions of a dhat-kit peak or sampled profile, nested: bytes and blocks with their
    /// sub-regions', their own bytes, share, and each region's own peak (peak profiles) or live
    /// bytes at t-gmax and t-end (sampled profiles, estimates).
    Regions {
        /// The profile (dhat-peak.json or dhat-sampled.json; `-` for standard input).
        file: PathBuf,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// Totals side by side with delta and percent, then the sites that changed most (matched by
    /// symbol and source location, not address).
    Diff {
        /// The profile before the change (`-` for standard input).
        before: PathBuf,
        /// The profile after the change (`-` for standard input, if BEFORE is a file).
        after: PathBuf,
        #[command(flatten)]
        rank: Rank,
        /// The output format.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
    /// An interactive SVG flame graph of bytes (or blocks) by call stack.
    Flamegraph {
        /// The profile (`-` for standard input).
        file: PathBuf,
        /// The figure to draw.
        #[arg(long, value_enum, default_value_t = MetricArg::TotalBytes)]
        by: MetricArg,
        /// The SVG file to write (atomically; default: FILE's name with `.svg`, in the current
        /// directory, so that graphs of two profiles do not overwrite each other; `-` for
        /// stdout).
        #[arg(short, long, value_name = "SVG")]
        output: Option<PathBuf>,
        /// The title (default: the profile's file name and the figure, and for a sampled profile
        /// that its sites are estimates).
        #[arg(long)]
        title: Option<String>,
    },
    /// One self-contained HTML page (no network; opens from file://): summary, top sites
    /// (sortable, filterable, by site, function, file or crate, call stack on click), flame
    /// graph, regions, with --before the diff, and with --budget the budgets per component.
    Report {
        /// The profile (`-` for standard input).
        file: PathBuf,
        /// A profile to compare with: totals side by side and the sites that changed most (`-`
        /// for standard input, if FILE is a file).
        #[arg(long, value_name = "OLD")]
        before: Option<PathBuf>,
        /// The HTML file to write (atomically; `-` for stdout).
        #[arg(short, long, value_name = "HTML", default_value = "report.html")]
        output: PathBuf,
        /// The largest rows kept of each table, by each figure (0 for all); of the diff, the N
        /// that grew most and the N that shrank most by each figure.
        #[arg(long, value_name = "N", default_value_t = 500)]
        rows: usize,
        /// Skips the program's own allocation wrappers when finding sites (as `top --skip`;
        /// also from DHAT_KIT_SKIP).
        #[arg(long, value_name = "PATTERN")]
        skip: Vec<String>,
        /// Reads more patterns for --skip from a file, one a line.
        #[arg(long, value_name = "FILE")]
        skip_file: Vec<PathBuf>,
        /// A budget file (as `check --budget`'s): the page shows each component's figure,
        /// share, limit and status, the verdict and the warnings. The page is written whatever
        /// the verdict (exit 0); `check --budget` is the gate.
        #[arg(long, value_name = "TOML")]
        budget: Option<PathBuf>,
        /// With --budget: a component that claims no program point fails in the page's verdict,
        /// as `check --strict` has it.
        #[arg(long, requires = "budget")]
        strict: bool,
    },
    /// Writes the profile in another tool's format: pprof (gzip-compressed profile.proto, for `go
    /// tool pprof` and Pyroscope), speedscope's JSON, or folded stacks.
    Convert {
        /// The profile (`-` for standard input).
        file: PathBuf,
        /// The format.
        #[arg(long, value_enum)]
        to: ToArg,
        /// The file to write (atomically; default: FILE's name with the format's extension, in
        /// the current directory; `-` for stdout).
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
        /// The figure of folded stacks. pprof and speedscope ignore it and carry each figure the
        /// profile has: total bytes and blocks; with block lifetimes, peak and end bytes and
        /// blocks; with block accesses, reads and writes (max-bytes is left out).
        #[arg(long, value_enum, default_value_t = MetricArg::TotalBytes)]
        by: MetricArg,
    },
    /// Checks a profile's totals against an entry of a baseline file (`--baseline`), and its
    /// components against a budget file (`--budget`): exit 0 within, 1 with a table of what
    /// regressed or is over, 2 on bad input. Improvements beyond the tolerance are reported too.
    #[command(group(
        clap::ArgGroup::new("against")
            .required(true)
            .multiple(true)
            .args(["baseline", "budget"])
    ))]
    Check {
        /// The profile (`-` for standard input).
        profile: PathBuf,
        /// The baseline file (dhat-kit's format, or one object with `total_allocations_bytes`,
        /// `peak_memory_bytes`, `allocation_count`).
        #[arg(long, value_name = "FILE")]
        baseline: Option<PathBuf>,
        /// A budget file (TOML, `[[component]]` with name, match, max and metric): prints each
        /// component's figure, share, limit and status, and "everything else". A program point
        /// belongs to the first component whose match any frame of its stack satisfies, among the
        /// components of one metric.
        #[arg(long, value_name = "TOML")]
        budget: Option<PathBuf>,
        /// With --budget: lists each component's sites and the frame that claimed each (in the
        /// table format).
        #[arg(long, requires = "budget")]
        explain: bool,
        /// With --budget: a component that claims no program point (its match holds on none,
        /// or earlier components claimed them all) fails the check, as one over its limit does,
        /// rather than a warning. For CI, where a typo in a match must not pass.
        #[arg(long, requires = "budget")]
        strict: bool,
        /// With --baseline: the entry to compare with.
        #[arg(long, requires = "baseline", default_value = baseline::DEFAULT_NAME)]
        name: String,
        /// With --baseline: the growth allowed, in percent.
        #[arg(long, requires = "baseline", value_name = "PERCENT", default_value = "5%", value_parser = baseline::parse_tolerance)]
        tolerance: f64,
        /// With --baseline: the figures to compare: total-bytes, total-blocks, peak-bytes,
        /// peak-blocks, end-bytes (repeat, or separate with commas; default: every figure both
        /// sides have).
        #[arg(long = "metric", requires = "baseline", value_name = "METRIC", value_delimiter = ',', value_parser = baseline::parse_metric)]
        metrics: Vec<Metric>,
        /// With --baseline: records the profile's figures as the entry when it is new or
        /// outside the tolerance (under a lock, atomically); `--update=new` writes them to
        /// BASELINE.new for review instead. Nothing is written when `CI` is set.
        #[arg(
            long,
            requires = "baseline",
            value_name = "new",
            num_args = 0..=1,
            require_equals = true,
            default_missing_value = "record"
        )]
        update: Option<UpdateArg>,
        /// The output: an aligned text table, GitHub-flavoured Markdown (for a pull request's
        /// comment), or JSON (schema `dhat-kit-check/1`). The exit status is the same in all three.
        #[arg(long, value_enum, default_value_t = FormatArg::Table)]
        format: FormatArg,
    },
}

/// Ranking options shared by `top` and `diff`.
#[derive(Args)]
struct Rank {
    /// How many rows (0 for all).
    #[arg(short = 'n', long = "lines", default_value_t = 10)]
    n: usize,
    /// The figure to rank by.
    #[arg(long, value_enum, default_value_t = MetricArg::TotalBytes)]
    by: MetricArg,
    /// How to group program points into rows: by site (function, file and line), function,
    /// source file, or crate.
    #[arg(long, value_enum, default_value_t = GroupByArg::Site)]
    group_by: GroupByArg,
    /// Skips the program's own allocation wrappers when finding sites, as `malloc` is skipped: a
    /// function name, `*` matching any run of characters (repeatable; also from the environment
    /// variable DHAT_KIT_SKIP, patterns separated by `;`).
    #[arg(long, value_name = "PATTERN")]
    skip: Vec<String>,
    /// Reads more patterns for --skip from a file, one a line (`#` starts a comment line).
    #[arg(long, value_name = "FILE")]
    skip_file: Vec<PathBuf>,
}

impl Rank {
    /// The patterns to skip: the environment's, then the files', then the command line's.
    fn skip(&self) -> Result<analyze::Skip, Failure> {
        skip_list(&self.skip, &self.skip_file)
    }
}

/// The patterns to skip: `DHAT_KIT_SKIP`'s, then the files', then the command line's.
fn skip_list(patterns: &[String], files: &[PathBuf]) -> Result<analyze::Skip, Failure> {
    let mut skip = analyze::Skip::from_env();
    for file in files {
        // `-` stands for standard input where a profile is read only.
        if file.as_os_str() == "-" {
            return Err(Failure::BadInput(
                "dhat-kit: --skip-file -: standard input is read only for a profile; name the \
                 file (--skip-file ./- for a file named `-`)"
                    .to_owned(),
            ));
        }
        skip.add_file(file).map_err(|e| {
            Failure::BadInput(format!(
                "dhat-kit: {}: expected a readable file of --skip patterns ({e})",
                file.display()
            ))
        })?;
    }
    for p in patterns {
        skip.add(p.as_str());
    }
    Ok(skip)
}

/// Warns, on stderr, of each `--skip` pattern of the command line that matches no frame of any
/// of `profiles`: a mistyped pattern would otherwise change nothing, silently. (Patterns from
/// `DHAT_KIT_SKIP` and `--skip-file` are lists shared between programs, so not each is expected
/// to match.)
fn warn_unmatched_skips(patterns: &[String], profiles: &[(&Profile, &Path)]) {
    for pattern in patterns {
        let skip = analyze::Skip::new().with(pattern.as_str());
        let matched = profiles
            .iter()
            .any(|(p, _)| p.ftbl.iter().any(|raw| skip.matches(&Frame::parse(raw))));
        if !matched {
            let files: Vec<String> = profiles
                .iter()
                .map(|(_, f)| named(f).display().to_string())
                .collect();
            eprintln!(
                "dhat-kit: warning: --skip {pattern:?} matches no frame of {}",
                files.join(" or ")
            );
        }
    }
}

/// The command's names of the library's enums: clap's derive stays out of the library's types.
macro_rules! arg_enum {
    ($(#[$doc:meta])* $arg:ident => $lib:ident { $($(#[$vdoc:meta])* $variant:ident,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
        enum $arg {
            $($(#[$vdoc])* $variant,)+
        }

        impl From<$arg> for $lib {
            fn from(a: $arg) -> $lib {
                match a {
                    $($arg::$variant => $lib::$variant,)+
                }
            }
        }
    };
}

arg_enum! {
    /// A figure (`analyze::Metric`).
    MetricArg => Metric {
        /// Bytes (or units: `total-units`) allocated in all.
        #[value(alias = "total-units")]
        TotalBytes,
        /// Blocks (or events: `total-events`) allocated in all.
        #[value(alias = "total-events")]
        TotalBlocks,
        /// Bytes live at the global peak, t-gmax (heap profiles).
        PeakBytes,
        /// Blocks live at the global peak (heap profiles).
        PeakBlocks,
        /// Bytes live at the end (heap profiles).
        EndBytes,
        /// Blocks live at the end (heap profiles).
        EndBlocks,
        /// The most bytes live at once at a point (heap profiles); a row of several points adds
        /// theirs up: an upper bound, not a peak (their maxima may fall at different moments).
        MaxBytes,
        /// Bytes read from the blocks (Valgrind heap profiles).
        Reads,
        /// Bytes written to the blocks (Valgrind heap profiles).
        Writes,
    }
}

arg_enum! {
    /// How program points make rows (`analyze::GroupBy`).
    GroupByArg => GroupBy {
        /// The code location of the site: function, file and line.
        Site,
        /// The function of the site.
        Function,
        /// The source file (or the binary) of the site.
        File,
        /// The crate (for C and C++: the binary or shared object).
        Crate,
    }
}

arg_enum! {
    /// An output format of `top` and `diff` (`analyze::Format`).
    FormatArg => Format {
        /// An aligned text table.
        Table,
        /// A GitHub-flavoured Markdown table.
        Markdown,
        /// JSON.
        Json,
    }
}

arg_enum! {
    /// A format of `convert` (`export::To`).
    ToArg => To {
        /// pprof's profile.proto, gzip-compressed.
        Pprof,
        /// speedscope's JSON file format.
        Speedscope,
        /// Folded stacks.
        Folded,
    }
}

/// What `check --update[=new]` writes.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum UpdateArg {
    /// Into the baseline file (`--update`).
    Record,
    /// Into BASELINE.new, for review (`--update=new`).
    New,
}

/// Why the command stopped: bad input (status 2) or a failed check (status 1).
enum Failure {
    BadInput(String),
    Failed(String),
}

impl From<profile::ProfileError> for Failure {
    fn from(e: profile::ProfileError) -> Self {
        Failure::BadInput(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Failed(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(1)
        }
        Err(Failure::BadInput(msg)) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Summary { file, json } => {
            let p = load(&file)?;
            let s = analyze::summary(&p);
            exit_without_freeing(p);
            for w in s.warnings() {
                eprintln!("dhat-kit: warning: {}: {w}", named(&file).display());
            }
            if json {
                let text = serde_json::to_string_pretty(&s).map_err(|e| bad(&file, e))?;
                print(&format!("{text}\n"))
            } else {
                print(&format!("{s}\n"))
            }
        }
        Command::Top {
            file,
            rank,
            stack,
            format,
        } => {
            let skip = rank.skip()?;
            let p = load(&file)?;
            warn_unmatched_skips(&rank.skip, &[(&p, &file)]);
            let mut opts = TopOptions::default();
            (opts.n, opts.by, opts.group_by) = (rank.n, rank.by.into(), rank.group_by.into());
            (opts.stack, opts.skip) = (stack, skip);
            let top = analyze::top(&p, &opts).map_err(|e| bad(&file, e))?;
            let printed = print(&top.render(&p, format.into()));
            exit_without_freeing(p);
            printed
        }
        Command::Regions { file, format } => {
            let p = load(&file)?;
            let regions = analyze::regions(&p).map_err(|e| bad(&file, e))?;
            exit_without_freeing(p);
            print(&regions.render(format.into()))
        }
        Command::Diff {
            before,
            after,
            rank,
            format,
        } => {
            let skip = rank.skip()?;
            let (b, a) = (load(&before)?, load(&after)?);
            warn_unmatched_skips(&rank.skip, &[(&b, &before), (&a, &after)]);
            let mut opts = DiffOptions::default();
            (opts.n, opts.by, opts.group_by) = (rank.n, rank.by.into(), rank.group_by.into());
            opts.skip = skip;
            // A figure one of the two profiles lacks is that file's fault: name it.
            Metric::from(rank.by)
                .check(&b)
                .map_err(|e| bad(&before, e))?;
            Metric::from(rank.by)
                .check(&a)
                .map_err(|e| bad(&after, e))?;
            let d = analyze::diff(&b, &a, &opts).map_err(|e| bad_pair(&before, &after, e))?;
            print(&d.render(&a, format.into()))
        }
        Command::Flamegraph {
            file,
            by,
            output,
            title,
        } => {
            let by = Metric::from(by);
            let p = load(&file)?;
            let name = file_name(&file);
            let output = output.unwrap_or_else(|| named_after(&file, "svg"));
            not_an_input(&output, &[(&file, "the profile")])?;
            let title = title.unwrap_or_else(|| analyze::flame_title(&name, &by.name_in(&p), &p));
            let mut svg = Vec::new();
            analyze::flamegraph_svg(&p, by, &title, &mut svg).map_err(|e| bad(&file, e))?;
            if write_output(&output, &svg)? {
                eprintln!("dhat-kit: wrote {}", output.display());
            }
            Ok(())
        }
        Command::Report {
            file,
            before,
            output,
            rows,
            skip,
            skip_file,
            budget,
            strict,
        } => {
            let mut inputs = vec![(file.as_path(), "the profile")];
            inputs.extend(budget.as_deref().map(|b| (b, "the budget file")));
            inputs.extend(before.as_deref().map(|b| (b, "the profile")));
            inputs.extend(skip_file.iter().map(|f| (f.as_path(), "the skip file")));
            not_an_input(&output, &inputs)?;
            let patterns = skip;
            let skip = skip_list(&patterns, &skip_file)?;
            let p = load(&file)?;
            let b = before.as_deref().map(load).transpose()?;
            let mut read = vec![(&p, file.as_path())];
            read.extend(b.as_ref().zip(before.as_deref()));
            warn_unmatched_skips(&patterns, &read);
            // The page says it too, where its regions would be.
            if let Some(e) = dhat_kit::report::regions_error(&p) {
                eprintln!(
                    "dhat-kit: warning: {}: the report has no regions table: {e}",
                    named(&file).display()
                );
            }
            let budget = budget
                .as_deref()
                .map(|b| budget_report(b, &p, strict))
                .transpose()?;
            // As `check` says them: a CI log shows a typo in a `match` without opening the page.
            for w in budget.iter().flat_map(|r| r.warnings()) {
                eprintln!("{w}");
            }
            let mut opts = dhat_kit::report::ReportOptions::default();
            (opts.rows, opts.diff_rows, opts.skip, opts.budget) = (rows, rows, skip, budget);
            // Two files of one name (`dhat-sampled.json` from two runs) named so as to be told
            // apart.
            let (after_name, before_name) = match before.as_deref() {
                Some(old) => {
                    let (a, b) = dhat_kit::report::names(named(&file), named(old));
                    (a, Some(b))
                }
                None => (file_name(&file), None),
            };
            let html = dhat_kit::report::html(
                &p,
                &after_name,
                b.as_ref().zip(before_name.as_deref()),
                &opts,
            )
            .map_err(|e| match &before {
                // What the two profiles are, compared: name both.
                Some(before) => bad_pair(before, &file, e),
                None => bad(&file, e),
            })?;
            if write_output(&output, html.as_bytes())? {
                let kib = html.len() as f64 / 1024.0;
                // Compared as rounded, as the tables' sizes are: 1,048,560 bytes is 1.0 MiB, not
                // 1024.0 KiB.
                let size = if kib < 1023.95 {
                    format!("{kib:.1} KiB")
                } else {
                    format!("{:.1} MiB", kib / 1024.0)
                };
                eprintln!("dhat-kit: wrote {} ({size})", output.display());
            }
            exit_without_freeing(p);
            Ok(())
        }
        Command::Convert {
            file,
            to,
            output,
            by,
        } => {
            let to = To::from(to);
            // pprof's gzip-compressed bytes would only garble a terminal (as gzip refuses to).
            if to == To::Pprof
                && output.as_ref().is_some_and(|o| o.as_os_str() == "-")
                && std::io::stdout().is_terminal()
            {
                return Err(Failure::BadInput(
                    "dhat-kit: stdout: expected a file or a pipe for pprof's compressed output,                      not a terminal; give -o FILE or pipe it"
                        .to_owned(),
                ));
            }
            let p = load(&file)?;
            let mut options = dhat_kit::export::Options::new(to);
            options.by = by.into();
            let name = file_name(&file);
            let output = output.unwrap_or_else(|| named_after(&file, to.extension()));
            // `-o -` is standard output, which no input can be.
            if output.as_os_str() != "-" {
                not_an_input(&output, &[(&file, "the profile")])?;
            }
            let written = if output.as_os_str() == "-" {
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                dhat_kit::export::write(&p, &name, &options, &mut out)
                    .and_then(|()| out.flush().map_err(Into::into))
            } else {
                dhat_kit::export::write_file(&p, &name, &options, &output)
            };
            match written {
                Err(
                    e @ (dhat_kit::export::Error::Profile(_)
                    | dhat_kit::export::Error::Range { .. }),
                ) => return Err(bad(&file, e)),
                Err(dhat_kit::export::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::BrokenPipe => {}
                // As every command says it of standard output.
                Err(e) if output.as_os_str() == "-" => {
                    return Err(Failure::BadInput(format!(
                        "dhat-kit: cannot write to stdout: {e}"
                    )))
                }
                Err(e) => {
                    return Err(Failure::BadInput(format!(
                        "dhat-kit: {}: expected a writable file ({e})",
                        output.display()
                    )))
                }
                Ok(()) if output.as_os_str() != "-" => {
                    eprintln!("dhat-kit: wrote {}", output.display())
                }
                Ok(()) => {}
            }
            exit_without_freeing(p);
            Ok(())
        }
        Command::Check {
            profile,
            baseline,
            budget,
            explain,
            strict,
            name,
            tolerance,
            metrics,
            update,
            format,
        } => {
            if explain && format == FormatArg::Json {
                return Err(Failure::BadInput(
                    "dhat-kit: --explain lists sites as text, in the table and Markdown formats; \
                     leave out --format json or --explain"
                        .to_owned(),
                ));
            }
            // `-` stands for standard input where a profile is read; a baseline (read, then
            // written in place) or a budget file named so would be a file of that name, made
            // or looked for in the working directory.
            for (flag, file) in [("--baseline", &baseline), ("--budget", &budget)] {
                if file.as_deref().is_some_and(|f| f.as_os_str() == "-") {
                    return Err(Failure::BadInput(format!(
                        "dhat-kit: {flag} -: standard input is read only for a profile; name \
                         the file ({flag} ./- for a file named `-`)"
                    )));
                }
            }
            let p = load(&profile)?;
            let report = budget
                .as_deref()
                .map(|file| budget_report(file, &p, strict))
                .transpose()?;
            let verdict = match &baseline {
                Some(file) => {
                    let mut options = CheckOptions::default();
                    (options.tolerance, options.metrics) = (tolerance, metrics);
                    options.policy = Policy::for_command(match update {
                        None => Update::No,
                        Some(UpdateArg::Record) => Update::Record,
                        Some(UpdateArg::New) => Update::Pending,
                    });
                    // The command to record with, in the flow asked for: for review with
                    // `--update=new` (it advised `--update`, which writes the baseline), at this
                    // check's tolerance and on its figures.
                    options.record_command = baseline::check_command(
                        &profile,
                        file,
                        &name,
                        &options,
                        options.policy.update,
                    );
                    Some(
                        baseline::check_loaded(
                            &p,
                            &named(&profile).display().to_string(),
                            file,
                            &name,
                            &options,
                        )
                        .map_err(|e| Failure::BadInput(e.to_string()))?,
                    )
                }
                None => None,
            };
            if let Some(r) = &report {
                for w in r.warnings() {
                    eprintln!("{w}");
                }
            }
            let checked = Checked {
                profile: &profile,
                measure: Measure::of(&p),
                report: report.as_ref(),
                verdict: verdict.as_ref(),
            };
            print(&checked.render(Format::from(format), explain)?)?;
            checked.outcome()
        }
    }
}

/// `text` as a Markdown code span, shown as it is: fenced by one backtick more than its longest
/// run of them, with a space inside where it starts or ends with one.
fn code_span(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

/// The budgets of `file` checked against `profile` (strict with `--strict`); a bad file is bad
/// input.
fn budget_report(
    file: &Path,
    profile: &Profile,
    strict: bool,
) -> Result<analyze::budget::BudgetReport, Failure> {
    analyze::budget::Budgets::read(file)
        .and_then(|b| b.check(profile))
        .map(|r| if strict { r.strict() } else { r })
        .map_err(|e| Failure::BadInput(e.to_string()))
}

/// What `check` found: the budget report and the baseline verdict, each if asked for.
struct Checked<'a> {
    profile: &'a Path,
    /// What the profile's figures measure, which names the rows of a table within the tolerance.
    measure: Measure,
    /// The budget report (strict with `--strict`).
    report: Option<&'a analyze::budget::BudgetReport>,
    verdict: Option<&'a baseline::Verdict>,
}

impl Checked<'_> {
    /// The output on stdout. As a table: the budget table (and each component's sites with
    /// `--explain`), then the baseline's table, or its message, which on failure goes to stderr
    /// instead ([`outcome`](Checked::outcome)). In Markdown: both, with the failure, for a pull
    /// request's comment. In JSON: one object, `dhat-kit-check/1`.
    fn render(&self, format: Format, explain: bool) -> Result<String, Failure> {
        let mut out = String::new();
        match format {
            Format::Json => {
                /// The budget report in JSON, with its verdict and warnings.
                #[derive(serde::Serialize)]
                struct BudgetJson<'r> {
                    passed: bool,
                    #[serde(flatten)]
                    report: &'r analyze::budget::BudgetReport,
                    warnings: Vec<String>,
                }
                /// `check --format json`, its fields in this order.
                #[derive(serde::Serialize)]
                struct CheckJson<'r> {
                    schema: &'static str,
                    profile: String,
                    passed: bool,
                    budget: Option<BudgetJson<'r>>,
                    baseline: Option<&'r baseline::Verdict>,
                }
                let json = CheckJson {
                    schema: "dhat-kit-check/1",
                    profile: named(self.profile).display().to_string(),
                    passed: self.passed(),
                    budget: self.report.map(|r| BudgetJson {
                        passed: r.passed(),
                        report: r,
                        warnings: r.warnings(),
                    }),
                    baseline: self.verdict,
                };
                let text = serde_json::to_string_pretty(&json)
                    .map_err(|e| Failure::BadInput(format!("dhat-kit: cannot write JSON: {e}")))?;
                out.push_str(&text);
                out.push('\n');
            }
            Format::Markdown => {
                // The overall verdict first, where a reader of the comment looks.
                let against: Vec<String> = self
                    .report
                    .map(|r| code_span(&r.file))
                    .into_iter()
                    .chain(
                        self.verdict
                            .map(|v| code_span(&v.file().display().to_string())),
                    )
                    .collect();
                out.push_str(&format!(
                    "**dhat-kit check {}**: {} against {}\n\n",
                    if self.passed() { "passed" } else { "failed" },
                    code_span(&named(self.profile).display().to_string()),
                    against.join(" and ")
                ));
                if let Some(r) = self.report {
                    out.push_str(&r.render_markdown());
                    if explain {
                        out.push('\n');
                        out.push_str(&r.explain_markdown());
                    }
                }
                if let Some(v) = self.verdict {
                    if self.report.is_some() {
                        out.push('\n');
                    }
                    out.push_str(&v.to_markdown());
                }
            }
            // The table (`Format` is non-exhaustive: a later format is a table until it has
            // its own output here).
            _ => {
                if let Some(r) = self.report {
                    out.push_str(&r.render());
                    if explain {
                        out.push_str(&format!("\n{}", r.explain()));
                    }
                }
                match self.verdict {
                    Some(v) if v.passed => match (&v.comparison, v.message.is_empty()) {
                        (Some(c), true) => {
                            out.push_str(&format!("{}\n", c.measured(&self.measure)))
                        }
                        _ => out.push_str(&format!("{}\n", v.message)),
                    },
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// Whether every check asked for passed.
    fn passed(&self) -> bool {
        self.report.is_none_or(|r| r.passed()) && self.verdict.is_none_or(|v| v.passed)
    }

    /// The exit: the budget's failure line and a failed baseline check's message (the whole of
    /// it, with the table and what to do, when the table was not on stdout), each that failed.
    fn outcome(&self) -> Result<(), Failure> {
        let failures: Vec<String> = self
            .report
            .and_then(analyze::budget::BudgetReport::failure)
            .into_iter()
            .chain(
                self.verdict
                    .filter(|v| !v.passed)
                    .map(|v| v.message.clone()),
            )
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(Failure::Failed(failures.join("\n")))
        }
    }
}

/// Leaves a large profile's memory to the operating system, which takes it back at exit at once,
/// instead of freeing its millions of blocks one by one (a tenth of the run time on 500 MB).
fn exit_without_freeing(profile: Profile) {
    std::mem::forget(profile);
}

/// Writes `bytes` to `output`, atomically, or to standard output for `-` (a reader that stops
/// reading, as `head`, ends it quietly): whether a file was written.
fn write_output(output: &Path, bytes: &[u8]) -> Result<bool, Failure> {
    if output.as_os_str() == "-" {
        let mut out = std::io::stdout().lock();
        return match out.write_all(bytes).and_then(|()| out.flush()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::BadInput(
                format!("dhat-kit: cannot write to stdout: {e}"),
            )),
            _ => Ok(false),
        };
    }
    match dhat_kit::write_atomically(output, bytes) {
        // A pipe whose reader left (`-o /dev/stdout | head`): as for `-o -`, nothing to say.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(Failure::BadInput(format!(
            "dhat-kit: {}: expected a writable file ({e})",
            output.display()
        ))),
        Ok(()) => Ok(true),
    }
}

/// Refuses an output that is one of the inputs (`-o` naming it, by a typo in a script), each named
/// with what it is (`the profile`, `the budget file`): writing it would replace the profile, a
/// baseline's `--before` perhaps, before anything could tell. The same file by another path or a
/// hard link is the same file.
fn not_an_input(output: &Path, inputs: &[(&Path, &str)]) -> Result<(), Failure> {
    // `-o -` is standard output, which no input can be.
    if output.as_os_str() == "-" {
        return Ok(());
    }
    let Ok(out) = std::fs::metadata(output) else {
        // Not there yet: no input can be it.
        return Ok(());
    };
    // Standard input (`-`) is no file here, whatever a file named `-` beside it holds.
    let same = |input: &Path| {
        input.as_os_str() != STDIN
            && std::fs::metadata(input).is_ok_and(|m| {
                #[cfg(unix)]
                {
                    use std::os::unix::fs::MetadataExt;
                    (m.dev(), m.ino()) == (out.dev(), out.ino())
                }
                #[cfg(not(unix))]
                {
                    let _ = m;
                    std::fs::canonicalize(input).ok() == std::fs::canonicalize(output).ok()
                }
            })
    };
    match inputs.iter().find(|(i, _)| same(i)) {
        Some((input, what)) => Err(Failure::BadInput(format!(
            "dhat-kit: {}: expected an output other than {what} {} (it would be overwritten); \
             name another file with -o",
            output.display(),
            input.display()
        ))),
        None => Ok(()),
    }
}

fn bad(file: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::BadInput(format!("dhat-kit: {}: {e}", named(file).display()))
}

/// Bad input that is the two profiles of a comparison together (a diff, a report's `--before`).
fn bad_pair(before: &Path, after: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::BadInput(format!(
        "dhat-kit: {} and {}: {e}",
        named(before).display(),
        named(after).display()
    ))
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::BadInput(format!(
            "dhat-kit: cannot write to stdout: {e}"
        ))),
        _ => Ok(()),
    }
}

/// The file name of `file` (its whole path if it has none), as titles use it.
fn file_name(file: &Path) -> String {
    let file = named(file);
    file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The default output of a command over the profile `file`: its file name, `.json` taken off,
/// with `extension`, in the current directory.
fn named_after(file: &Path, extension: &str) -> PathBuf {
    // The name as it is, bytes that are not UTF-8 included: `bad\xff.json` is `bad\xff.svg`.
    let file = named(file);
    let name = Path::new(file.file_name().unwrap_or(file.as_os_str()));
    let stem = match name.extension() {
        Some(e) if e == "json" => name.file_stem().unwrap_or(name.as_os_str()),
        _ => name.as_os_str(),
    };
    let mut out = stem.to_os_string();
    out.push(".");
    out.push(extension);
    PathBuf::from(out)
}

/// The argument that names standard input as a profile.
const STDIN: &str = "-";

/// How the command names the profile `file` in messages, titles and default outputs: `stdin` for
/// `-`, the path otherwise (`./-` for a file named `-`).
fn named(file: &Path) -> &Path {
    if file.as_os_str() == STDIN {
        Path::new("stdin")
    } else {
        file
    }
}

/// Reads a profile, with a progress bar on stderr for files over 50 MB when stderr is a terminal;
/// `-` reads standard input, once (a second `-` of the same command is refused).
fn load(file: &Path) -> Result<Profile, Failure> {
    if file.as_os_str() == STDIN {
        static READ: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        if READ.swap(true, std::sync::atomic::Ordering::Relaxed) {
            return Err(Failure::BadInput(
                "dhat-kit: stdin: expected one profile read from standard input; give the \
                 other as a file"
                    .to_owned(),
            ));
        }
        return Ok(profile::from_reader(std::io::stdin().lock(), "stdin")?);
    }
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > 50_000_000 && std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(size);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message(format!("reading {}", file.display()));
        let result = profile::read_with_progress(file, |n| bar.set_position(n));
        bar.finish_and_clear();
        Ok(result?)
    } else {
        Ok(profile::read(file)?)
    }
}
