//! Files in a conversation: a message's attachments (pictures inline, players for voice and
//! audio, other files with their name, size and Download), the full-screen picture viewer, and
//! the composer's files before they are sent (a preview with a remove button each).
//!
//! A message's files are asked of the engine as soon as the message is shown (from the vault,
//! or downloaded and checked there first); the view holds a picture's object URL only until its
//! `<img>` has loaded it, and a player's while it is on screen. A file that failed says why in
//! its place: never a broken picture.

use std::sync::{Arc, Mutex};

use hush_client::Error;
use hush_client::attachments::{Attachment, AttachmentKind, AttachmentState};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::files::{self, Chosen};
use crate::i18n::{Text, t, tf};
use crate::messaging;
use crate::session::use_app;

/// The picture open in the viewer: its message's id and its place among the message's files.
pub type Viewing = RwSignal<Option<(String, usize)>>;

/// The box a picture is shown in inside a message, in CSS pixels.
const THUMB_SIDE: u32 = 240;

/// An object URL the view holds, revoked when it is let go (or when the view goes).
#[derive(Clone, Debug, Default)]
struct Held(Arc<Mutex<Option<String>>>);

impl Held {
    /// Holds `url`, letting go of the one held before.
    fn hold(&self, url: Option<String>) {
        let old = self.0.lock().ok().and_then(|mut h| core::mem::replace(&mut *h, url));
        if let Some(old) = old {
            files::revoke(&old);
        }
    }

    /// Lets go of the URL held.
    fn release(&self) {
        self.hold(None);
    }
}

/// A message's files, and while they upload, how far it got with a Cancel (which deletes the
/// message: nothing of it was sent yet).
#[component]
pub fn MessageFiles(
    /// The message's id.
    message_id: String,
    /// Its files as the message now holds them.
    attachments: Signal<Vec<Attachment>>,
    /// Whether the message is still being sent.
    sending: Signal<bool>,
    /// The picture open in the viewer.
    viewing: Viewing,
    /// Where an error of Cancel is shown.
    error: RwSignal<Option<String>>,
    /// Whether files are fetched as soon as they are shown (the conversation is accepted); in a
    /// message request each waits for a click, as Session desktop does for people not trusted.
    trusted: Signal<bool>,
) -> impl IntoView {
    let app = use_app();
    let count = attachments.with_untracked(Vec::len);
    let uploading = move || attachments.with(|l| l.iter().any(|a| a.state == AttachmentState::Uploading));
    // How far the file under way got, in thousandths, as the transport told.
    let id = StoredValue::new(message_id.clone());
    let under_way = move || {
        app.uploads.with(|u| {
            u.iter()
                .find(|(m, ..)| id.with_value(|id| m == id))
                .map(|&(_, index, sent, total)| (index, (sent.min(total) * 1000).checked_div(total).unwrap_or(0)))
        })
    };
    let progress = move || {
        let (done, total) =
            attachments.with(|l| (l.iter().filter(|a| a.state != AttachmentState::Uploading).count(), l.len()));
        let total = crate::i18n::number(total as u64);
        match under_way() {
            Some((index, thousandths)) => tf(
                Text::FileUploadProgress,
                &[
                    ("number", &crate::i18n::number(index as u64 + 1)),
                    ("total", &total),
                    ("percent", &crate::i18n::number(thousandths / 10)),
                ],
            ),
            None => tf(Text::FileUploaded, &[("done", &crate::i18n::number(done as u64)), ("total", &total)]),
        }
    };
    let bar = move || under_way().map_or(0, |(_, thousandths)| thousandths);
    let cancel = {
        let id = message_id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                if let Err(e) = messaging::delete_for_me(app, &id).await {
                    error.set(Some(crate::words::error_text(&e)));
                }
            });
        }
    };
    let items = (0..count)
        .map(|index| {
            let attachment = Signal::derive(move || attachments.with(|l| l.get(index).cloned()));
            view! {
                <FileItem message_id=message_id.clone() index=index attachment=attachment viewing=viewing trusted=trusted />
            }
        })
        .collect_view();
    view! {
        <div class="attachments" class:single=count == 1>{items}</div>
        <Show when=move || sending.get() && uploading()>
            <p class="upload-progress" data-testid="uploading">
                <progress data-testid="upload-bar" max="1000" value=bar aria-label=t(Text::FileUploadBar)></progress>
                <span role="status">{progress}</span>
                <button class="link" type="button" on:click=cancel.clone()>{t(Text::FileCancelUpload)}</button>
            </p>
        </Show>
    }
}

