//! Folded stacks: `outer;inner;innermost 42`, one line per stack.

use std::io::Write;

use super::Error;
use crate::analyze::{Fold, FoldBy, Metric};
use crate::profile::Profile;

/// Writes the folded stacks of `profile` weighted by `metric` (see
/// [`analyze::folded`](crate::analyze::folded)) to `out`, a line at a time. Returns the number of
/// lines.
///
/// # Errors
///
/// [`Error::Profile`] if the profile does not have `metric`; [`Error::Io`] if `out` fails.
///
/// # Examples
///
/// ```
/// use dhat_kit::analyze::Metric;
/// let json = r#"{"dhatFileVersion":2,"mode":"rust-ad-hoc","verb":"Allocated",
///   "bklt":false,"bkacc":false,"tu":"µs","Mtu":"s","cmd":"app","pid":1,"te":9,
///   "pps":[{"tb":30,"tbk":1,"fs":[1,2]},{"tb":12,"tbk":1,"fs":[2]},{"tb":8,"tbk":2,"fs":[1,2]}],
///   "ftbl":["[root]","0x1: app::parse (src/p.rs:3:1)","0x2: app::main (src/main.rs:9:5)"]}"#;
/// let p = dhat_kit::profile::from_slice(json.as_bytes(), "app.json")?;
/// let mut out = Vec::new();
/// let lines = dhat_kit::export::folded(&p, Metric::TotalBytes, &mut out)?;
/// // Two points of one stack are one line.
/// assert_eq!(lines, 2);
/// assert_eq!(String::from_utf8(out)?, "app::main 12\napp::main;app::parse 38\n");
/// // An ad-hoc profile has no block lifetimes: nothing is written.
/// let mut out = Vec::new();
/// assert!(dhat_kit::export::folded(&p, Metric::EndBytes, &mut out).is_err());
/// assert!(out.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn folded(profile: &Profile, metric: Metric, out: &mut impl Write) -> Result<u64, Error> {
    metric.check(profile).map_err(Error::Profile)?;
    let fold = Fold::new(profile, FoldBy::Function, &[metric]);
    Ok(fold.write_folded(0, out)?)
}
