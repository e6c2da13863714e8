//! Community invitations: the card a message carrying one shows (the room's name and server, and
//! Join, or Open once joined), and "Invite" in a room, which sends one to each chosen
//! conversation. What an invitation holds and how it is sent are the engine's
//! (`Invitation`, `Engine::invite_to_community`).

use crypto_core::identity::{IdPrefix, SessionId};
use hush_client::conversations::{Invitation, Standing};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::{Modal, Problem};
use crate::communities;
use crate::i18n::{Text, t, tf, tn};
use crate::session::use_app;

/// The card of a message inviting to a community: its name and server, and Join (which joins
/// and opens the room), or Open when it is joined on this device.
#[component]
pub fn InvitationCard(
    /// What the message invites to.
    invitation: Invitation,
    /// Where a failed join is told.
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let app = use_app();
    let busy = RwSignal::new(false);
    let server = invitation.server();
    let initials = crate::avatar::initials(&invitation.name);
    let url = StoredValue::new(invitation.url);
    let joined = move || app.communities.with(|list| list.iter().any(|c| url.with_value(|u| c.url == *u)));
    let go = move |_| {
        if busy.get_untracked() {
            return;
        }
        let room = url.get_value();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let done = if joined() {
                communities::open(app, room).await
            } else {
                communities::join(app, &room).await.map(drop)
            };
            if let Err(e) = done {
                error.set(Some(crate::words::error_text(&e)));
            }
            busy.set(false);
        });
    };
    view! {
        <div class="invitation" data-testid="invitation">
            <span class="avatar hue-1" aria-hidden="true">{initials}</span>
            <span class="invitation-text">
                <span class="small">{t(Text::InvitationTitle)}</span>
                <strong><bdi dir="auto" data-testid="invitation-name">{invitation.name}</bdi></strong>
                <span class="mono small" dir="ltr">{server}</span>
            </span>
            <button class="secondary small" type="button" data-testid="invitation-join" prop:disabled=move || busy.get()
                on:click=go>
                {move || t(if joined() { Text::InvitationOpen } else { Text::InvitationJoin })}
            </button>
        </div>
    }
}

/// "Invite" in a room: a modal dialog listing the conversations (people, not requests) with a
/// box each; sending sends each one an invitation to the room.
#[component]
pub fn InviteDialog(
    /// Whether it is shown.
    open: RwSignal<bool>,
    /// The room's URL.
    room: String,
    /// The room's name.
    name: Signal<String>,
) -> impl IntoView {
    let app = use_app();
    let chosen = RwSignal::new(Vec::<SessionId>::new());
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let room = StoredValue::new(room);
    // People this account talks with: accepted conversations with an account (not a community
    // member's blinded ID), Note to Self left out.
    let people = Memo::new(move |_| {
        let me = app.session_id();
        app.conversations.with(|list| {
            list.iter()
                .filter(|c| c.standing == Standing::Accepted && c.peer.prefix() == IdPrefix::Standard)
                .filter(|c| me.as_ref().is_none_or(|me| c.peer != *me))
                .map(|c| (c.peer, c.title()))
                .collect::<Vec<_>>()
        })
    });
    let reset = move |()| {
        error.set(None);
        done.set(None);
        chosen.set(Vec::new());
    };
    let send = move |ev: SubmitEvent| {
        ev.prevent_default();
        let peers = chosen.get_untracked();
        if peers.is_empty() || busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        done.set(None);
        spawn_local(async move {
            let (sent, failed) = communities::invite(app, &room.get_value(), &peers).await;
            if sent > 0 {
                done.set(Some(tn(Text::InvitationDone, sent as u64, &[])));
                chosen.update(|c| c.clear());
            }
            if let Some(e) = failed {
                error.set(Some(crate::words::error_text(&e)));
            }
            busy.set(false);
        });
    };
    view! {
        <Modal open=open labelledby="invite-title" describedby="invite-text" testid="invite-dialog" on_open=reset>
            <form on:submit=send>
                <h2 id="invite-title">{move || tf(Text::InvitationInviteTitle, &[("name", &name.get())])}</h2>
                <p id="invite-text">{t(Text::InvitationInviteText)}</p>
                {move || people.with(Vec::is_empty).then(|| view! { <p class="note">{t(Text::InvitationNoContacts)}</p> })}
                <ul class="choices">
                    <For each=move || people.get() key=|(peer, title)| (*peer, title.clone())
                        children=move |(peer, title)| {
                            let id = format!("invite-{peer}");
                            view! {
                                <li>
                                    <input type="checkbox" id=id.clone() data-testid="invite-person"
                                        prop:checked=move || chosen.with(|c| c.contains(&peer))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            chosen.update(|c| {
                                                c.retain(|p| *p != peer);
                                                if on {
                                                    c.push(peer);
                                                }
                                            });
                                        } />
                                    <label for=id><bdi dir="auto">{title}</bdi></label>
                                </li>
                            }
                        } />
                </ul>
                <Problem error=error />
                {move || done.get().map(|d| view! { <p class="note" role="status">{d}</p> })}
                <div class="row">
                    <button class="secondary" type="button" on:click=move |_| open.set(false)>{t(Text::CommonClose)}</button>
                    <button class="primary" type="submit" data-testid="invite-send"
                        prop:disabled=move || busy.get() || chosen.with(Vec::is_empty)>
                        {move || if busy.get() {
                            t(Text::InvitationSending).to_owned()
                        } else {
                            tn(Text::InvitationInviteButton, chosen.with(Vec::len) as u64, &[])
                        }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