/// What went wrong with a file, and whether trying again may help (the network, not the file).
fn problem_of(e: &Error) -> (String, bool) {
    let again = !matches!(e, Error::FileExpired | Error::FileDamaged | Error::MessageGone);
    (crate::words::error_text(e), again)
}

/// One file of a message.
#[component]
fn FileItem(
    /// The message's id.
    message_id: String,
    /// The file's place in it.
    index: usize,
    /// The file as the message now holds it.
    attachment: Signal<Option<Attachment>>,
    /// The picture open in the viewer.
    viewing: Viewing,
    /// Whether it is fetched as soon as it is shown (else it waits for a click).
    trusted: Signal<bool>,
) -> impl IntoView {
    let app = use_app();
    let Some(first) = attachment.get_untracked() else { return ().into_any() };
    let kind = first.kind();
    let content_type = first.content_type.clone();
    let name = files::label(first.file_name.as_deref());
    let state = Memo::new(move |_| attachment.with(|a| a.as_ref().map(|a| a.state)));
    // The object URL of a picture or a player, while the view needs it.
    let url = RwSignal::new(None::<String>);
    let held = Held::default();
    // Whether the file is on screen (a picture drawn, a player ready) or, for other files, kept
    // on this device and ready to save.
    let shown = RwSignal::new(false);
    let problem = RwSignal::new(None::<(String, bool)>);
    let load = {
        let (id, held, content_type) = (message_id.clone(), held.clone(), content_type.clone());
        move || {
            problem.set(None);
            let (id, held, content_type) = (id.clone(), held.clone(), content_type.clone());
            spawn_local(async move {
                match messaging::file(app, &id, index).await {
                    Ok(bytes) if kind == AttachmentKind::File || kind == AttachmentKind::Video => {
                        drop(bytes);
                        shown.try_set(true);
                    }
                    Ok(bytes) => {
                        let made = files::object_url(&bytes, &content_type);
                        drop(bytes);
                        held.hold(made.clone());
                        // The view went meanwhile: nothing will show it.
                        if url.try_set(made).is_some() {
                            held.release();
                        }
                    }
                    Err(e) => {
                        problem.try_set(Some(problem_of(&e)));
                    }
                }
            });
        }
    };
    // A picture or a player needs the bytes now; another file only needs to be on this device,
    // so one already there is not read until it is saved.
    let on_device = matches!(first.state, AttachmentState::Saved | AttachmentState::Uploading);
    let shows_bytes = !matches!(kind, AttachmentKind::File | AttachmentKind::Video);
    // Not yet fetched: a file from someone not accepted waits for a click (or the acceptance).
    let waiting = RwSignal::new(false);
    if on_device && !shows_bytes {
        shown.set(true);
    } else if first.state == AttachmentState::Remote && !trusted.get_untracked() {
        waiting.set(true);
    } else if !matches!(first.state, AttachmentState::Expired | AttachmentState::Damaged) {
        load();
    }
    let fetch = {
        let load = load.clone();
        move || {
            if waiting.get_untracked() {
                waiting.set(false);
                load();
            }
        }
    };
    Effect::new({
        let fetch = fetch.clone();
        move |_| {
            if trusted.get() {
                fetch();
            }
        }
    });
    on_cleanup({
        let held = held.clone();
        move || held.release()
    });
    let data_state = move || match (state.get(), problem.with(Option::is_some), shown.get()) {
        (Some(AttachmentState::Expired | AttachmentState::Damaged), _, _) | (_, true, _) => "failed",
        (Some(AttachmentState::Uploading), _, _) => "loading",
        (_, _, true) => "ready",
        _ => "loading",
    };
    // Why it cannot be shown: the file server no longer has it, it is damaged, or (with Try
    // again) the network failed.
    let failure = move || match state.get() {
        Some(AttachmentState::Expired) => Some((crate::words::error_text(&Error::FileExpired), false)),
        Some(AttachmentState::Damaged) => Some((crate::words::error_text(&Error::FileDamaged), false)),
        _ => problem.get(),
    };
    let failed_line = {
        move || {
            failure().map(|(text, again)| {
                let load = load.clone();
                view! {
                    <p class="attachment-failed" data-testid="attachment-problem">
                        {text}
                        {again.then(|| view! {
                            " "<button class="link" type="button" on:click=move |_| load()>{t(Text::FileTryAgain)}</button>
                        })}
                    </p>
                }
            })
        }
    };
    let uploading = move || state.get() == Some(AttachmentState::Uploading);
    // Whether it failed: the picture's place is built again only when this changes (a picture
    // drawn from a URL already revoked could not be drawn again).
    let failed = Memo::new(move |_| failure().is_some());

    match kind {
        AttachmentKind::Image => {
            let (width, height) = match (first.width, first.height) {
                (Some(w), Some(h)) => files::fit(w, h, THUMB_SIDE),
                _ => (THUMB_SIDE, THUMB_SIDE * 3 / 4),
            };
            let id = message_id;
            let open = move |_| viewing.set(Some((id.clone(), index)));
            // Bytes that are not a picture the browser can draw (a type it does not know, or
            // not what the type says) are said so, never shown as a broken picture.
            let undrawable = {
                let held = held.clone();
                move |_| {
                    held.release();
                    problem.set(Some((t(Text::FileCannotShow).to_owned(), false)));
                }
            };
            let loaded = {
                move |_| {
                    held.release();
                    shown.set(true);
                }
            };
            view! {
                <figure class="attachment picture" data-testid="attachment" data-kind=kind.as_str() data-state=data_state>
                    {move || if failed.get() {
                        failed_line().into_any()
                    } else if waiting.get() {
                        let fetch = fetch.clone();
                        view! {
                            <div class="thumb waiting" style:width=format!("{width}px")
                                style:aspect-ratio=format!("{width} / {height}")>
                                <button class="secondary" type="button" data-testid="download" on:click=move |_| fetch()>
                                    {t(Text::FileDownload)}
                                </button>
                            </div>
                        }.into_any()
                    } else {
                        let loaded = loaded.clone();
                        let undrawable = undrawable.clone();
                        let open = open.clone();
                        view! {
                            <button class="thumb" type="button" aria-label=t(Text::FileOpenPicture)
                                title=t(Text::FileOpenPicture) style:width=format!("{width}px")
                                style:aspect-ratio=format!("{width} / {height}")
                                prop:disabled=move || !shown.get() on:click=open>
                                {move || url.get().map(|src| view! {
                                    <img src=src alt="" on:load=loaded.clone() on:error=undrawable.clone() />
                                })}
                                <Show when=move || !shown.get()>
                                    <span class="placeholder" aria-hidden="true"></span>
                                </Show>
                            </button>
                        }.into_any()
                    }}
                    <Show when=uploading>
                        <figcaption class="uploading">{t(Text::FileUploading)}</figcaption>
                    </Show>
                </figure>
            }
            .into_any()
        }
        AttachmentKind::Voice | AttachmentKind::Audio => {
            let title = if kind == AttachmentKind::Voice { t(Text::FileVoice).to_owned() } else { name };
            view! {
                <div class="attachment audio" data-testid="attachment" data-kind=kind.as_str() data-state=data_state>
                    <span class="file-name"><bdi dir="auto">{title}</bdi></span>
                    {move || url.get().map(|src| view! {
                        <audio controls preload="metadata" src=src on:loadedmetadata=move |_| shown.set(true)></audio>
                    })}
                    <Show when=move || waiting.get()>
                        <button class="secondary download" type="button" data-testid="download" on:click={
                            let fetch = fetch.clone();
                            move |_| fetch()
                        }>{t(Text::FileDownload)}</button>
                    </Show>
                    {failed_line}
                    <Show when=uploading>
                        <span class="uploading">{t(Text::FileUploading)}</span>
                    </Show>
                </div>
            }
            .into_any()
        }
        AttachmentKind::File | AttachmentKind::Video => {
            let size = files::size_text(first.size);
            let saving = RwSignal::new(false);
            let download = {
                let (id, name, content_type) = (message_id, name.clone(), content_type);
                move |_| {
                    let (id, name, content_type) = (id.clone(), name.clone(), content_type.clone());
                    saving.set(true);
                    spawn_local(async move {
                        match messaging::file(app, &id, index).await {
                            Ok(bytes) => {
                                files::save(&bytes, &content_type, &name);
                                // Fetched by this click: it is on this device now.
                                waiting.try_set(false);
                                shown.try_set(true);
                            }
                            Err(e) => {
                                problem.try_set(Some(problem_of(&e)));
                            }
                        }
                        saving.try_set(false);
                    });
                }
            };
            view! {
                <div class="attachment file" data-testid="attachment" data-kind=kind.as_str() data-state=data_state>
                    <FileIcon />
                    <span class="file-meta">
                        <bdi class="file-name" dir="auto" title=name>{name.clone()}</bdi>
                        <span class="file-size">{size}</span>
                    </span>
                    <Show when=move || !failed.get()>
                        <button class="secondary download" type="button" data-testid="download"
                            prop:disabled=move || !(shown.get() || waiting.get()) || saving.get() on:click=download.clone()>
                            {t(Text::FileDownload)}
                        </button>
                    </Show>
                    {failed_line}
                    <Show when=uploading>
                        <span class="uploading">{t(Text::FileUploading)}</span>
                    </Show>
                </div>
            }
            .into_any()
        }
    }
}

