//! Shared by the lab tests: whether the lab can run here, and the skip-or-fail rule.

use std::process::{Command, Stdio};

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
/// (`VOIPDIAG_LAB_REQUIRED=1`).
pub fn lab_available(tools: &[&str], hint: &str) -> bool {
    match prerequisites(tools, hint) {
        Ok(()) => true,
        Err(why) if std::env::var("VOIPDIAG_LAB_REQUIRED").as_deref() == Ok("1") => {
            panic!("lab required (VOIPDIAG_LAB_REQUIRED=1) but unavailable: {why}")
        }
        Err(why) => {
            eprintln!("SKIP lab test: {why}");
            false
        }
    }
}
