//! The summary of a profile: what DHAT prints at exit, plus mode, command and run time.

use std::fmt;

use crate::profile::{Kind, Profile};
use crate::units::{Bytes, Thousands};

/// A profile's summary. Its JSON form (`dhat-kit summary --json`) is stable: the fields below,
/// snake_case, with `null` for what the profile does not have (peak and end figures of copy and
/// ad-hoc profiles; reads and writes outside Valgrind's heap mode; run time when the time unit is
/// not microseconds). `schema` is `"dhat-kit-summary/1"` and changes only if a field's meaning does.
///
/// # Examples
///
/// ```
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"te":2000000,"tg":5,
///   "pps":[{"tb":100,"tbk":2,"tl":3,"mb":64,"mbk":1,"gb":64,"gbk":1,"eb":0,"ebk":0,"fs":[1]}],
///   "ftbl":["[root]","0x1: app::main (src/main.rs:1:1)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let s = dhat_kit::analyze::summary(&p);
/// assert_eq!((s.total_bytes, s.peak_bytes, s.run_time_seconds), (100, Some(64), Some(2.0)));
/// # Ok::<(), dhat_kit::profile::ProfileError>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// Always `"dhat-kit-summary/1"`.
    pub schema: &'static str,
    /// The file's `mode`.
    pub mode: String,
    /// What it counts: `heap`, `copy` or `ad-hoc`.
    pub kind: Kind,
    /// The profiled command line.
    pub command: String,
    /// The profiled process's id.
    pub pid: u64,
    /// The unit of the byte figures: `bytes`, or `units` for ad-hoc profiles.
    pub unit: String,
    /// The unit of the block figures: `blocks`, or `events`.
    pub blocks_unit: String,
    /// Bytes (or units) in all.
    pub total_bytes: u64,
    /// Blocks (or events) in all.
    pub total_blocks: u64,
    /// Bytes live at the global peak (t-gmax).
    pub peak_bytes: Option<u64>,
    /// Blocks live at the global peak.
    pub peak_blocks: Option<u64>,
    /// Bytes live at the end (t-end).
    pub end_bytes: Option<u64>,
    /// Blocks live at the end.
    pub end_blocks: Option<u64>,
    /// Bytes read from heap blocks (Valgrind heap mode).
    pub read_bytes: Option<u64>,
    /// Bytes written to heap blocks (Valgrind heap mode).
    pub written_bytes: Option<u64>,
    /// The time unit of `t_gmax` and `t_end`: `µs`, or `instrs` (Valgrind counts instructions).
    pub time_unit: String,
    /// The time of the global peak, in `time_unit`; `None` where the file does not know it: a
    /// dhat-kit peak profile keeps the peak's figures but not its moment (its `tg` is its end).
    pub t_gmax: Option<u64>,
    /// The time at the end, in `time_unit`.
    pub t_end: u64,
    /// The run time in seconds, when the time unit is microseconds.
    pub run_time_seconds: Option<f64>,
    /// The number of program points (distinct stacks).
    pub program_points: usize,
    /// The number of frames in the frame table.
    pub frames: usize,
    /// For a sampled profile (`dhat-kit-sampled`): the number of samples its per-site figures
    /// were estimated from (its totals are exact); `null` otherwise.
    pub samples: Option<u64>,
    /// For a sampled profile: the samples' mean interval, in bytes allocated; `null` otherwise.
    pub sample_interval_bytes: Option<u64>,
}

/// The label that starts the frame of a sampled profile's unsampled remainder, which says what
/// the estimates rest on: `[unsampled remainder] estimated from N samples at mean interval M bytes`.
pub(crate) const REMAINDER: &str = "[unsampled remainder]";

/// A frame's function as the exporters and flame graphs name it: a sampled profile's remainder
/// is [`REMAINDER`] alone, without what it was estimated from, which differs from run to run (so
/// that two runs' folded stacks, flame graphs or pprof files name it alike); any other function
/// as it is.
pub(crate) fn stable_name(function: &str) -> &str {
    match function.strip_prefix(REMAINDER) {
        Some(rest) if rest.starts_with(" estimated from ") => REMAINDER,
        _ => function,
    }
}

/// The samples and interval a sampled profile was estimated from, read from its remainder frame.
fn estimated_from(profile: &Profile) -> Option<(u64, u64)> {
    if profile.mode != crate::profile::SAMPLED_MODE {
        return None;
    }
    profile.ftbl.iter().find_map(|f| {
        let rest = f
            .strip_prefix(REMAINDER)?
            .strip_prefix(" estimated from ")?;
        let (n, rest) = rest.split_once(" samples at mean interval ")?;
        let m = rest.strip_suffix(" bytes")?;
        Some((n.parse().ok()?, m.parse().ok()?))
    })
}

