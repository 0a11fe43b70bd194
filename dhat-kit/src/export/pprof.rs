//! pprof's `profile.proto` (github.com/google/pprof, `proto/profile.proto`), gzip-compressed,
//! encoded here by hand: a profile is a handful of message types of integers and strings.

use std::collections::HashMap;
use std::io::Write;

use flate2::write::GzEncoder;

use super::Error;
use crate::analyze::{Fold, FoldBy, Metric};
use crate::profile::Profile;

/// Writes `profile` as a gzip-compressed pprof profile to `out`.
///
/// Sample types, each a value of every sample: `total_bytes` and `total_blocks` (in the profile's
/// units: `bytes`/`count`, or for an ad-hoc profile its own, `units`/`events`), and with block
/// lifetimes `gmax_bytes`, `gmax_blocks` (live at t-gmax) and `end_bytes`, `end_blocks` (live at
/// t-end); `total_bytes` is the default. One sample per distinct stack; one location per code
/// location (function, file and line: its address is the first frame's), with its function and
/// line. The profiled command is a comment.
///
/// In `go tool pprof`, the allocator and standard-library frames can be hidden to rank by the
/// frame `dhat-kit top` reports: `-hide '^(malloc|alloc::.*|core::.*|std::.*)$'`.
///
/// # Errors
///
/// [`Error::Range`] if a sample type's values add up to more than pprof's signed 64-bit values
/// hold (possible in an ad-hoc profile, whose units are the program's), before anything is
/// written; [`Error::Io`] if `out` fails.
pub fn pprof(profile: &Profile, out: &mut impl Write) -> Result<(), Error> {
    let figures = super::figures(profile);
    let metrics: Vec<Metric> = figures.iter().map(|f| f.0).collect();
    let fold = Fold::new(profile, FoldBy::Location, &metrics);
    // Every value is at most its type's total, so totals within range keep every value (and
    // `go tool pprof`'s sums) exact.
    let limit = i64::MAX as u64;
    if let Some((&metric, total)) = metrics
        .iter()
        .zip(fold.totals())
        .find(|&(_, total)| total > limit)
    {
        return Err(Error::Range {
            format: "pprof",
            figure: type_name(metric),
            total,
        });
    }
    // Buffered in front of the encoder: it works best on large writes.
    let mut gz = std::io::BufWriter::with_capacity(
        1 << 16,
        GzEncoder::new(out, flate2::Compression::fast()),
    );
    let mut strings = Strings::default();
    let mut msg = Vec::with_capacity(1024);
    let mut field = Vec::with_capacity(1024);

    // sample_type (1): ValueType { type (1), unit (2) }.
    let mut default_type = 0;
    for (metric, _, unit) in &figures {
        let type_name = type_name(*metric);
        let unit = match unit.as_str() {
            "blocks" => "count",
            u => u,
        };
        let t = strings.id(type_name);
        if *metric == Metric::TotalBytes {
            default_type = t;
        }
        msg.clear();
        varint_field(&mut msg, 1, t);
        varint_field(&mut msg, 2, strings.id(unit));
        bytes_field(&mut gz, 1, &msg)?;
    }

    // sample (2): Sample { location_id (1, packed, leaf first), value (2, packed) }.
    let mut result = Ok(());
    fold.for_each(0, |keys, values| {
        if result.is_err() {
            return;
        }
        msg.clear();
        field.clear();
        for &k in keys.iter().rev() {
            varint(&mut field, u64::from(k) + 1);
        }
        bytes_field(&mut msg, 1, &field).ok();
        field.clear();
        for &v in values {
            varint(&mut field, v);
        }
        bytes_field(&mut msg, 2, &field).ok();
        result = bytes_field(&mut gz, 2, &msg);
    });
    result?;

    // location (4): Location { id (1), address (3), line (4): Line { function_id (1), line (2) } };
    // function (5): Function { id (1), name (2), system_name (3), filename (4) }.
    let mut functions: HashMap<(u64, u64), u64> = HashMap::new();
    for key in 0..fold.keys() as u32 {
        let frame = fold.frame(key);
        let name = strings.id(frame.function);
        let file = strings.id(frame.file.or(frame.object).unwrap_or(""));
        let next = functions.len() as u64 + 1;
        let function = *functions.entry((name, file)).or_insert_with(|| {
            msg.clear();
            varint_field(&mut msg, 1, next);
            varint_field(&mut msg, 2, name);
            varint_field(&mut msg, 3, name);
            varint_field(&mut msg, 4, file);
            field.clear();
            bytes_field(&mut field, 5, &msg).ok();
            next
        });
        if function == next {
            gz.write_all(&field)?;
        }
        msg.clear();
        varint_field(&mut msg, 1, u64::from(key) + 1);
        let address = frame
            .address
            .and_then(|a| u64::from_str_radix(&a[2..], 16).ok())
            .unwrap_or(0);
        varint_field(&mut msg, 3, address);
        field.clear();
        varint_field(&mut field, 1, function);
        varint_field(&mut field, 2, u64::from(frame.line.unwrap_or(0)));
        bytes_field(&mut msg, 4, &field)?;
        bytes_field(&mut gz, 4, &msg)?;
    }

    // comment (13), default_sample_type (14), then the string table (6) last, as every index
    // into it is known by now.
    let comment = strings.id(&format!(
        "dhat-kit: {} profile of `{}`",
        profile.mode, profile.cmd
    ));
    msg.clear();
    varint_field(&mut msg, 13, comment);
    varint_field(&mut msg, 14, default_type);
    gz.write_all(&msg)?;
    for s in &strings.list {
        bytes_field(&mut gz, 6, s.as_bytes())?;
    }
    gz.into_inner().map_err(|e| e.into_error())?.try_finish()?;
    Ok(())
}

/// The string table: index 0 is "".
struct Strings {
    ids: HashMap<String, u64>,
    list: Vec<String>,
}

impl Default for Strings {
    fn default() -> Self {
        Strings {
            ids: HashMap::from([(String::new(), 0)]),
            list: vec![String::new()],
        }
    }
}

impl Strings {
    fn id(&mut self, s: &str) -> u64 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.list.len() as u64;
        self.ids.insert(s.to_owned(), id);
        self.list.push(s.to_owned());
        id
    }
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A varint field (wire type 0); 0 is the default and is not written.
fn varint_field(out: &mut Vec<u8>, number: u32, v: u64) {
    if v == 0 {
        return;
    }
    varint(out, u64::from(number) << 3);
    varint(out, v);
}

/// A length-delimited field (wire type 2).
fn bytes_field(out: &mut impl Write, number: u32, bytes: &[u8]) -> std::io::Result<()> {
    let mut b = Vec::with_capacity(16);
    varint(&mut b, (u64::from(number) << 3) | 2);
    varint(&mut b, bytes.len() as u64);
    out.write_all(&b)?;
    out.write_all(bytes)
}

/// The name of `metric`'s sample type.
fn type_name(metric: Metric) -> &'static str {
    match metric {
        Metric::TotalBytes => "total_bytes",
        Metric::TotalBlocks => "total_blocks",
        Metric::PeakBytes => "gmax_bytes",
        Metric::PeakBlocks => "gmax_blocks",
        Metric::EndBytes => "end_bytes",
        _ => "end_blocks",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        let mut b = Vec::new();
        for v in [0u64, 1, 127, 128, 300, u64::MAX] {
            varint(&mut b, v);
        }
        assert_eq!(
            b,
            [
                0, 1, 127, 0x80, 1, 0xAC, 2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                1
            ]
        );
    }
}
