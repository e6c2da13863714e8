//! Receiving: the poll loop fetches namespace 0 of the account's swarm (with the config
//! namespaces, in one `batch`: see `crate::sync`), opens each message, files what a person reads
//! (text, and a placeholder for what Hush cannot show yet) and applies what the protocol says
//! besides (a message request accepted).
//!
//! The hashes seen and the `last_hash` per node are kept in memory and written to the vault only
//! when they changed, after the messages they cover are filed (so a reload never skips one).

use std::rc::Rc;
use std::time::Duration;

use crypto_core::identity::SessionId;
use crypto_core::message::{self, Received};
use crypto_core::network::{Backoff, Failure};

use crate::actions;
use crate::avatars;
use crate::conversations::{self, Incoming, Message, Standing};
use crate::disappearing;
use crate::event::Event;
use crate::platform::{Clock, Platform};
use crate::session::Session;
use crate::storage::stores;
use crate::sync;
use crate::text;

/// `account` record: the hashes of messages already handled.
const SEEN_ID: &[u8] = b"seen-hashes";
/// How many handled hashes are kept.
const SEEN_KEEP: usize = 5_000;
/// The longest the poll loop sleeps before it looks again whether its session is still alive.
const STILL_ALIVE_MS: u64 = 1_500;
/// `account` record: the peers whose `MessageRequestResponse` (approved) arrived.
pub(crate) const APPROVED_ME_ID: &[u8] = b"approved-me";