/// A sheet of paper with a folded corner: a file.
#[component]
fn FileIcon() -> impl IntoView {
    view! {
        <svg class="file-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z" />
            <path d="M14 3v5h5" />
        </svg>
    }
}

/// A paper clip: attach files.
#[component]
pub fn ClipIcon() -> impl IntoView {
    view! {
        <svg class="clip-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none"
            stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
            <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9" />
        </svg>
    }
}

/// The full-screen picture viewer: a modal dialog over the conversation, with the message's
/// other pictures one step to either side (the arrow keys, or Previous and Next), Save, and
/// Close (or Escape).
#[component]
pub fn Viewer(
    /// The picture shown (none: closed).
    viewing: Viewing,
) -> impl IntoView {
    let app = use_app();
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let url = RwSignal::new(None::<String>);
    let held = Held::default();
    let problem = RwSignal::new(None::<String>);
    let had_focus = StoredValue::new_local(None::<web_sys::HtmlElement>);
    // The message's pictures (their places among its files) and where the shown one is.
    let pictures = Memo::new(move |_| {
        let (id, _) = viewing.get()?;
        app.messages.with(|list| {
            let m = list.iter().find(|m| m.id == id)?;
            Some(
                m.attachments
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.kind() == AttachmentKind::Image
                            && !matches!(a.state, AttachmentState::Expired | AttachmentState::Damaged)
                    })
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>(),
            )
        })
    });
    let position = move || {
        let (_, index) = viewing.get()?;
        let place = pictures.with(|p| p.as_ref().and_then(|p| p.iter().position(|&i| i == index)))?;
        Some((place, pictures.with(|p| p.as_ref().map_or(0, Vec::len))))
    };
    let step = move |by: isize| {
        let Some((id, index)) = viewing.get_untracked() else { return };
        let next = pictures.with_untracked(|p| {
            let p = p.as_ref()?;
            let at = p.iter().position(|&i| i == index)?;
            p.get(at.checked_add_signed(by)?).copied()
        });
        if let Some(next) = next {
            viewing.set(Some((id, next)));
        }
    };
    // The shown picture's bytes, from the vault; the URL goes once the picture has loaded.
    Effect::new({
        let held = held.clone();
        move |_| {
            let Some((id, index)) = viewing.get() else {
                held.release();
                url.set(None);
                return;
            };
            problem.set(None);
            // The picture before is not shown under this one's title while this one is read.
            url.set(None);
            held.release();
            let held = held.clone();
            spawn_local(async move {
                let content_type = app.messages.with_untracked(|list| {
                    list.iter()
                        .find(|m| m.id == id)
                        .and_then(|m| m.attachments.get(index))
                        .map(|a| a.content_type.clone())
                });
                match messaging::file(app, &id, index).await {
                    Ok(bytes) => {
                        let made = files::object_url(&bytes, content_type.as_deref().unwrap_or("image/jpeg"));
                        drop(bytes);
                        held.hold(made.clone());
                        if viewing.try_get_untracked().flatten() != Some((id, index)) || url.try_set(made).is_some() {
                            held.release();
                        }
                    }
                    Err(e) => {
                        problem.try_set(Some(crate::words::error_text(&e)));
                    }
                }
            });
        }
    });
    on_cleanup({
        let held = held.clone();
        move || held.release()
    });
    // Opened and closed with `viewing`; focus goes back where it was.
    Effect::new(move |_| {
        let open = viewing.with(Option::is_some);
        let Some(el) = dialog.get() else { return };
        if open && !el.open() {
            had_focus.set_value(
                web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .and_then(|e| wasm_bindgen::JsCast::dyn_into(e).ok()),
            );
            let _ = el.show_modal();
        } else if !open {
            if el.open() {
                el.close();
            }
            if let Some(back) = had_focus.try_update_value(Option::take).flatten()
                && back.is_connected()
            {
                let _ = back.focus();
            }
        }
    });
    let save = move |_| {
        let Some((id, index)) = viewing.get_untracked() else { return };
        spawn_local(async move {
            let (name, content_type) = app
                .messages
                .with_untracked(|list| {
                    let a = list.iter().find(|m| m.id == id)?.attachments.get(index)?.clone();
                    Some((a.file_name.clone().unwrap_or_else(|| picture_name(&a.content_type)), a.content_type))
                })
                .unwrap_or_else(|| (picture_name("image/jpeg"), "image/jpeg".to_owned()));
            match messaging::file(app, &id, index).await {
                Ok(bytes) => files::save(&bytes, &content_type, &name),
                Err(e) => {
                    problem.try_set(Some(crate::words::error_text(&e)));
                }
            }
        });
    };
    let title = move || {
        position().map_or_else(String::new, |(at, count)| {
            tf(
                Text::ViewerTitle,
                &[("index", &crate::i18n::number(at as u64 + 1)), ("count", &crate::i18n::number(count as u64))],
            )
        })
    };
    let has_previous = move || position().is_some_and(|(at, _)| at > 0);
    let has_next = move || position().is_some_and(|(at, count)| at + 1 < count);
    // A message's only picture has nowhere to step to.
    let alone = move || position().is_none_or(|(_, count)| count < 2);
    let loaded = { move |_| held.release() };
    view! {
        <dialog class="viewer" aria-labelledby="viewer-title" node_ref=dialog data-testid="viewer"
            on:keydown=move |ev| match ev.key().as_str() {
                "ArrowLeft" => step(-1),
                "ArrowRight" => step(1),
                _ => {}
            }
            on:close=move |_| {
                if viewing.try_with_untracked(Option::is_some) == Some(true) {
                    viewing.set(None);
                }
            }>
            <div class="viewer-bar">
                <h2 id="viewer-title">{title}</h2>
                <button class="secondary" type="button" on:click=save>{t(Text::ViewerSave)}</button>
                <button class="secondary" type="button" data-autofocus="" on:click=move |_| viewing.set(None)>
                    {t(Text::ViewerClose)}
                </button>
            </div>
            <div class="viewer-stage">
                <button class="secondary step" type="button" aria-label=t(Text::ViewerPrevious) title=t(Text::ViewerPrevious)
                    class:alone=alone prop:disabled=move || !has_previous() on:click=move |_| step(-1)>"‹"</button>
                {move || url.get().map(|src| view! { <img src=src alt=title on:load=loaded.clone() /> })}
                {move || problem.get().map(|p| view! { <p class="attachment-failed" role="alert">{p}</p> })}
                <button class="secondary step" type="button" aria-label=t(Text::ViewerNext) title=t(Text::ViewerNext)
                    class:alone=alone prop:disabled=move || !has_next() on:click=move |_| step(1)>"›"</button>
            </div>
        </dialog>
    }
}

