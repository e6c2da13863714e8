//! `hush`: Hush on the command line. The same client engine as the browser app (`hush-client`),
//! on the native platform: HTTPS with rustls to a relay, the vault's sealed records in
//! `DIR/vault.sqlite`.

mod account;
mod commands;
mod community;
mod error;
mod net;
mod platform;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use crypto_core::identity::SessionId;
use hush_node::networks::SessionNetwork;

use crate::account::{Route, RouteChoice};
use crate::error::{EXIT_CODES, Failure};

/// Hush on the command line: private messages over the Session network.
///
/// The passphrase comes from HUSH_PASSPHRASE, or is asked on the terminal. The relay (or Session
/// network) given to a command is kept for the next ones.
#[derive(Debug, Parser)]
#[command(name = "hush", version, after_help = EXIT_CODES)]
struct Args {
    /// The folder of this account: its vault (vault.sqlite, every record sealed).
    #[arg(long, value_name = "DIR")]
    data: PathBuf,
    /// The relay to reach the network through [default for a new account: http://127.0.0.1:8080]
    #[arg(long, value_name = "URL", conflicts_with = "network")]
    relay: Option<String>,
    /// A Session network by name (mainnet, testnet): hush runs a relay for it in this process, on
    /// a loopback port, with the network's seeds and their certificate pins.
    #[arg(long, value_name = "NAME")]
    network: Option<SessionNetwork>,
    /// The trusted service nodes that the relay's node list is checked against (a network.json,
    /// or the devnet.json of a local network): needed with --relay, kept for the next commands.
    /// A Session network by name has its own built in.
    #[arg(long, value_name = "FILE", conflicts_with = "network")]
    anchors: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates an account with a new Session ID and prints the ID. The recovery phrase is shown
    /// once, on stderr: write it down.
    Create {
        /// The display name others see.
        #[arg(long)]
        name: String,
    },
    /// Restores an account from its recovery phrase (read from stdin) and prints its Session ID.
    /// In a folder that holds that account already, the new passphrase replaces the old one.
    Restore {
        /// The display name others see, unless the account's profile (pulled from its swarm)
        /// has one.
        #[arg(long)]
        name: String,
    },
    /// Prints the account's Session ID.
    Id,
    /// Sends TEXT (and files) to SESSION_ID; exits 0 once it is stored in the recipient's swarm
    /// (its files uploaded to the file server first, encrypted, through onion paths).
    Send {
        /// The recipient's Session ID (66 hex characters, 05…).
        session_id: SessionId,
        /// The message (with files, their caption; may be left out).
        #[arg(default_value = "")]
        text: String,
        /// A file to send with it (repeatable, at most 32, each at most 10,000,000 bytes).
        #[arg(long = "file", value_name = "PATH")]
        files: Vec<PathBuf>,
        /// Seconds to wait for the swarm to confirm it (exit code 5 after that).
        #[arg(long, value_name = "SECONDS", default_value_t = 120)]
        timeout: u64,
    },
    /// Prints the new incoming messages (since the last `inbox`), oldest first.
    Inbox {
        /// Keep printing new messages as they arrive, until interrupted (Ctrl-C, SIGTERM).
        #[arg(long)]
        follow: bool,
        /// One JSON object per line: {"from","text","timestamp","hash"}.
        #[arg(long)]
        json: bool,
    },
    /// Saves file INDEX of the message MESSAGE (the `hash` inbox prints, or a message's id) to
    /// PATH: downloaded through an onion path if not on this device yet, and checked first.
    Save {
        /// The message: the `hash` `inbox --json` prints, or its id (`in/…`, `out/…`).
        message: String,
        /// Which of its files (0 for the first).
        #[arg(long, default_value_t = 0)]
        index: usize,
        /// Where to write it (an existing file is not overwritten).
        #[arg(long, value_name = "PATH")]
        to: PathBuf,
    },
    /// Sets the profile picture (PATH: the picture, as it is) or, with --remove, removes it: messages
    /// sent from now on carry it. With --of, saves that contact's picture to --to instead.
    Avatar {
        /// The picture.
        #[arg(required_unless_present_any = ["remove", "of"], conflicts_with_all = ["remove", "of"])]
        path: Option<PathBuf>,
        /// Remove the picture instead.
        #[arg(long, conflicts_with = "of")]
        remove: bool,
        /// A contact whose picture to save (fetched through an onion path and checked first).
        #[arg(long, value_name = "SESSION_ID", requires = "to")]
        of: Option<SessionId>,
        /// Where to save it (an existing file is not overwritten).
        #[arg(long, value_name = "PATH")]
        to: Option<PathBuf>,
    },
    /// Lists the conversations, most recent first (message requests too; blocked ones last).
    Conversations {
        /// One JSON object per line: {"peer","name","standing","unread","last_activity","preview"}.
        #[arg(long)]
        json: bool,
    },
    /// Communities: join a room by its URL, list, read and post, leave (through onion paths).
    Community {
        #[command(subcommand)]
        action: community::Action,
    },
    /// Accepts the message request of SESSION_ID (they are told, through the outbox).
    Accept {
        /// The Session ID whose request to accept.
        session_id: SessionId,
        /// Seconds to wait for the acceptance to be stored in their swarm (exit code 5 after that).
        #[arg(long, value_name = "SECONDS", default_value_t = 120)]
        timeout: u64,
    },
}