/// The summary of `profile`.
///
/// # Examples
///
/// See [`Summary`].
#[must_use]
pub fn summary(profile: &Profile) -> Summary {
    let t = profile.totals();
    let sampled = estimated_from(profile);
    Summary {
        schema: "dhat-kit-summary/1",
        mode: profile.mode.clone(),
        kind: profile.kind(),
        command: profile.cmd.clone(),
        pid: profile.pid,
        unit: profile.unit_plural().to_owned(),
        blocks_unit: profile.blocks_plural().to_owned(),
        total_bytes: t.bytes,
        total_blocks: t.blocks,
        peak_bytes: t.peak_bytes,
        peak_blocks: t.peak_blocks,
        end_bytes: t.end_bytes,
        end_blocks: t.end_blocks,
        read_bytes: t.read_bytes,
        written_bytes: t.written_bytes,
        time_unit: profile.tu.clone(),
        // A peak profile's `tg` is its end, written because DHAT's viewer needs one.
        t_gmax: profile
            .tg
            .filter(|_| profile.mode != crate::profile::PEAK_MODE),
        t_end: profile.te,
        run_time_seconds: (profile.tu == "µs" || profile.tu == "us")
            .then(|| profile.te as f64 / 1e6),
        program_points: profile.pps.len(),
        frames: profile.ftbl.len(),
        samples: sampled.map(|s| s.0),
        sample_interval_bytes: sampled.map(|s| s.1),
    }
}

/// The name of `n` things whose plural is `plural`: its singular for one (`1 block`, `1 event`),
/// where the singular is the plural less its `s` (DHAT's unit names: bytes, blocks, units,
/// events); the plural otherwise.
fn of_count(n: u64, plural: &str) -> &str {
    match plural {
        "bytes" | "blocks" | "units" | "events" if n == 1 => &plural[..plural.len() - 1],
        _ => plural,
    }
}

impl Summary {
    /// What the figures say that cannot be: bytes or blocks live at the peak or at the end above
    /// all that was allocated, or bytes live at the end above the peak. No file of a real
    /// producer holds such figures, and the reader refuses them per program point where it can;
    /// a dhat-kit peak profile is exempt from that check (its point outside any region holds the
    /// whole session's live figures), and peak profiles written before the session's peak was
    /// capped at its totals can hold a peak above them. One line each, for the command to print
    /// as warnings after the file's name.
    ///
    /// # Examples
    ///
    /// ```
    /// let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
    ///   "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
    ///   "pps":[{"tb":1600,"tbk":2,"tl":0,"mb":8984,"mbk":3,"gb":8984,"gbk":3,"eb":0,"ebk":0,"fs":[1]}],
    ///   "ftbl":["[root]","[outside any region]"]}"#;
    /// let p = dhat_kit::profile::from_slice(json.as_bytes(), "p.json")?;
    /// assert_eq!(
    ///     dhat_kit::analyze::summary(&p).warnings(),
    ///     [
    ///         "8,984 bytes live at the peak, more than the 1,600 bytes allocated in all",
    ///         "3 blocks live at the peak, more than the 2 blocks allocated in all",
    ///     ]
    /// );
    /// # Ok::<(), dhat_kit::profile::ProfileError>(())
    /// ```
    #[must_use]
    pub fn warnings(&self) -> Vec<String> {
        let (unit, blocks) = (self.unit.as_str(), self.blocks_unit.as_str());
        let above = |live: Option<u64>, what: &str, unit: &str, limit: u64, of: &str| {
            live.filter(|&l| l > limit).map(|l| {
                format!(
                    "{} {} live at {what}, more than the {} {} {of}",
                    Thousands(l),
                    of_count(l, unit),
                    Thousands(limit),
                    of_count(limit, unit)
                )
            })
        };
        let all = "allocated in all";
        [
            above(self.peak_bytes, "the peak", unit, self.total_bytes, all),
            above(self.peak_blocks, "the peak", blocks, self.total_blocks, all),
            above(self.end_bytes, "the end", unit, self.total_bytes, all),
            above(self.end_blocks, "the end", blocks, self.total_blocks, all),
            self.peak_bytes
                .and_then(|peak| above(self.end_bytes, "the end", unit, peak, "live at the peak")),
        ]
        .into_iter()
        .flatten()
        .collect()
    }
}

