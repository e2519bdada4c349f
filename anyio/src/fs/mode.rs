//! Python's file mode strings (`"r"`, `"wb"`, `"a+"`, `"x"`), parsed and checked.

use crate::error::{Error, ErrorKind, Result};

/// What a mode string asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    pub(crate) read: bool,
    pub(crate) write: bool,
    pub(crate) append: bool,
    pub(crate) create: bool,
    pub(crate) create_new: bool,
    pub(crate) truncate: bool,
}

fn invalid(mode: &str, why: &str) -> Error {
    Error::new(
        ErrorKind::Io(std::io::ErrorKind::InvalidInput),
        format!(
            "invalid file mode {mode:?}: {why}; a mode is one of the letters r, w, x, a, \
             optionally followed by + (read and write) and one of b, t (e.g. \"r\", \"wb\", \
             \"a+\")"
        ),
    )
}

impl Mode {
    /// Parses `mode` as Python's `open` does (`b` and `t` are accepted; files are
    /// bytes either way).
    pub(crate) fn parse(mode: &str) -> Result<Mode> {
        let mut base = None;
        let (mut plus, mut kind) = (false, None);
        for letter in mode.chars() {
            match letter {
                'r' | 'w' | 'x' | 'a' => {
                    if let Some(first) = base {
                        return Err(invalid(
                            mode,
                            &format!("it has both {first:?} and {letter:?}"),
                        ));
                    }
                    base = Some(letter);
                }
                '+' if plus => return Err(invalid(mode, "it has + twice")),
                '+' => plus = true,
                'b' | 't' => {
                    if let Some(first) = kind {
                        return Err(invalid(
                            mode,
                            &format!("it has both {first:?} and {letter:?}"),
                        ));
                    }
                    kind = Some(letter);
                }
                other => {
                    return Err(invalid(mode, &format!("{other:?} is not a mode letter")));
                }
            }
        }
        let Some(base) = base else {
            return Err(invalid(mode, "it has none of r, w, x, a"));
        };
        Ok(Mode {
            read: base == 'r' || plus,
            write: base != 'r' || plus,
            append: base == 'a',
            create: base != 'r',
            create_new: base == 'x',
            truncate: base == 'w',
        })
    }

    pub(crate) fn open_options(self) -> async_fs::OpenOptions {
        let mut options = async_fs::OpenOptions::new();
        options
            .read(self.read)
            .write(self.write && !self.append)
            .append(self.append)
            .create(self.create && !self.create_new)
            .create_new(self.create_new)
            .truncate(self.truncate);
        options
    }
}

#[cfg(test)]
mod tests {
    use super::Mode;

    #[test]
    fn every_valid_mode_parses() {
        for base in ["r", "w", "x", "a"] {
            for plus in ["", "+"] {
                for kind in ["", "b", "t"] {
                    let mode = format!("{base}{plus}{kind}");
                    let parsed = Mode::parse(&mode).unwrap();
                    assert_eq!(parsed.read, base == "r" || plus == "+", "{mode}");
                    assert_eq!(parsed.write, base != "r" || plus == "+", "{mode}");
                    // The letters may come in any order, as in Python.
                    let reversed: String = mode.chars().rev().collect();
                    assert_eq!(Mode::parse(&reversed).unwrap(), parsed, "{reversed}");
                }
            }
        }
    }

    #[test]
    fn bad_modes_are_named() {
        for (mode, says) in [
            ("", "none of r, w, x, a"),
            ("rw", "both 'r' and 'w'"),
            ("r++", "+ twice"),
            ("rbt", "both 'b' and 't'"),
            ("rz", "'z' is not a mode letter"),
            ("U", "'U' is not a mode letter"),
        ] {
            let err = Mode::parse(mode).unwrap_err();
            assert!(err.message().contains(says), "{mode}: {}", err.message());
            assert!(
                err.message().contains(&format!("{mode:?}")),
                "{}",
                err.message()
            );
            assert!(err.message().contains("r, w, x, a"), "{}", err.message());
        }
    }
}