async fn run(args: Args) -> Result<(), Failure> {
    let choice: RouteChoice = match (args.relay, args.network) {
        (Some(url), _) => Some(Route::Relay(url)),
        (None, Some(network)) => Some(Route::Network(network)),
        (None, None) => None,
    };
    // Read before anything is written, so a bad file changes nothing.
    let anchors = args.anchors.as_deref().map(account::read_anchors).transpose()?;
    let anchors = anchors.as_ref();
    let dir = args.data;
    match args.command {
        Command::Create { name } => {
            let opened = account::create(&dir, &name, &choice).await?;
            account::keep_anchors(&opened, anchors).await?;
            if let Some(phrase) = opened.engine.recovery_phrase() {
                eprintln!(
                    "Your recovery phrase is on the next line. Write it down and keep it secret: it restores this \
                     account (hush restore), and anyone who has it can read your messages and write as you. Hush \
                     shows it only now."
                );
                eprintln!("{}", phrase.as_str());
            }
            commands::id(&opened)
        }
        Command::Restore { name } => {
            let opened = account::restore(&dir, &name, &choice).await?;
            account::keep_anchors(&opened, anchors).await?;
            // The account's configs (profile, contacts, read state) from its swarm: a name the
            // profile holds replaces `--name`. Not reached now, the next poll brings them.
            let _ = opened.engine.pull_configs().await;
            commands::id(&opened)
        }
        Command::Id => {
            let opened = account::unlock(&dir).await?;
            account::route(&opened, &choice).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::id(&opened)
        }
        Command::Send { session_id, text, files, timeout } => {
            // Read before anything is kept, so a missing file sends nothing.
            let files = commands::read_files(&files)?;
            let opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::send(&opened, &choice, &session_id, &text, files, Duration::from_secs(timeout)).await
        }
        Command::Avatar { path, remove, of, to } => {
            let picture = match &path {
                Some(p) => Some(
                    std::fs::read(p)
                        .map_err(|e| Failure::Folder { what: format!("read {}", p.display()), error: e })?,
                ),
                None => None,
            };
            let opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            match (of, to) {
                (Some(peer), Some(to)) => commands::save_avatar(&opened, &choice, &peer, &to).await,
                _ => commands::avatar(&opened, &choice, picture.as_deref().filter(|_| !remove)).await,
            }
        }
        Command::Save { message, index, to } => {
            let opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::save(&opened, &choice, &message, index, &to).await
        }
        Command::Inbox { follow, json } => {
            let mut opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::inbox(&mut opened, &choice, follow, json).await
        }
        Command::Conversations { json } => {
            let opened = account::unlock(&dir).await?;
            account::route(&opened, &choice).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::conversations(&opened, json).await
        }
        Command::Community { action } => {
            let opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            community::run(&opened, &choice, action).await
        }
        Command::Accept { session_id, timeout } => {
            let opened = account::unlock(&dir).await?;
            account::keep_anchors(&opened, anchors).await?;
            commands::accept(&opened, &choice, &session_id, Duration::from_secs(timeout)).await
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("hush: could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The engine is single-threaded: it runs on this thread, with the relay of `--network` (if
    // any) as tasks beside it.
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("hush: {failure}");
            ExitCode::from(failure.exit_code())
        }
    }
}
