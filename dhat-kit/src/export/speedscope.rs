//! speedscope's file format (`https://www.speedscope.app/file-format-schema.json`): the frames
//! once, then one sampled profile per figure, each stack a sample weighted by the figure.

use std::io::Write;

use super::Error;
use crate::analyze::{Fold, FoldBy, Metric};
use crate::profile::Profile;

/// Writes `profile` in speedscope's format to `out`: its frames (function, file and line) shared,
/// and one profile per figure it has (total bytes and blocks, and with block lifetimes bytes and
/// blocks at t-gmax and at t-end), named `FIGURE: NAME`, each stack (outermost frame first) a
/// sample weighted by the figure. Stacks whose figure is 0 are left out of that figure's profile.
///
/// # Errors
///
/// [`Error::Io`] if `out` fails.
pub fn speedscope(profile: &Profile, name: &str, out: &mut impl Write) -> Result<(), Error> {
    let figures = super::figures(profile);
    let metrics: Vec<Metric> = figures.iter().map(|f| f.0).collect();
    let fold = Fold::new(profile, FoldBy::Location, &metrics);
    let json = |out: &mut dyn Write, s: &str| -> std::io::Result<()> {
        serde_json::to_writer(&mut *out, s).map_err(std::io::Error::from)
    };
    out.write_all(
        b"{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\"name\":",
    )?;
    json(out, name)?;
    write!(
        out,
        ",\"exporter\":\"dhat-kit {}\",\"activeProfileIndex\":0,\"shared\":{{\"frames\":[",
        env!("CARGO_PKG_VERSION")
    )?;
    for key in 0..fold.keys() as u32 {
        let frame = fold.frame(key);
        out.write_all(if key == 0 {
            b"\n{\"name\":"
        } else {
            b",\n{\"name\":"
        })?;
        json(out, frame.function)?;
        if let Some(file) = frame.file.or(frame.object) {
            out.write_all(b",\"file\":")?;
            json(out, file)?;
        }
        if let Some(line) = frame.line {
            write!(out, ",\"line\":{line}")?;
        }
        if let Some(col) = frame.column {
            write!(out, ",\"col\":{col}")?;
        }
        out.write_all(b"}")?;
    }
    out.write_all(b"]},\n\"profiles\":[")?;
    let totals = fold.totals();
    for (j, (metric, what, unit)) in figures.iter().enumerate() {
        let unit_name = if metric.is_blocks() || unit != "bytes" {
            "none"
        } else {
            "bytes"
        };
        out.write_all(if j == 0 {
            b"\n{\"type\":\"sampled\",\"name\":"
        } else {
            b",\n{\"type\":\"sampled\",\"name\":"
        })?;
        json(out, &format!("{unit} {what}: {name}"))?;
        write!(
            out,
            ",\"unit\":\"{unit_name}\",\"startValue\":0,\"endValue\":{},\"samples\":[",
            totals[j]
        )?;
        let mut weights: Vec<u64> = Vec::new();
        let mut result = Ok(());
        let mut buf = Vec::with_capacity(256);
        fold.for_each(0, |keys, values| {
            if values[j] == 0 || result.is_err() {
                return;
            }
            buf.clear();
            if !weights.is_empty() {
                buf.push(b',');
            }
            buf.push(b'[');
            for (n, k) in keys.iter().enumerate() {
                if n > 0 {
                    buf.push(b',');
                }
                super::push_decimal(&mut buf, u64::from(*k));
            }
            buf.push(b']');
            weights.push(values[j]);
            result = out.write_all(&buf);
        });
        result?;
        out.write_all(b"],\"weights\":[")?;
        buf.clear();
        for (n, &w) in weights.iter().enumerate() {
            if n > 0 {
                buf.push(b',');
            }
            super::push_decimal(&mut buf, w);
            if buf.len() > 1 << 16 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)?;
        out.write_all(b"]}")?;
    }
    out.write_all(b"]}\n")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_one_profile_per_figure() {
        let json = r#"{"dhatFileVersion":2,"mode":"rust-heap","verb":"Allocated","bklt":true,"bkacc":false,
          "tu":"µs","Mtu":"s","tuth":10,"cmd":"app","pid":1,"tg":5,"te":9,
          "pps":[{"tb":30,"tbk":1,"tl":1,"mb":30,"mbk":1,"gb":30,"gbk":1,"eb":0,"ebk":0,"fs":[1,2]},
                 {"tb":12,"tbk":2,"tl":1,"mb":6,"mbk":1,"gb":0,"gbk":0,"eb":6,"ebk":1,"fs":[2]}],
          "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
        let p = crate::profile::from_slice(json.as_bytes(), "app.json").unwrap();
        let mut out = Vec::new();
        speedscope(&p, "app.json", &mut out).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let frames = &v["shared"]["frames"];
        assert_eq!(frames[2]["name"], "app::parse");
        assert_eq!(
            (&frames[2]["file"], &frames[2]["line"]),
            (&"src/p.rs".into(), &3.into())
        );
        assert_eq!(frames[1]["name"], "app::main");
        let profiles = v["profiles"].as_array().unwrap();
        let names: Vec<&str> = profiles
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "bytes total: app.json",
                "blocks total: app.json",
                "bytes at t-gmax: app.json",
                "blocks at t-gmax: app.json",
                "bytes at t-end: app.json",
                "blocks at t-end: app.json"
            ]
        );
        assert_eq!(profiles[0]["samples"], serde_json::json!([[1], [1, 2]]));
        assert_eq!(profiles[0]["weights"], serde_json::json!([12, 30]));
        assert_eq!(profiles[0]["endValue"], 42);
        assert_eq!(profiles[0]["unit"], "bytes");
        assert_eq!(profiles[1]["unit"], "none");
        assert_eq!(profiles[2]["samples"], serde_json::json!([[1, 2]]));
        assert_eq!(profiles[4]["samples"], serde_json::json!([[1]]));
        assert_eq!(profiles[4]["weights"], serde_json::json!([6]));
    }
}
