//! `voipdiag generate`: shell completions and man pages from the clap definitions, so they
//! never drift from the code (a test regenerates them and compares with the committed copies).

use std::fs;
use std::path::Path;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;

/// Writes `completions/` (bash, zsh, fish, elvish, powershell) and `man/` (the main page and
/// one page per visible subcommand) under `out_dir`.
///
/// Errors: any file-system error, with the path.
pub fn write_all(out_dir: &Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let mut written = Vec::new();
    let comp_dir = out_dir.join("completions");
    fs::create_dir_all(&comp_dir).map_err(|e| anyhow::anyhow!("{}: {e}", comp_dir.display()))?;
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let mut cmd = completion_command();
        let path = clap_complete::generate_to(shell, &mut cmd, "voipdiag", &comp_dir)
            .map_err(|e| anyhow::anyhow!("{}: {e}", comp_dir.display()))?;
        written.push(path);
    }
    let man_dir = out_dir.join("man");
    fs::create_dir_all(&man_dir).map_err(|e| anyhow::anyhow!("{}: {e}", man_dir.display()))?;
    let mut cmd = Cli::command();
    // Propagates global options into each subcommand, so every page lists them.
    cmd.build();
    let mut pages = vec![("voipdiag.1".to_string(), cmd.clone())];
    for sub in cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = format!("voipdiag-{}", sub.get_name());
        pages.push((
            format!("{name}.1"),
            sub.clone()
                .name(name.clone())
                .display_name(name)
                .bin_name(format!("voipdiag {}", sub.get_name())),
        ));
    }
    for (file, page) in pages {
        let mut buf = Vec::new();
        clap_mangen::Man::new(page)
            .render(&mut buf)
            .map_err(|e| anyhow::anyhow!("rendering {file}: {e}"))?;
        let path = man_dir.join(&file);
        fs::write(&path, buf).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// The command line as completions offer it: without hidden subcommands (`generate`) and
/// hidden options (`--seed`, pcap-decode's refused network options). clap_complete offers
/// hidden items too and clap cannot remove one, so this rebuilds the tree from the visible
/// parts; the global options are added to each subcommand that does not shadow them (as
/// clap's propagation does).
fn completion_command() -> clap::Command {
    let cli = Cli::command();
    let globals: Vec<clap::Arg> = cli
        .get_arguments()
        .filter(|a| a.is_global_set() && !a.is_hide_set())
        .map(|a| a.clone().global(false))
        .collect();
    let mut out = clap::Command::new(cli.get_name().to_string())
        .version(cli.get_version().unwrap_or_default().to_string())
        .propagate_version(true);
    if let Some(about) = cli.get_about() {
        out = out.about(about.clone());
    }
    out = out.args(globals.iter().cloned());
    for sc in cli.get_subcommands().filter(|s| !s.is_hide_set()) {
        let mut c = clap::Command::new(sc.get_name().to_string());
        if let Some(about) = sc.get_about() {
            c = c.about(about.clone());
        }
        c = c.args(sc.get_arguments().filter(|a| !a.is_hide_set()).cloned());
        for g in &globals {
            if sc.get_arguments().all(|a| a.get_id() != g.get_id()) {
                c = c.arg(g.clone());
            }
        }
        out = out.subcommand(c);
    }
    out
}
