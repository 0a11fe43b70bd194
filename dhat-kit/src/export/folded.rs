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
pub fn folded(profile: &Profile, metric: Metric, out: &mut impl Write) -> Result<u64, Error> {
    metric.check(profile).map_err(Error::Profile)?;
    let fold = Fold::new(profile, FoldBy::Function, &[metric]);
    Ok(fold.write_folded(0, out)?)
}
