//! [`ParseError`]: text that does not read as the value asked for.

use std::fmt;

/// Text that does not read as the value asked for (a metric's name, a budget's limit, a growth
/// class): the text as given, and a message that says what was expected.
///
/// # Examples
///
/// ```
/// use dhat_kit::{analyze::Metric, GrowthClass};
///
/// let err = "reads-per-second".parse::<Metric>().unwrap_err();
/// assert_eq!(err.text(), "reads-per-second");
/// assert!(err.to_string().starts_with("unknown metric `reads-per-second`; expected one of "));
/// assert!("n^4".parse::<GrowthClass>().unwrap_err().to_string().contains("`n^4`"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    text: String,
    message: String,
}

impl ParseError {
    pub(crate) fn new(text: &str, message: impl Into<String>) -> Self {
        ParseError {
            text: text.to_owned(),
            message: message.into(),
        }
    }

    /// The text that was read.
    #[must_use]
    pub fn text(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}
