//! [`ProfileError`]: one line naming the file, what was expected, and where.

use std::fmt;
use std::sync::Arc;

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
///
/// A file that could not be read keeps the I/O error, whose text its message says:
///
/// ```
/// let err = dhat_kit::profile::read("no-such-dir/dhat-heap.json").unwrap_err();
/// assert_eq!(err.io_error().unwrap().kind(), std::io::ErrorKind::NotFound);
/// assert!(err.to_string().contains("No such file or directory"), "{err}");
/// ```
///
/// Its [`source`](std::error::Error::source) is what lies below the I/O error (none, for the
/// system's errors): the message says the I/O error's own text, and a chain printed whole
/// (`anyhow`'s `{:#}` or `{:?}`) says it once.
#[derive(Debug, Clone)]
pub struct ProfileError {
    file: String,
    expected: String,
    location: String,
    /// The I/O error that stopped the reading, if that is what did.
    io: Option<Arc<std::io::Error>>,
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
            io: None,
        }
    }

    /// The file could not be read, at `location`: "expected a readable file (`e`)", with `e` as
    /// its [`io_error`](ProfileError::io_error).
    pub(crate) fn unreadable(file: &str, e: std::io::Error, location: impl Into<String>) -> Self {
        let expected = format!("a readable file ({e})");
        ProfileError {
            io: Some(Arc::new(e)),
            ..ProfileError::new(file, expected, location)
        }
    }

    /// The file (as given to [`read`](super::read), or the name given with the bytes).
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// What was expected, and what was found where the reader knows it.
    #[must_use]
    pub fn expected(&self) -> &str {
        &self.expected
    }

    /// Where: a field path such as `pps[3].fs[2]`, with the line and column where the JSON reader
    /// stopped, or `open` when the file could not be opened.
    #[must_use]
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The I/O error that stopped the reading, if that is what did (its text is in
    /// [`expected`](ProfileError::expected)).
    #[must_use]
    pub fn io_error(&self) -> Option<&std::io::Error> {
        self.io.as_deref()
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

/// Two errors are equal when they say the same (an I/O error's text is in `expected`).
impl PartialEq for ProfileError {
    fn eq(&self, other: &Self) -> bool {
        (&self.file, &self.expected, &self.location)
            == (&other.file, &other.expected, &other.location)
            && self.io.as_ref().map(|e| e.kind()) == other.io.as_ref().map(|e| e.kind())
    }
}

impl Eq for ProfileError {}

/// Its source is the I/O error's own, whose text the message says (a chain that named the I/O
/// error as the source said that text twice); [`io_error`](ProfileError::io_error) gives it.
impl std::error::Error for ProfileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_deref().and_then(std::error::Error::source)
    }
}
