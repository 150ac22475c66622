//! `kubectl-sluice`: watch and drive Sluice rollouts from kubectl (`kubectl sluice ...`).

use std::process::ExitCode;

use clap::{CommandFactory as _, Parser as _};

mod cli;
mod cluster;
mod commands;

use cli::{AppCommand, AppsetCommand, Cli, Command, CreateWhat, GetWhat, ListWhat, RetryWhat, SetWhat, TerminateWhat};
use cluster::CliError;
use commands::{app, app_diff, app_revert, appset, create, get, mutate, status};

async fn run(cli: Cli) -> Result<(), CliError> {
    let colour = cluster::colour(&cli.global);
    let command = match cli.command {
        Command::Lint { files } => {
            return if plugin::lint::run(&files, &mut std::io::stdout().lock()) == ExitCode::SUCCESS {
                Ok(())
            } else {
                Err(CliError::Other("lint found problems".into()))
            };
        }
        Command::Health { files } => {
            return plugin::health::run(&files, &mut std::io::stdout().lock())
                .map_err(|e| CliError::Other(e.to_string()));
        }
        Command::Version => {
            println!("kubectl-sluice {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Command::Completion { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "kubectl-sluice", &mut std::io::stdout());
            return Ok(());
        }
        other => other,
    };
    let app_namespace = cli.global.namespace.clone().unwrap_or_else(|| "argocd".into());
    let (client, ns) = cluster::connect(&cli.global).await?;
    let (client, ns) = (&client, ns.as_str());
    match command {
        Command::App { what } => run_app(client, &app_namespace, what).await,
        Command::Appset {
            what: AppsetCommand::Get { name, output },
        } => appset::get(client, &app_namespace, &name, output).await,
        Command::Get {
            what: GetWhat::Rollout { name, watch, output },
        } => get::rollout(client, ns, &name, watch, output, colour).await,
        Command::List {
            what:
                ListWhat::Rollouts {
                    all_namespaces,
                    watch,
                    output,
                },
        } => get::list(client, ns, all_namespaces, watch, output).await,
        Command::Promote { name, full } => mutate::run(client, ns, &name, |r| plugin::patches::promote(r, full)).await,
        Command::Abort { names } => {
            for name in names {
                mutate::run(client, ns, &name, plugin::patches::abort).await?;
            }
            Ok(())
        }
        Command::Retry {
            what: RetryWhat::Rollout { name },
        } => mutate::run(client, ns, &name, plugin::patches::retry).await,
        Command::Pause { names } => {
            for name in names {
                mutate::run(client, ns, &name, |r| Ok(plugin::patches::pause(r))).await?;
            }
            Ok(())
        }
        Command::Restart { name, delay } => {
            let offset = match delay.as_deref() {
                Some(d) => crds::duration::parse(d).map_err(|e| CliError::Other(e.to_string()))?,
                None => crds::duration::Duration::from_secs(0),
            };
            let at = crds::clock::system().now() + jiff::SignedDuration::from_nanos(offset.as_nanos());
            mutate::run(client, ns, &name, |r| Ok(plugin::patches::restart(r, at))).await
        }
        Command::Set {
            what: SetWhat::Image { name, image },
        } => mutate::run(client, ns, &name, |r| plugin::patches::set_image(r, &image)).await,
        Command::Undo { name, to_revision } => mutate::undo(client, ns, &name, to_revision).await,
        Command::Status {
            name,
            watch,
            timeout,
            output,
        } => status::run(client, ns, &name, watch, timeout.as_deref(), output).await,
        Command::Create {
            what:
                CreateWhat::Analysisrun {
                    from,
                    global,
                    args,
                    name,
                },
        } => create::analysisrun(client, ns, &from, global, &args, name).await,
        Command::Terminate {
            what: TerminateWhat::Analysisrun { name },
        } => mutate::terminate_run(client, ns, &name).await,
        Command::Lint { .. } | Command::Health { .. } | Command::Version | Command::Completion { .. } => Ok(()),
    }
}

async fn run_app(client: &kube::Client, ns: &str, what: AppCommand) -> Result<(), CliError> {
    match what {
        AppCommand::List { all_namespaces, output } => app::list(client, ns, all_namespaces, output).await,
        AppCommand::Get { name, output } => app::get(client, ns, &name, output).await,
        AppCommand::History { name } => app::history(client, ns, &name).await,
        AppCommand::Revert {
            name,
            to_revision,
            dry_run,
        } => app_revert::revert(client, ns, &name, to_revision.as_deref(), dry_run).await,
        AppCommand::Wait {
            name,
            health,
            sync,
            timeout,
        } => app::wait(client, ns, &name, health, sync, timeout.as_deref()).await,
        AppCommand::Sync {
            name,
            prune,
            revision,
            no_wait,
            timeout,
            allow_reverted,
        } => {
            let request = app::SyncRequest {
                prune,
                revision,
                no_wait,
                timeout,
                allow_reverted,
            };
            app::sync(client, ns, &name, &request).await
        }
        AppCommand::Diff { name } => match app_diff::diff(client, ns, &name).await? {
            true => Err(CliError::Silent),
            false => Ok(()),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::Other(message)) if message == "lint found problems" => ExitCode::FAILURE,
        Err(CliError::Silent) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}
