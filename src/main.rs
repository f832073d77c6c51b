//! The `voipdiag` binary: parse arguments, run the command, render its report, exit with its
//! code (0 ok, 1 problem, 2 usage, 3 no answer, 4 internal error).

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;

use voipdiag::cli::{Cli, ColorChoice, Command, GlobalArgs};
use voipdiag::commands::{self, CommandError};
use voipdiag::report::{Describe, Report, exit, render_human, render_json, terminal_safe};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
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
        ),
        Command::SipOptions(args) => emit(
            runtime.block_on(commands::sip_options::run(&global, &args)),
            &global,
        ),
        Command::Register(args) => emit(
            runtime.block_on(commands::register::run(&global, &args)),
            &global,
        ),
        Command::Call(args) => emit(
            runtime.block_on(commands::call::run(&global, &args)),
            &global,
        ),
        Command::PcapDecode(args) => emit(
            runtime.block_on(commands::pcap_decode::run(&global, &args)),
            &global,
        ),
        Command::EnumLookup(args) => emit(
            runtime.block_on(commands::enum_lookup::run(&global, &args)),
            &global,
        ),
        Command::UpnpMap(args) => emit(
            runtime.block_on(commands::upnp_map::run(&global, &args)),
            &global,
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

/// Prints a report (stdout carries only the report) and maps its status to the exit code.
fn emit<T: Serialize + Describe>(
    result: Result<Report<T>, CommandError>,
    global: &GlobalArgs,
) -> ExitCode {
    let report = match result {
        Ok(r) => r,
        Err(CommandError::Usage(msg)) => {
            eprintln!("voipdiag: {}", terminal_safe(&msg));
            return ExitCode::from(exit::USAGE);
        }
        Err(CommandError::Internal(e)) => {
            eprintln!(
                "voipdiag: internal error: {}",
                terminal_safe(&format!("{e:#}"))
            );
            return ExitCode::from(exit::INTERNAL);
        }
    };
    let text = if global.json {
        render_json(&report)
    } else {
        let color = match global.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
            }
        };
        render_human(&report, color, global.verbose > 0)
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