impl fmt::Display for Summary {
    /// DHAT's own exit lines (`Total:`, `At t-gmax:`, `At t-end:`, `Reads:`, `Writes:`), exact
    /// and with thousands separators, after the mode, command and times.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line each, whatever the profile holds (a newline in a command line is escaped).
        writeln!(
            f,
            "Mode:      {} ({:?})",
            super::one_line(&self.mode),
            self.kind
        )?;
        writeln!(f, "Command:   {}", super::one_line(&self.command))?;
        writeln!(f, "PID:       {}", self.pid)?;
        let pair = |b: u64, k: u64| {
            format!(
                "{} {} in {} {}",
                Thousands(b),
                of_count(b, &self.unit),
                Thousands(k),
                of_count(k, &self.blocks_unit)
            )
        };
        let human = |b: u64| {
            if self.unit == "bytes" {
                format!(" ({})", Bytes(b))
            } else {
                String::new()
            }
        };
        writeln!(
            f,
            "Total:     {}{}",
            pair(self.total_bytes, self.total_blocks),
            human(self.total_bytes)
        )?;
        if let (Some(b), Some(k)) = (self.peak_bytes, self.peak_blocks) {
            writeln!(f, "At t-gmax: {}{}", pair(b, k), human(b))?;
        }
        if let (Some(b), Some(k)) = (self.end_bytes, self.end_blocks) {
            writeln!(f, "At t-end:  {}{}", pair(b, k), human(b))?;
        }
        if let Some(r) = self.read_bytes {
            writeln!(f, "Reads:     {} bytes", Thousands(r))?;
        }
        if let Some(w) = self.written_bytes {
            writeln!(f, "Writes:    {} bytes", Thousands(w))?;
        }
        match self.run_time_seconds {
            // Under a second in milliseconds: a short session's 406 µs read `0.000 s`.
            Some(s) if s < 1.0 => writeln!(f, "Run time:  {:.3} ms", s * 1000.0)?,
            Some(s) => writeln!(f, "Run time:  {s:.3} s")?,
            None => writeln!(f, "Run time:  {} {}", Thousands(self.t_end), self.time_unit)?,
        }
        if let Some(tg) = self.t_gmax {
            writeln!(
                f,
                "t-gmax:    {} {} ({:.1}% of the run)",
                Thousands(tg),
                self.time_unit,
                super::percent(tg, self.t_end)
            )?;
        } else if self.mode == crate::profile::PEAK_MODE {
            writeln!(
                f,
                "t-gmax:    not recorded (a peak profile keeps the peak's figures, not its moment)"
            )?;
        }
        let of = |n: usize, one: &str, many: &str| {
            format!(
                "{} {}",
                Thousands(n as u64),
                if n == 1 { one } else { many }
            )
        };
        write!(
            f,
            "Profile:   {}, {}",
            of(self.program_points, "program point", "program points"),
            of(self.frames, "frame", "frames")
        )?;
        if let (Some(n), Some(m)) = (self.samples, self.sample_interval_bytes) {
            write!(
                f,
                "\nSampled:   totals exact; per-site figures estimated from {} samples at mean \
                 interval {} ({} bytes)",
                Thousands(n),
                Bytes(m),
                Thousands(m)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sampled_profile_says_what_its_estimates_rest_on() {
        let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-sampled","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":5,
          "pps":[{"tb":100,"tbk":2,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","[unsampled remainder] estimated from 1234 samples at mean interval 524288 bytes"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "s.json").unwrap();
        let s = summary(&p);
        assert_eq!(
            (s.samples, s.sample_interval_bytes),
            (Some(1234), Some(524_288))
        );
        let text = s.to_string();
        assert!(
            text.ends_with(
                "Sampled:   totals exact; per-site figures estimated from 1,234 samples at mean \
                 interval 512.0 KiB (524,288 bytes)"
            ),
            "{text}"
        );
    }

    /// One program point, one frame: in the singular (it said "1 frames").
    #[test]
    fn one_of_each_reads_in_the_singular() {
        let json = |pps: &str, ftbl: &str| {
            format!(
                r#"{{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":false,
                  "bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":10,
                  "pps":[{pps}],"ftbl":["[root]"{ftbl}]}}"#
            )
        };
        let line = |json: String| {
            let p = crate::profile::from_slice(json.as_bytes(), "p.json").unwrap();
            let text = summary(&p).to_string();
            text.lines()
                .find(|l| l.starts_with("Profile:"))
                .unwrap()
                .to_owned()
        };
        assert_eq!(line(json("", "")), "Profile:   0 program points, 1 frame");
        let two = json(
            r#"{"tb":1,"tbk":1,"fs":[1]},{"tb":1,"tbk":1,"fs":[1]}"#,
            r#","0x1: f (a.rs:1)""#,
        );
        assert_eq!(line(two), "Profile:   2 program points, 2 frames");
        let one = json(r#"{"tb":1,"tbk":1,"fs":[1]}"#, r#","0x1: f (a.rs:1)""#);
        assert_eq!(line(one), "Profile:   1 program point, 2 frames");
    }

    /// A run under a second reads in milliseconds (406 µs read `0.000 s`); longer ones in seconds.
    #[test]
    fn a_short_run_time_reads_in_milliseconds() {
        for (te, want) in [
            (406, "Run time:  0.406 ms\n"),
            (2_500_000, "Run time:  2.500 s\n"),
        ] {
            let json = format!(
                r#"{{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
                  "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":{te},"tg":5,
                  "pps":[{{"tb":100,"tbk":2,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}}],
                  "ftbl":["[root]","region a"]}}"#
            );
            let p = crate::profile::from_slice(json.as_bytes(), "p.json").unwrap();
            let text = summary(&p).to_string();
            assert!(text.contains(want), "{text}");
        }
    }

    /// A peak profile's `tg` is its end, which DHAT's viewer needs: the summary does not give it
    /// as the peak's moment (it read "t-gmax: 10 µs (100.0% of the run)").
    #[test]
    fn a_peak_profile_does_not_know_when_its_peak_was() {
        let json = r#"{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
          "pps":[{"tb":100,"tbk":2,"tl":0,"mb":0,"mbk":0,"gb":0,"gbk":0,"eb":0,"ebk":0,"fs":[1]}],
          "ftbl":["[root]","region a"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "p.json").unwrap();
        let s = summary(&p);
        assert_eq!(s.t_gmax, None);
        let text = s.to_string();
        assert!(
            text.lines().any(|l| l
                == "t-gmax:    not recorded (a peak profile keeps the peak's figures, not its moment)"),
            "{text}"
        );
        assert!(!text.contains("of the run"), "{text}");
    }

    /// A peak profile whose peak is above its totals (written before the session's peak was
    /// capped at them) was summed as it stood, with no word that its figures disagree.
    #[test]
    fn figures_that_cannot_be_are_warned_of() {
        let file = |pp: &str| {
            format!(
                r#"{{"dhatFileVersion":2,"mode":"dhat-kit-peak","verb":"Allocated","bklt":true,
                  "bkacc":false,"tu":"µs","Mtu":"s","tuth":500,"cmd":"app","pid":1,"te":10,"tg":10,
                  "pps":[{pp}],"ftbl":["[root]","region a"]}}"#
            )
        };
        let warnings = |pp: &str| {
            let p = crate::profile::from_slice(file(pp).as_bytes(), "p.json").unwrap();
            summary(&p).warnings()
        };
        let pp = |tb, tbk, gb, gbk, eb, ebk| {
            format!(
                r#"{{"tb":{tb},"tbk":{tbk},"tl":0,"mb":{gb},"mbk":{gbk},"gb":{gb},"gbk":{gbk},"eb":{eb},"ebk":{ebk},"fs":[1]}}"#
            )
        };
        assert_eq!(warnings(&pp(100, 2, 64, 1, 32, 2)), Vec::<String>::new());
        assert_eq!(
            warnings(&pp(100, 2, 200, 1, 32, 1)),
            ["200 bytes live at the peak, more than the 100 bytes allocated in all"]
        );
        assert_eq!(
            warnings(&pp(100, 1, 64, 1, 80, 3)),
            [
                "3 blocks live at the end, more than the 1 block allocated in all",
                "80 bytes live at the end, more than the 64 bytes live at the peak",
            ]
        );
    }

    /// One block (or event, byte, unit) is named in the singular, as DHAT's exit lines do.
    #[test]
    fn one_block_is_a_block() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"te":10,"tg":5,
          "pps":[{"tb":1025,"tbk":2,"tl":0,"mb":1024,"mbk":1,"gb":1024,"gbk":1,"eb":1,"ebk":1,
          "fs":[]}],"ftbl":["[root]"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "one.json").unwrap();
        let text = summary(&p).to_string();
        for line in [
            "Total:     1,025 bytes in 2 blocks (1.0 KiB)",
            "At t-gmax: 1,024 bytes in 1 block (1.0 KiB)",
            "At t-end:  1 byte in 1 block (1 B)",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert_eq!(of_count(1, "events"), "event");
        assert_eq!(of_count(2, "events"), "events");
        assert_eq!(of_count(1, "copies"), "copies");
    }

    #[test]
    fn a_command_line_with_a_newline_stays_on_its_line() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,
          "bkacc":false,"tu":"µs","Mtu":"s","tuth":10,"cmd":"prog --x\n--evil","pid":1,"te":10,
          "tg":5,"pps":[],"ftbl":["[root]"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "c.json").unwrap();
        let text = summary(&p).to_string();
        assert!(
            text.lines().any(|l| l == r"Command:   prog --x\n--evil"),
            "{text}"
        );
        assert!(!text.lines().any(|l| l == "--evil"), "{text}");
    }
}
