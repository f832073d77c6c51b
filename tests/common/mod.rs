//! Shared by the integration tests: running the binary, reading its JSON, whether the lab
//! can run here, the skip-or-fail rule, the lab itself, and where the test data is.
#![allow(dead_code)] // each test crate uses a part

use std::process::{Command, Output, Stdio};

pub mod igd;
pub mod json;

/// Whether everything must run (CI: `VOIPDIAG_LAB_REQUIRED=1`, or `CI` set): a missing lab
/// tool or missing test data then fails the test instead of skipping it.
pub fn required() -> bool {
    std::env::var("VOIPDIAG_LAB_REQUIRED").as_deref() == Ok("1")
        || std::env::var_os("CI").is_some_and(|v| !v.is_empty())
}

/// Skips loudly (returns `None` after saying why), or fails when [`required`].
pub fn skip_or_fail<T>(why: &str) -> Option<T> {
    if required() {
        panic!("required (VOIPDIAG_LAB_REQUIRED=1 or CI) but unavailable: {why}");
    }
    eprintln!("SKIP: {why}");
    None
}

/// Runs `voipdiag ARGS…` here.
pub fn voipdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_voipdiag"))
        .args(args)
        .stdin(Stdio::null())
        .env_remove("VOIPDIAG_PASSWORD")
        .env_remove("VOIPDIAG_TURN_PASSWORD")
        .env_remove("VOIPDIAG_TURN_SECRET")
        .output()
        .expect("run voipdiag")
}

/// The one JSON document on `out`'s stdout; panics with stdout and stderr otherwise.
pub fn json_of(out: &Output, what: &str) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs `voipdiag --json ARGS…` here: (exit code, the report).
pub fn voipdiag_json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = voipdiag(&all);
    (
        out.status.code().unwrap_or(-1),
        json_of(&out, &format!("{args:?}")),
    )
}

/// The finding codes of a report, in order.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

/// The finding severities of a report, in order (`critical`, `warning`, `info`).
pub fn severities(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["severity"].as_str().expect("severity").to_string())
        .collect()
}

/// `Err(reason)` when the lab cannot run: not root, or one of `tools` missing (`hint` says
/// what to install).
pub fn prerequisites(tools: &[&str], hint: &str) -> Result<(), String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.ok().as_deref() != Some("0") {
        return Err("not root (network namespaces need it)".into());
    }
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            return Err(format!("{tool} is not installed ({hint})"));
        }
    }
    Ok(())
}

/// Returns false (after saying why) when the test must skip; panics instead in CI
/// ([`required`]).
pub fn lab_available(tools: &[&str], hint: &str) -> bool {
    match prerequisites(tools, hint) {
        Ok(()) => true,
        Err(why) => skip_or_fail::<()>(&format!("lab test: {why}")).is_some(),
    }
}

/// A lab built by one of the `tests/lab/*.sh` scripts (`up PREFIX ARGS…` / `down PREFIX`),
/// torn down when dropped, also when the test panics.
pub struct Lab {
    /// Namespace prefix: unique per test process and lab.
    pub prefix: String,
    script: std::path::PathBuf,
}

impl Lab {
    /// Runs `SCRIPT up PREFIX ARGS…` with PREFIX = `tag` + process id + `code`.
    pub fn up(script: &str, tag: &str, code: char, args: &[&str]) -> Lab {
        let lab = Lab {
            prefix: format!("{tag}{}{code}", std::process::id() % 100_000),
            script: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(script),
        };
        let out = Command::new(&lab.script)
            .arg("up")
            .arg(&lab.prefix)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {script}: {e}"));
        assert!(
            out.status.success(),
            "{script} up {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        lab
    }

    /// The name of the namespace with `role`.
    pub fn ns(&self, role: char) -> String {
        format!("{}{role}", self.prefix)
    }
}

impl Lab {
    /// Runs `voipdiag ARGS…` in namespace `role` with `env` set (and `VOIPDIAG_PASSWORD`
    /// removed unless given there).
    pub fn voipdiag(&self, role: char, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.ns(role)])
            .arg(env!("CARGO_BIN_EXE_voipdiag"))
            .args(args)
            .stdin(Stdio::null())
            .env_remove("VOIPDIAG_PASSWORD")
            .env_remove("VOIPDIAG_TURN_PASSWORD")
            .env_remove("VOIPDIAG_TURN_SECRET");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run voipdiag")
    }

    /// Runs `voipdiag --json ARGS…` in namespace `role`: (exit code, the JSON report).
    /// Panics, with stdout and stderr, when the output is not JSON.
    pub fn voipdiag_json(&self, role: char, args: &[&str]) -> (i32, serde_json::Value) {
        let (code, v, _) = self.voipdiag_json_env(role, args, &[]);
        (code, v)
    }

    /// As [`Lab::voipdiag_json`] with `env` set; also returns the output.
    pub fn voipdiag_json_env(
        &self,
        role: char,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, serde_json::Value, Output) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.voipdiag(role, &all, env);
        let v = json_of(&out, &format!("{args:?}"));
        (out.status.code().unwrap_or(-1), v, out)
    }
}

impl Lab {
    /// Starts `voipdiag ARGS…` in namespace `role`, sends it SIGINT (Ctrl-C) after `after`,
    /// and returns what it printed and its exit status.
    pub fn voipdiag_interrupted(
        &self,
        role: char,
        args: &[&str],
        after: std::time::Duration,
    ) -> std::process::Output {
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(role)])
            .arg(env!("CARGO_BIN_EXE_voipdiag"))
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("run voipdiag");
        std::thread::sleep(after);
        // `ip netns exec` execs the binary, so the child's pid is voipdiag's.
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success());
        child.wait_with_output().expect("wait for voipdiag")
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new(&self.script)
            .args(["down", &self.prefix])
            .status();
    }
}

/// The test data directory, `tests/data` of this checkout (captures, SIP messages; see its
/// README.md for sources and licences).
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Whether `tool` is installed; says why not and returns false (panics in CI, see
/// [`required`]). For oracle tools such as tshark that need no root.
pub fn tool_available(tool: &str, hint: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    found || skip_or_fail::<()>(&format!("{tool} is not installed ({hint})")).is_some()
}
