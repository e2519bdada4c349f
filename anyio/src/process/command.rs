//! What to run: a shell command line or an argument list (`IntoCommand`).

use std::ffi::{OsStr, OsString};
use std::fmt;

/// A command to run: a line for the shell (`/bin/sh -c`), or a program and its
/// arguments, run directly. Made by [`IntoCommand`].
///
/// # Examples
///
/// ```
/// use anyio::IntoCommand;
///
/// let shell = "echo hi | tr a-z A-Z".into_command();
/// assert_eq!(shell.to_string(), "echo hi | tr a-z A-Z");
/// let direct = ["ls", "-l", "my file"].into_command();
/// assert_eq!(direct.to_string(), "ls -l 'my file'");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    kind: CommandKind,
}

#[derive(Clone, PartialEq, Eq)]
enum CommandKind {
    Shell(OsString),
    Args(Vec<OsString>),
}

impl Command {
    /// The arguments as given: `[line]` for a shell command, the program and its
    /// arguments otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::IntoCommand;
    ///
    /// assert_eq!(["echo", "hi"].into_command().args(), ["echo", "hi"]);
    /// assert_eq!("echo hi".into_command().args(), ["echo hi"]);
    /// ```
    pub fn args(&self) -> Vec<OsString> {
        match &self.kind {
            CommandKind::Shell(line) => vec![line.clone()],
            CommandKind::Args(args) => args.clone(),
        }
    }

    /// Whether the command runs through the shell.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::IntoCommand;
    ///
    /// assert!("ls | wc -l".into_command().is_shell());
    /// assert!(!["ls"].into_command().is_shell());
    /// ```
    pub fn is_shell(&self) -> bool {
        matches!(self.kind, CommandKind::Shell(_))
    }

    /// The program that is started (`/bin/sh` for a shell command).
    pub(crate) fn program(&self) -> &OsStr {
        match &self.kind {
            CommandKind::Shell(_) => OsStr::new("/bin/sh"),
            CommandKind::Args(args) => &args[0],
        }
    }

    /// A `std` command for it (program and arguments only).
    pub(crate) fn to_std(&self) -> std::process::Command {
        match &self.kind {
            CommandKind::Shell(line) => {
                let mut command = std::process::Command::new("/bin/sh");
                command.arg("-c").arg(line);
                command
            }
            CommandKind::Args(args) => {
                let mut command = std::process::Command::new(&args[0]);
                command.args(&args[1..]);
                command
            }
        }
    }
}

/// Quotes one argument the way a POSIX shell would read it back.
fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Command {
    /// The command as a shell would read it (arguments quoted where needed).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CommandKind::Shell(line) => f.write_str(&line.to_string_lossy()),
            CommandKind::Args(args) => {
                let quoted: Vec<String> = args.iter().map(|arg| quote(arg)).collect();
                f.write_str(&quoted.join(" "))
            }
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            CommandKind::Shell(line) => f.debug_tuple("Shell").field(line).finish(),
            CommandKind::Args(args) => f.debug_tuple("Args").field(args).finish(),
        }
    }
}

/// What [`run_process`](crate::run_process) and [`open_process`](crate::open_process)
/// accept: a string is a line for the shell (as AnyIO does); an array, slice or `Vec`
/// of arguments runs the program directly, with no shell in between.
///
/// # Panics
///
/// Converting an empty argument list panics: there is no program to run.
///
/// # Examples
///
/// ```
/// # anyio::run(async {
/// // Through the shell: pipes, globs, variables.
/// let out = anyio::run_process("echo one two | wc -w").await?;
/// assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
/// // Directly: each argument is passed as it is, spaces and all.
/// let out = anyio::run_process(["echo", "a  b"]).await?;
/// assert_eq!(out.stdout, b"a  b\n");
/// # anyio::Result::Ok(()) }).unwrap();
/// ```
pub trait IntoCommand {
    /// The command.
    ///
    /// # Examples
    ///
    /// ```
    /// use anyio::IntoCommand;
    ///
    /// let command = vec!["grep", "-c", "x"].into_command();
    /// assert!(!command.is_shell());
    /// assert_eq!(command.to_string(), "grep -c x");
    /// ```
    fn into_command(self) -> Command;
}

impl IntoCommand for Command {
    fn into_command(self) -> Command {
        self
    }
}

impl IntoCommand for &str {
    fn into_command(self) -> Command {
        Command {
            kind: CommandKind::Shell(self.into()),
        }
    }
}

impl IntoCommand for String {
    fn into_command(self) -> Command {
        Command {
            kind: CommandKind::Shell(self.into()),
        }
    }
}

impl IntoCommand for &String {
    fn into_command(self) -> Command {
        self.as_str().into_command()
    }
}

fn from_args<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Command {
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    assert!(
        !args.is_empty(),
        "an empty argument list has no program to run: give at least the program's name"
    );
    Command {
        kind: CommandKind::Args(args),
    }
}

impl<S: AsRef<OsStr>, const N: usize> IntoCommand for [S; N] {
    fn into_command(self) -> Command {
        from_args(self)
    }
}

impl<S: AsRef<OsStr>> IntoCommand for &[S] {
    fn into_command(self) -> Command {
        from_args(self)
    }
}

impl<S: AsRef<OsStr>> IntoCommand for Vec<S> {
    fn into_command(self) -> Command {
        from_args(self)
    }
}
