//! [`ProfileError`]: one line naming the file, what was expected, and where.

use std::fmt;

/// A profile that could not be read: the file, what was expected, and where (the field path,
/// and the line and column for what the JSON reader found).
///
/// Its [`Display`](fmt::Display) is one line:
/// `dhat-kit: bad.json: expected a frame index below 12 (the size of ftbl), found 40, at pps[3].fs[2]`.
///
/// # Examples
///
/// ```
/// let err = dhat_kit::profile::from_slice(b"{\"dhatFileVersion\":3}", "old.json").unwrap_err();
/// assert_eq!(err.file(), "old.json");
/// assert!(err.to_string().contains("expected DHAT file version 2, found 3"), "{err}");
/// assert!(err.location().contains("dhatFileVersion"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    file: String,
    expected: String,
    location: String,
}

impl ProfileError {
    pub(crate) fn new(
        file: &str,
        expected: impl Into<String>,
        location: impl Into<String>,
    ) -> Self {
        ProfileError {
            file: file.to_owned(),
            expected: expected.into(),
            location: location.into(),
        }
    }

    /// The file (as given to [`read`](super::read), or the name given with the bytes).
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What was expected, and what was found where the reader knows it.
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// Where: a field path such as `pps[3].fs[2]`, with the line and column where the JSON reader
    /// stopped, or `open` when the file could not be opened.
    pub fn location(&self) -> &str {
        &self.location
    }
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "dhat-kit: {}: expected {}, at {}",
            self.file, self.expected, self.location
        )
    }
}

impl std::error::Error for ProfileError {}