/// A name for a picture saved without one.
fn picture_name(content_type: &str) -> String {
    let extension = content_type.strip_prefix("image/").unwrap_or("bin").replace("jpeg", "jpg");
    format!("{}.{extension}", t(Text::FileUnnamed))
}

/// The composer's files before they are sent: a picture's preview, another file's name and
/// size, and a remove button each.
#[component]
pub fn ChosenFiles(
    /// The files chosen.
    chosen: RwSignal<Vec<Chosen>, LocalStorage>,
) -> impl IntoView {
    let remove = move |id: u64| {
        chosen.update(|list| {
            if let Some(c) = list.iter().find(|c| c.id == id)
                && let Some(url) = &c.preview
            {
                files::revoke(url);
            }
            list.retain(|c| c.id != id);
        });
    };
    view! {
        <Show when=move || chosen.with(|c| !c.is_empty())>
            <ul class="chosen-files" aria-label=t(Text::AttachChosen) data-testid="chosen-files">
                <For each=move || chosen.get() key=|c| c.id children=move |c: Chosen| {
                    let id = c.id;
                    let label = tf(Text::AttachRemove, &[("name", &c.name)]);
                    let preview = c.preview.clone();
                    // A picture the browser cannot draw is shown as a file.
                    let undrawn = RwSignal::new(preview.is_none());
                    let (name, size) = (c.name.clone(), files::size_text(c.size));
                    let as_file = move || {
                        view! {
                            <FileIcon />
                            <span class="file-meta">
                                <bdi class="file-name" dir="auto" title=name.clone()>{name.clone()}</bdi>
                                <span class="file-size">{size.clone()}</span>
                            </span>
                        }
                    };
                    let picture = move || {
                        preview.clone().map(|src| {
                            let (loaded, failed) = (src.clone(), src.clone());
                            view! {
                                <img src=src alt="" on:load=move |_| files::revoke(&loaded)
                                    on:error=move |_| {
                                        files::revoke(&failed);
                                        undrawn.set(true);
                                    } />
                            }
                        })
                    };
                    let shown = move || if undrawn.get() { as_file().into_any() } else { picture().into_any() };
                    view! {
                        <li class="chosen" class:picture=move || !undrawn.get() data-testid="chosen">
                            {shown}
                            <button class="remove" type="button" aria-label=label.clone() title=label
                                on:click=move |_| remove(id)>"×"</button>
                        </li>
                    }
                } />
            </ul>
        </Show>
    }
}

