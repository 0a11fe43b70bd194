//! What the command's tests share: the fixtures, temporary directories, running the command.
// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The real profiles of `tests/fixtures/` (Valgrind, dhat-rs, dhat-kit), by file name.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures")
        .join(name)
}

/// A fixture's path as a string, for the command's arguments.
pub fn path(name: &str) -> String {
    fixture(name).display().to_string()
}

/// A directory of its own for one test (`label`) of one test binary (`binary`) in this process,
/// empty at the start and removed at the end.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(binary: &str, label: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("dhat-kit-{binary}-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// The file `name` in the directory.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Writes `text` to the file `name` in the directory; its path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the `dhat-kit` command with `args`, `DHAT_KIT_SKIP` unset.
pub fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dhat-kit"))
        .args(args)
        .env_remove("DHAT_KIT_SKIP")
        .output()
        .expect("runs dhat-kit")
}

/// Runs the `dhat-kit` command with `args` on a pseudo-terminal (util-linux's `script`, which
/// returns the command's status): what the terminal showed is the output's stdout, standard
/// error and output together.
pub fn on_a_terminal(args: &[&str]) -> Output {
    let quoted: Vec<String> = std::iter::once(env!("CARGO_BIN_EXE_dhat-kit"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect();
    Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .env_remove("DHAT_KIT_SKIP")
        .output()
        .expect("`script` (util-linux) runs the command on a pseudo-terminal")
}

/// Runs the command, which must succeed: its standard output.
pub fn ok<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "dhat-kit {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `(amount, count)` of a "17,170 bytes in 115 blocks" line after `label` in a producer's stderr
/// (Valgrind's `==123== Total: ...`, dhat's `dhat: Total: ...`).
pub fn printed(stderr: &str, label: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().find_map(|l| {
        let at = l.find(label)?;
        Some(&l[at + label.len()..])
    })?;
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    Some((*nums.first()?, nums.get(1).copied().unwrap_or(0)))
}

/// `n` with thousands separators, as the command's tables show it: `17,170`.
pub fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The JSON `check --format json` printed: its schema first, as every JSON of the command has it.
pub fn check_json(stdout: &str) -> serde_json::Value {
    assert!(
        stdout.starts_with("{\n  \"schema\": \"dhat-kit-check/1\","),
        "{stdout}"
    );
    serde_json::from_str(stdout).unwrap()
}
