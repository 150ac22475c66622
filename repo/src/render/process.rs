//! Running a renderer as a child process with a timeout: its output is read on threads so a
//! chatty child cannot block on a full pipe, and a child past its time is killed.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use super::RenderError;

/// Runs `program args` in `dir`; its standard output on success.
pub(super) fn run(program: &str, args: &[String], dir: &Path, timeout: Duration) -> Result<String, RenderError> {
    let tool = || program.rsplit('/').next().unwrap_or(program).to_owned();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RenderError::Tool {
            tool: tool(),
            message: format!("cannot run {program}: {e}"),
        })?;
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_string(&mut text);
            }
            text
        })
    };
    let out = reader(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = reader(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let status = match child.wait_timeout(timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(RenderError::Tool {
                tool: tool(),
                message: format!("timed out after {}s", timeout.as_secs()),
            });
        }
        Err(e) => {
            let _ = child.kill();
            return Err(RenderError::Tool {
                tool: tool(),
                message: e.to_string(),
            });
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    if status.success() {
        Ok(stdout)
    } else {
        let message = stderr.trim();
        Err(RenderError::Tool {
            tool: tool(),
            message: if message.is_empty() {
                format!("exited with {status}")
            } else {
                message.to_owned()
            },
        })
    }
}

/// The first `name` on `PATH` that is an executable file.
pub(super) fn which(name: &str) -> Option<String> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
}