/// What adding `file` to `chosen` (of `count` already) says: nothing (it was added), or why not.
pub fn add_refusal(name: &str, size: u64, count: usize) -> Option<String> {
    if count >= hush_client::conversations::MAX_ATTACHMENTS {
        return Some(crate::words::error_text(&Error::TooManyFiles {
            max: hush_client::conversations::MAX_ATTACHMENTS,
        }));
    }
    files::refusal(name, size)
}

/// What a file that could not be read says.
pub fn unreadable(name: &str) -> String {
    tf(Text::AttachUnreadable, &[("name", name)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use hush_client::megabytes;

    #[test]
    fn a_too_large_file_or_one_too_many_is_refused_with_a_reason() {
        assert_eq!(add_refusal("a.txt", 3, 0), None);
        assert!(add_refusal("a.txt", 3, 32).unwrap().contains("32"));
        let big = add_refusal("clip.mov", 12_345_678, 0).unwrap();
        assert_eq!(big, "Not added: clip.mov is 12.4 MB; a file can be at most 10 MB.");
        assert_eq!(megabytes(10_000_000), "10");
    }

    #[test]
    fn a_picture_saved_without_a_name_gets_one() {
        assert_eq!(picture_name("image/jpeg"), "Unnamed file.jpg");
        assert_eq!(picture_name("image/png"), "Unnamed file.png");
    }
}
