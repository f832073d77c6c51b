//! The `voipdiag` binary: parse arguments, run the command, render its report, exit with its
//! code (0 ok, 1 problem, 2 usage, 3 no answer, 4 internal error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use serde::Serialize;

use voipdiag::cli::{Cli, ColorChoice, Command, GlobalArgs};
use voipdiag::commands::{self, CommandError};
use voipdiag::report::{Describe, Report, exit, render_human, render_json, terminal_safe};

fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return ExitCode::from(exit::OK); // --help, --version
            }
            // Under --json stdout is always one JSON document, usage errors included.
            let args: Vec<String> = std::env::args().collect();
            if args.iter().any(|a| a == "--json") {
                let command = args
                    .iter()
                    .skip(1)
                    .find(|a| Cli::command_names().contains(&a.as_str()))
                    .cloned();
                let message = e
                    .render()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("")
                    .trim_start_matches("error: ")
                    .to_string();
                print_error_document(command.as_deref(), "USAGE_ERROR", &message);
            }
            return ExitCode::from(exit::USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("voipdiag: cannot start the async runtime: {e}");
            return ExitCode::from(exit::INTERNAL);
        }
    };
    let global = cli.global.clone();
    match cli.command {
        Command::NatProbe(args) => emit(
            runtime.block_on(commands::nat_probe::run(&global, &args)),
            &global,
            "nat-probe",
        ),
        Command::SipOptions(args) => emit(
            runtime.block_on(commands::sip_options::run(&global, &args)),
            &global,
            "sip-options",
        ),
        Command::Register(args) => emit(
            runtime.block_on(commands::register::run(&global, &args)),
            &global,
            "register",
        ),
        Command::Call(args) => emit(
            runtime.block_on(commands::call::run(&global, &args)),
            &global,
            "call",
        ),
        Command::PcapDecode(args) => emit(
            runtime.block_on(commands::pcap_decode::run(&global, &args)),
            &global,
            "pcap-decode",
        ),
        Command::EnumLookup(args) => emit(
            runtime.block_on(commands::enum_lookup::run(&global, &args)),
            &global,
            "enum-lookup",
        ),
        Command::UpnpMap(args) => emit(
            runtime.block_on(commands::upnp_map::run(&global, &args)),
            &global,
            "upnp-map",
        ),
        Command::Generate(args) => match commands::generate::write_all(&args.out_dir) {
            Ok(paths) => {
                for p in paths {
                    eprintln!("wrote {}", p.display());
                }
                ExitCode::from(exit::OK)
            }
            Err(e) => {
                eprintln!("voipdiag: {}", terminal_safe(&format!("{e:#}")));
                ExitCode::from(exit::INTERNAL)
            }
        },
    }
}

/// The report envelope of a command that could not run (DESIGN's output contract: under
/// `--json` stdout is always one JSON document): `status: "error"`, one critical finding
/// with `code` and the message, `result: null`.
// The binary's edge stamps the document as commands' reports are stamped.
#[allow(clippy::disallowed_methods)]
fn print_error_document(command: Option<&str>, code: &str, message: &str) {
    let doc = serde_json::json!({
        "command": command,
        "version": env!("CARGO_PKG_VERSION"),
        "started_at": humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        "duration_ms": 0,
        "status": "error",
        "findings": [{"code": code, "severity": "critical", "message": message}],
        "result": null,
    });
    println!("{doc}");
}

/// Colour when `--color auto`, by the conventions of no-color.org and bixense.com/clicolors:
/// `CLICOLOR_FORCE` (set, not "0") colours even a pipe; `NO_COLOR` (set and non-empty) and
/// `TERM=dumb` turn it off; otherwise only on a terminal.
fn auto_color(terminal: bool) -> bool {
    let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
        return true;
    }
    if set("NO_COLOR").is_some() || std::env::var_os("TERM").is_some_and(|t| t == "dumb") {
        return false;
    }
    terminal
}

/// The width human tables are fitted into: `COLUMNS` when set to a positive number, else
/// the terminal's width when stdout is one (0, as some terminals report, counts as
/// unknown), else none (a pipe: tables keep their natural width).
fn output_width() -> Option<u16> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|v| v.trim().parse::<u16>().ok())
        .filter(|c| *c > 0);
    columns.or_else(|| {
        std::io::stdout()
            .is_terminal()
            .then(|| comfy_table::Table::new().width())
            .flatten()
            .filter(|w| *w > 0)
    })
}

/// Prints a report (stdout carries only the report) and maps its status to the exit code.
fn emit<T: Serialize + Describe>(
    result: Result<Report<T>, CommandError>,
    global: &GlobalArgs,
    command: &str,
) -> ExitCode {
    let mut report = match result {
        Ok(r) => r,
        Err(CommandError::Usage(msg)) => {
            eprintln!("voipdiag: {}", terminal_safe(&msg));
            if global.json {
                print_error_document(Some(command), "INPUT_ERROR", &msg);
            }
            return ExitCode::from(exit::USAGE);
        }
        Err(CommandError::Internal(e)) => {
            let msg = format!("{e:#}");
            eprintln!("voipdiag: internal error: {}", terminal_safe(&msg));
            if global.json {
                print_error_document(Some(command), "INTERNAL_ERROR", &msg);
            }
            return ExitCode::from(exit::INTERNAL);
        }
    };
    report.status = voipdiag::report::exit_rule(
        report.status,
        &report.findings,
        global.fail_on == voipdiag::cli::FailOn::Warning,
    );
    if global.quiet {
        return ExitCode::from(report.status.exit_code());
    }
    let text = if global.json {
        render_json(&report)
    } else {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => auto_color(std::io::stdout().is_terminal()),
        };
        render_human(&report, color, global.verbose > 0, output_width())
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("voipdiag: cannot write the report: {e}");
        return ExitCode::from(exit::INTERNAL);
    }
    ExitCode::from(report.status.exit_code())
}