/// Whether the `MessageRequestResponse` of `peer` (accepting this account's message request)
/// arrived.
pub(crate) async fn approved_me<P: Platform>(session: &Session<P>, peer: &SessionId) -> bool {
    let approved: Vec<SessionId> = session.load(stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    approved.contains(peer)
}

/// Files what a received message says besides text: a `MessageRequestResponse` (approved) marks
/// its sender as having accepted our message request and carries their display name. Returns
/// whether anything changed. Messages from blocked people and from this account itself change
/// nothing.
async fn file_control<P: Platform>(session: &Session<P>, received: &Received) -> bool {
    let Some(response) = &received.content.message_request_response else { return false };
    if response.is_approved != Some(true) || received.sender == session.me() {
        return false;
    }
    let peer = received.sender;
    let _guard = session.writes.lock().await;
    let Ok(Some(mut c)) = conversations::conversation(&session.vault, &peer).await else { return false };
    if c.standing == Standing::Blocked {
        return false;
    }
    let mut approved: Vec<SessionId> = session.load(stores::ACCOUNT, APPROVED_ME_ID).await.unwrap_or_default();
    let mut changed = false;
    if !approved.contains(&peer) {
        approved.push(peer);
        let saved = session.save(stores::ACCOUNT, APPROVED_ME_ID, &approved).await;
        changed = saved.is_ok();
        session.kept(saved);
    }
    let name = response.profile.as_ref().and_then(|p| p.display_name.as_deref()).and_then(text::name);
    if let Some(name) = name
        && c.name.as_deref() != Some(name.as_str())
    {
        c.name = Some(name);
        let saved = conversations::save(&session.vault, &c).await;
        changed |= saved.is_ok();
        session.kept(saved);
    }
    drop(_guard);
    if let Some(change) = avatars::change_of(response.profile.as_ref(), response.profile_key.as_deref()) {
        changed |= avatars::apply(session, &peer, change).await;
    }
    changed
}

/// Sets the disappearing-messages setting of the conversation with `peer`, as another device of
/// this account set it.
async fn follow<P: Platform>(session: &Session<P>, peer: &SessionId, setting: Option<conversations::Disappearing>) {
    let _guard = session.writes.lock().await;
    if let Ok(Some(mut c)) = conversations::conversation(&session.vault, peer).await
        && c.disappearing != setting
    {
        c.disappearing = setting;
        session.kept(conversations::save(&session.vault, &c).await);
    }
}

/// Links a received reply's quote to the quoted message on this device (so a click can jump to
/// it) and, when the reply carried no text for it, takes the quoted message's.
async fn resolve_quote<P: Platform>(session: &Session<P>, peer: &SessionId, quote: &mut conversations::Quoted) {
    let by_me = quote.author == session.me();
    if !by_me && quote.author != *peer {
        return;
    }
    if let Ok(Some(original)) = conversations::find_sent(&session.vault, peer, by_me, quote.timestamp).await {
        if quote.text.is_empty() {
            quote.text = conversations::quote_text(&original.shown_text());
        }
        quote.id = Some(original.id);
    }
}

/// Writes a message and updates its conversation, under the session's write lock, so messages
/// filed at the same moment (a send while the poll files incoming ones) all stay in it.
pub(crate) async fn record<P: Platform>(
    session: &Session<P>,
    msg: &Message,
    name: Option<String>,
    unread: bool,
    standing: Standing,
) -> Result<(), crate::storage::StorageError> {
    let _guard = session.writes.lock().await;
    conversations::file(&session.vault, msg, name, unread, standing).await
}

/// Fetches and files new messages once. Malformed or undecryptable items are skipped and never
/// block the others. Returns the messages filed (new ones, oldest first); an error is the network
/// client's (the poll loop backs off on it).
pub(crate) async fn poll_once<P: Platform>(session: &Session<P>) -> Result<Vec<Message>, Failure> {
    let extend = sync::extend_request(session).await;
    let polled = match session.client.poll_batch(&session.identity, &sync::POLL_NAMESPACES, extend.as_slice()).await {
        Ok((polled, extended)) => {
            if extend.is_some() && extended {
                sync::extended(session);
            }
            polled
        }
        Err(e) => {
            // Paths may have changed (new guards) even though the poll failed.
            session.kept(session.client.persist(&session.vault).await);
            return Err(e);
        }
    };
    let (messages, configs): (Vec<_>, Vec<_>) = polled.into_iter().partition(|(ns, _)| *ns == 0);
    let items: Vec<crate::network::Stored> = messages.into_iter().flat_map(|(_, items)| items).collect();
    // The configs first: a contact blocked or a conversation read on another device applies to
    // the messages filed below.
    let configs_kept = sync::receive(session, &configs).await;
    if configs_kept {
        sync::seed_contacts(session).await;
    }
    // Merged or edited here: pushed now (a failure is tried again at a later poll).
    let _ = sync::push(session, false).await;
    let me = session.me();
    // The time these arrived: a sent time later than this (or long before) is not believed.
    let arrival = session.client.now();
    let mut changed = false;
    let mut filed_all = configs_kept;
    let mut filed = Vec::new();
    let mut read_now: Vec<Message> = Vec::new();
    for item in &items {
        let Ok(received) = message::open_message(&session.identity, &item.data) else { continue };
        changed |= file_control(session, &received).await;
        if let Some(acted) = actions::receive(session, &received, arrival).await {
            changed |= acted;
            continue;
        }
        let Incoming::Add { mut message, name, unread } = conversations::incoming(&received, &item.hash, &me, arrival)
        else {
            continue;
        };
        if session.load::<Message>(stores::MESSAGES, message.id.as_bytes()).await.is_some()
            || (message.outgoing && crate::outbox::is_resealed_copy(session, &message.id).await)
        {
            continue;
        }
        let existing = conversations::conversation(&session.vault, &message.peer).await.ok().flatten();
        if existing.as_ref().is_some_and(|c| c.standing == Standing::Blocked) {
            continue;
        }
        let viewing = session.viewing.get() == Some(message.peer);
        let standing = if message.outgoing { Standing::Accepted } else { Standing::Request };
        if let Some(quote) = message.quote.as_mut() {
            resolve_quote(session, &message.peer, quote).await;
        }
        let read_elsewhere = !message.outgoing && sync::read_elsewhere(session, &message.peer, message.sent_at());
        match record(session, &message, name, unread && !viewing && !read_elsewhere, standing).await {
            Ok(()) => {
                changed = true;
                if !message.outgoing
                    && let Some(data) = &received.content.data_message
                    && let Some(change) = avatars::change_of(data.profile.as_ref(), data.profile_key.as_deref())
                {
                    avatars::apply(session, &message.peer, change).await;
                }
                if viewing && !message.outgoing && message.notice.is_none() {
                    read_now.push(message.clone());
                }
                if let Some(at) = message.expires_at {
                    disappearing::track(session, &message.id, at).await;
                }
                if message.outgoing
                    && let Some(conversations::Notice::Disappearing(setting)) = message.notice
                {
                    // Set on another of this account's devices: this conversation's setting here too.
                    follow(session, &message.peer, setting).await;
                }
                filed.push(message);
            }
            // It comes again with the next poll after a reload: nothing marks it handled.
            Err(e) => {
                filed_all = false;
                session.kept(Err(e));
            }
        }
    }
    for m in &filed {
        session.emit(Event::Message { message: m.clone(), arrived: !m.outgoing });
    }
    // Read as they arrived (the person is looking at their conversation): a receipt for each peer,
    // and the read state for this account's other devices.
    let mut peers: Vec<SessionId> = read_now.iter().map(|m| m.peer).collect();
    peers.dedup();
    for peer in peers {
        let times: Vec<u64> = read_now.iter().filter(|m| m.peer == peer).map(Message::sent_at).collect();
        actions::send_read(session, &peer, &times).await;
        sync::read(session, &peer).await;
    }
    disappearing::read(session, &read_now).await;
    if changed {
        session.emit(Event::Conversations);
    }
    // A message that could not be filed must come again after a reload: then nothing is saved.
    if filed_all {
        if let Some(seen) = session.client.seen_to_save(SEEN_KEEP)
            && session.save(stores::ACCOUNT, SEEN_ID, &seen).await.is_err()
        {
            session.client.seen_not_saved();
        }
        session.kept(session.client.persist(&session.vault).await);
    }
    Ok(filed)
}

/// Restores what the poll remembers after an unlock: the hashes already handled, and the network
/// client's guards and `last_hash` per node; new guards are saved as soon as they are chosen.
pub(crate) async fn restore<P: Platform>(session: &Session<P>) {
    if session.restored.replace(true) {
        return;
    }
    let seen: Vec<String> = session.load(stores::ACCOUNT, SEEN_ID).await.unwrap_or_default();
    session.client.remember(seen);
    session.client.restore(&session.vault).await;
}

/// Polls about every 1.5 s while a person is looking, every 10 s when not (and at once when they
/// look again), until `alive` says the session is over; after failures it waits longer (doubling
/// up to 30 s), and returns to the normal period after a success. A success after failures tells
/// the outbox the network is back.
pub(crate) async fn poll_loop<P: Platform>(session: Rc<Session<P>>, alive: impl Fn() -> bool) {
    let clock = &session.world.clock;
    let mut backoff = Backoff::default();
    let mut failing = false;
    loop {
        if !alive() {
            return;
        }
        let started = clock.now_ms();
        match poll_once(&session).await {
            Ok(_) => {
                backoff.succeeded();
                if failing {
                    failing = false;
                    session.retry_failed.set(true);
                    session.wake_outbox();
                }
            }
            Err(e) => {
                failing = true;
                backoff.failed(&e);
            }
        }
        // The period is counted from the start of one poll to the next, and looked at again
        // whenever visibility changes: a page that comes back polls at once instead of finishing
        // the hidden period's wait.
        let mut least = 50;
        loop {
            if !alive() {
                return;
            }
            let visible = clock.visible();
            let period = backoff.delay_ms(visible);
            let left = period.saturating_sub(clock.now_ms().saturating_sub(started)).max(least);
            if left == 0 {
                break;
            }
            // In steps of at most a normal period, so a session that ended (a lock) is let go of
            // soon even while a long back-off runs.
            clock.nap(Duration::from_millis(left.min(STILL_ALIVE_MS))).await;
            least = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::time::Instant;

    use crypto_core::identity::{Identity, Seed};
    use crypto_core::vault::KdfParams;
    use crypto_core::wire::{Content, LokiProfile, MessageRequestResponse};
    use futures::executor::block_on;
    use rand_core::OsRng;

    use super::*;
    use crate::account::Account;
    use crate::conversations::Conversation;
    use crate::storage::{MemoryBackend, Vault};
    use crate::testing::{Offline, offline_world};

    fn session() -> (Rc<Session<Offline>>, Rc<RefCell<Vec<Event>>>) {
        let seed = Seed::generate(&mut OsRng);
        let vault =
            block_on(Vault::create(Rc::new(MemoryBackend::default()), "p", &seed, KdfParams::INSECURE_FOR_TESTS))
                .unwrap();
        let events: Rc<RefCell<Vec<Event>>> = Rc::default();
        let log = events.clone();
        let listener: crate::session::Listener =
            Rc::new(RefCell::new(Some(Rc::new(move |e: Event| log.borrow_mut().push(e)))));
        let identity = Identity::from_seed(&seed);
        let session = Session::new(vault, Account::new(&seed, "Bob"), identity, Rc::new(offline_world()), listener);
        (Rc::new(session), events)
    }

    /// What `from` sends to the account of `session`, as it opens it.
    fn received(from: &Identity, session: &Session<Offline>, content: Content) -> Received {
        let data = message::seal_message(&mut OsRng, from, &session.me(), content, 1_700_000_000_000).unwrap();
        message::open_message(&session.identity, &data).unwrap()
    }

    fn acceptance(name: Option<&str>, approved: bool) -> Content {
        Content {
            message_request_response: Some(MessageRequestResponse {
                is_approved: Some(approved),
                profile: name.map(|n| LokiProfile { display_name: Some(n.into()), ..Default::default() }),
                profile_key: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn an_acceptance_marks_its_sender_and_carries_their_name() {
        let (session, _) = session();
        let alice = Identity::generate(&mut OsRng);
        block_on(async {
            let accepted = received(&alice, &session, acceptance(Some("  Alice  "), true));
            assert!(!file_control(&session, &accepted).await, "no conversation with them: nothing to mark");
            assert!(!approved_me(&session, &alice.session_id()).await);

            conversations::save(&session.vault, &Conversation::new(&alice.session_id(), Standing::Accepted))
                .await
                .unwrap();
            assert!(file_control(&session, &accepted).await);
            assert!(approved_me(&session, &alice.session_id()).await);
            let c = conversations::conversation(&session.vault, &alice.session_id()).await.unwrap().unwrap();
            assert_eq!(c.name.as_deref(), Some("Alice"), "trimmed");
            assert!(!file_control(&session, &accepted).await, "the same again changes nothing");
        });
    }

    #[test]
    fn refusals_blocked_senders_and_this_account_change_nothing() {
        let (session, _) = session();
        let alice = Identity::generate(&mut OsRng);
        block_on(async {
            conversations::save(&session.vault, &Conversation::new(&alice.session_id(), Standing::Accepted))
                .await
                .unwrap();
            assert!(!file_control(&session, &received(&alice, &session, acceptance(Some("A"), false))).await);
            assert!(!file_control(&session, &received(&alice, &session, message::text_message("hi", None))).await);
            assert!(!approved_me(&session, &alice.session_id()).await);

            let mine = session.account.borrow().identity().unwrap();
            assert!(!file_control(&session, &received(&mine, &session, acceptance(Some("Me"), true))).await);

            conversations::save(&session.vault, &Conversation::new(&alice.session_id(), Standing::Blocked))
                .await
                .unwrap();
            assert!(!file_control(&session, &received(&alice, &session, acceptance(Some("A"), true))).await);
            assert!(!approved_me(&session, &alice.session_id()).await, "a blocked person's acceptance is dropped");
        });
    }

    #[test]
    fn an_acceptance_without_a_name_keeps_the_name_known() {
        let (session, _) = session();
        let alice = Identity::generate(&mut OsRng);
        block_on(async {
            let mut c = Conversation::new(&alice.session_id(), Standing::Accepted);
            c.name = Some("Alice".into());
            conversations::save(&session.vault, &c).await.unwrap();
            assert!(file_control(&session, &received(&alice, &session, acceptance(Some("   "), true))).await);
            let c = conversations::conversation(&session.vault, &alice.session_id()).await.unwrap().unwrap();
            assert_eq!(c.name.as_deref(), Some("Alice"));
            let long: String = core::iter::once('\u{202E}').chain("n".repeat(5_000).chars()).collect();
            assert!(file_control(&session, &received(&alice, &session, acceptance(Some(&long), true))).await);
            let c = conversations::conversation(&session.vault, &alice.session_id()).await.unwrap().unwrap();
            assert_eq!(
                c.name.as_deref(),
                Some("n".repeat(text::MAX_NAME_BYTES).as_str()),
                "an acceptance's name is made inert: the override stripped, cut to the protocol's 100 bytes"
            );
        });
    }

    #[test]
    fn without_a_network_a_poll_fails_and_files_nothing() {
        let (session, events) = session();
        block_on(async {
            assert_eq!(poll_once(&session).await.unwrap_err(), Failure::Offline);
            assert!(conversations::list(&session.vault).await.unwrap().is_empty());
        });
        assert!(events.borrow().iter().all(|e| !matches!(e, Event::Message { .. })));
    }

    #[test]
    fn the_poll_loop_ends_when_its_session_does() {
        let (session, _) = session();
        let started = Instant::now();
        block_on(poll_loop(session.clone(), || false));
        let polls = std::cell::Cell::new(0);
        block_on(poll_loop(session, || {
            polls.set(polls.get() + 1);
            polls.get() < 3
        }));
        assert!(polls.get() >= 3);
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    }

    #[test]
    fn restoring_reads_the_seen_hashes_back() {
        let (session, _) = session();
        block_on(async {
            session.save(stores::ACCOUNT, SEEN_ID, &vec!["h1".to_owned(), "h2".to_owned()]).await.unwrap();
            restore(&session).await;
            assert_eq!(session.client.seen_to_save(10), None, "restored hashes are not a change");
        });
    }

    #[test]
    fn recording_files_a_message_in_its_conversation() {
        let (session, _) = session();
        let alice = Identity::generate(&mut OsRng).session_id();
        let msg = Message::filed("in/H".into(), &alice, false, "hello".into(), 5, None);
        block_on(async {
            record(&session, &msg, Some("Alice".into()), true, Standing::Request).await.unwrap();
            let c = conversations::conversation(&session.vault, &alice).await.unwrap().unwrap();
            assert_eq!((c.standing, c.unread, c.name.as_deref()), (Standing::Request, 1, Some("Alice")));
            let (messages, _) = conversations::latest(&session.vault, &alice, 10).await.unwrap();
            assert_eq!(messages, std::slice::from_ref(&msg));
            session.vault.close();
            assert!(
                record(&session, &msg, None, true, Standing::Request).await.is_err(),
                "a closed vault takes nothing"
            );
        });
    }
}
