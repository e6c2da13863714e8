//! Settings: the Session ID (copy, QR), profile and preferences, read receipts and typing
//! indicators, notifications, the relay and the onion paths, the passphrase, the recovery phrase,
//! blocked people, locking and deleting the account.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use zeroize::Zeroizing;

use super::onboarding::{NewPassphrase, check_new_passphrase};
use super::{Notice, Problem, SecretText, clear, connection_label, secret_value};
use crate::i18n::{Text, t, tf};
use hush_client::account::{Account, NotificationContent, Theme};
use hush_client::conversations::Standing;
use hush_client::network::{Connection, Hop, NetStatus};

use crate::messaging;
use crate::notify::{self, Permission};
use crate::session::{self, AppState, Screen, use_app};
use crate::when::minutes_label;

/// Settings.
#[component]
pub fn Settings() -> impl IntoView {
    let app = use_app();
    if app.unlocked().is_none() {
        return view! { <p>{t(Text::CommonLocked)}</p> }.into_any();
    }
    view! {
        <div class="page-head">
            <button class="secondary" type="button" on:click=move |_| app.go(Screen::Home)>{t(Text::CommonBack)}</button>
            <h2 id="settings-title" class="page-title">{t(Text::CommonSettings)}</h2>
            <button class="secondary" type="button" on:click=move |_| app.lock()>{t(Text::CommonLockNow)}</button>
        </div>
        <Notice />
        <Identity />
        <Picture />
        <Preferences />
        <Privacy />
        <Notifications />
        <Network />
        <ChangePassphrase />
        <RecoveryPhrase />
        <Blocked />
        <DeleteAccount />
    }
    .into_any()
}

/// The Session ID with a copy button and its QR code.
#[component]
fn Identity() -> impl IntoView {
    let app = use_app();
    let id = app.session_id().map(|id| id.to_string()).unwrap_or_default();
    let copied = RwSignal::new(None::<bool>);
    let text = NodeRef::<leptos::html::P>::new();
    let copy = {
        let id = id.clone();
        move |_| {
            let id = id.clone();
            spawn_local(async move {
                let ok = crate::clipboard::write(&id).await;
                if !ok && let Some(el) = text.try_get_untracked().flatten() {
                    crate::clipboard::select(&el);
                }
                copied.set(Some(ok));
            });
        }
    };
    view! {
        <section class="card" aria-labelledby="settings-id-title">
            <h2 id="settings-id-title">{t(Text::CommonYourSessionId)}</h2>
            <p class="mono" data-testid="session-id" node_ref=text>{id}</p>
            <div class="row">
                <button class="secondary" type="button" on:click=copy>{t(Text::SettingsCopyId)}</button>
                <span class="status" role="status">
                    {move || match copied.get() {
                        Some(true) => t(Text::SettingsCopied),
                        Some(false) => t(Text::SettingsCopyRefused),
                        None => "",
                    }}
                </span>
            </div>
            <div class="qr">{app.session_id().and_then(super::home::session_id_qr)}</div>
        </section>
    }
}

/// The profile picture: choose one (drawn upright, at most 640 px, as a JPEG), or remove it.
#[component]
fn Picture() -> impl IntoView {
    let app = use_app();
    let Some(me) = app.session_id() else { return ().into_any() };
    let status = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let picker = NodeRef::<leptos::html::Input>::new();
    let has_picture = move || {
        app.revision.track();
        app.account().is_some_and(|a| a.avatar.is_some())
    };
    let chosen = move |_| {
        let Some(input) = picker.get_untracked() else { return };
        let Some(file) = crate::files::list(input.files()).into_iter().next() else { return };
        input.set_value("");
        busy.set(true);
        status.set(Some(t(Text::SettingsPictureUploading).to_owned()));
        spawn_local(async move {
            let result = match crate::files::profile_picture(&file).await {
                None => Err(t(Text::SettingsPictureNotAPicture).to_owned()),
                Some(bytes) => match app.unlocked() {
                    Some(engine) => engine.set_avatar(&bytes).await.map_err(|e| crate::words::error_text(&e)),
                    None => Err(t(Text::CommonLocked).to_owned()),
                },
            };
            busy.set(false);
            status.set(Some(result.map_or_else(|e| e, |()| t(Text::SettingsPictureSaved).to_owned())));
        });
    };
    let remove = move |_| {
        busy.set(true);
        spawn_local(async move {
            let result = match app.unlocked() {
                Some(engine) => engine.remove_avatar().await.map_err(|e| crate::words::error_text(&e)),
                None => Err(t(Text::CommonLocked).to_owned()),
            };
            busy.set(false);
            status.set(Some(result.map_or_else(|e| e, |()| t(Text::SettingsPictureRemoved).to_owned())));
        });
    };
    let choose = move |_| {
        if let Some(input) = picker.get_untracked() {
            input.click();
        }
    };
    view! {
        <section class="card" aria-labelledby="picture-title">
            <h2 id="picture-title">{t(Text::SettingsPictureTitle)}</h2>
            <p class="hint">{t(Text::SettingsPictureHint)}</p>
            <div class="row picture-row">
                {move || {
                    let name = app.account().map(|a| a.display_name.clone()).unwrap_or_default();
                    crate::avatar::own_avatar(me, &name, has_picture())
                }}
                <input type="file" accept="image/*" hidden data-testid="avatar-input" node_ref=picker on:change=chosen />
                <button class="secondary" type="button" data-testid="choose-picture" on:click=choose
                    disabled=move || busy.get()>{t(Text::SettingsPictureChoose)}</button>
                <Show when=has_picture>
                    <button class="secondary" type="button" data-testid="remove-picture" on:click=remove
                        disabled=move || busy.get()>{t(Text::SettingsPictureRemove)}</button>
                </Show>
            </div>
            <p class="status" role="status">{move || status.get()}</p>
        </section>
    }
    .into_any()
}

/// Display name, theme and idle lock.
#[component]
fn Preferences() -> impl IntoView {
    let app = use_app();
    let Some(account) = app.account() else { return ().into_any() };
    let name = RwSignal::new(account.display_name.clone());
    let theme = RwSignal::new(account.theme);
    let idle = RwSignal::new(account.idle_lock_minutes);
    drop(account);
    let saved = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let save = move |ev: SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        error.set(None);
        if name.get().trim().is_empty() {
            return error.set(Some(t(Text::CommonChooseDisplayName).into()));
        }
        let (display_name, chosen_theme, minutes) = (name.get().trim().to_owned(), theme.get(), idle.get());
        spawn_local(async move {
            let change = move |account: &mut Account| {
                account.display_name = display_name;
                account.theme = chosen_theme;
                account.idle_lock_minutes = minutes;
            };
            match session::update_account(app, change).await {
                Ok(()) => saved.set(true),
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
        });
    };
    let changed = move |_| saved.set(false);
    view! {
        <form class="card" on:submit=save on:input=changed aria-labelledby="preferences-title">
            <h2 id="preferences-title">{t(Text::SettingsPreferences)}</h2>
            <label for="settings-name">{t(Text::CommonDisplayName)}</label>
            <input id="settings-name" type="text" maxlength="64" autocomplete="nickname" dir="auto"
                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="settings-theme">{t(Text::SettingsTheme)}</label>
            <select id="settings-theme" on:change=move |ev| {
                saved.set(false);
                theme.set(match event_target_value(&ev).as_str() {
                    "light" => Theme::Light,
                    "dark" => Theme::Dark,
                    _ => Theme::System,
                });
            }>
                <option value="system" selected=move || theme.get() == Theme::System>
                    {t(Text::SettingsThemeSystem)}
                </option>
                <option value="light" selected=move || theme.get() == Theme::Light>{t(Text::SettingsThemeLight)}</option>
                <option value="dark" selected=move || theme.get() == Theme::Dark>{t(Text::SettingsThemeDark)}</option>
            </select>
            <label for="settings-idle">{t(Text::SettingsIdle)}</label>
            <select id="settings-idle" on:change=move |ev| {
                saved.set(false);
                idle.set(event_target_value(&ev).parse().unwrap_or(15));
            }>
                {[1u32, 5, 15, 60, 0].into_iter().map(|m| view! {
                    <option value=m.to_string() selected=move || idle.get() == m>
                        {if m == 0 { t(Text::SettingsIdleNever).to_owned() } else { minutes_label(m) }}
                    </option>
                }).collect_view()}
            </select>
            <div class="row">
                <button class="primary" type="submit">{t(Text::CommonSave)}</button>
                <span class="status" role="status">{move || if saved.get() { t(Text::CommonSaved) } else { "" }}</span>
            </div>
            <Problem error=error />
        </form>
    }
    .into_any()
}

/// Saves one change of the account at once; `done` says "Saved." or the error.
fn save_now(app: AppState, change: impl FnOnce(&mut Account) + 'static, done: RwSignal<Result<bool, String>>) {
    // One compiled copy of the saving, whatever the change.
    let change: Box<dyn FnOnce(&mut Account)> = Box::new(change);
    spawn_local(async move {
        done.set(session::update_account(app, change).await.map(|()| true).map_err(|e| crate::words::error_text(&e)));
    });
}

/// The status line of settings that save at once.
fn saved_line(done: RwSignal<Result<bool, String>>) -> impl IntoView {
    view! {
        <span class="status" role="status">{move || if done.get() == Ok(true) { t(Text::CommonSaved) } else { "" }}</span>
        {move || done.get().err().map(|e| view! { <p class="error" role="alert">{super::sentence(&e)}</p> })}
    }
}

/// Read receipts and typing indicators: both off by default, and both ways at once.
#[component]
fn Privacy() -> impl IntoView {
    let app = use_app();
    let Some(account) = app.account() else { return ().into_any() };
    // The switches keep their own state; each change is saved at once.
    let (receipts, typing) = (account.read_receipts, account.typing_indicators);
    drop(account);
    let done = RwSignal::new(Ok(false));
    view! {
        <section class="card" aria-labelledby="privacy-title">
            <h2 id="privacy-title">{t(Text::SettingsPrivacy)}</h2>
            <div class="switch">
                <input id="settings-receipts" type="checkbox" role="switch" aria-describedby="receipts-hint"
                    prop:checked=receipts
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        save_now(app, move |a| a.read_receipts = on, done);
                    } />
                <label for="settings-receipts">{t(Text::SettingsReceipts)}</label>
            </div>
            <p class="hint" id="receipts-hint">{t(Text::SettingsReceiptsHint)}</p>
            <div class="switch">
                <input id="settings-typing" type="checkbox" role="switch" aria-describedby="typing-hint"
                    prop:checked=typing
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        save_now(app, move |a| a.typing_indicators = on, done);
                    } />
                <label for="settings-typing">{t(Text::SettingsTyping)}</label>
            </div>
            <p class="hint" id="typing-hint">{t(Text::SettingsTypingHint)}</p>
            {saved_line(done)}
        </section>
    }
    .into_any()
}

/// What asking the browser for notifications answered, when it was not yes.
fn permission_problem(permission: Permission) -> Option<&'static str> {
    match permission {
        Permission::Granted => None,
        Permission::Unsupported => Some(t(Text::SettingsNotificationsUnsupported)),
        Permission::Denied | Permission::Ask => Some(t(Text::SettingsNotificationsDenied)),
    }
}

/// System notifications of new messages (asking the browser when turned on) and what they show.
#[component]
fn Notifications() -> impl IntoView {
    let app = use_app();
    let Some(account) = app.account() else { return ().into_any() };
    // On only while the browser allows it too.
    let allowed = notify::permission();
    let on = RwSignal::new(account.notifications && allowed == Permission::Granted);
    let content = account.notification_content;
    let problem = RwSignal::new(if account.notifications { permission_problem(allowed) } else { None });
    drop(account);
    let done = RwSignal::new(Ok(false));
    let toggle = move |ev: leptos::ev::Event| {
        let wanted = event_target_checked(&ev);
        problem.set(None);
        if !wanted {
            on.set(false);
            return save_now(app, |a| a.notifications = false, done);
        }
        spawn_local(async move {
            // The browser is asked now, and only now.
            let answer = match notify::permission() {
                Permission::Granted => Permission::Granted,
                _ => notify::ask().await,
            };
            match permission_problem(answer) {
                None => {
                    on.set(true);
                    save_now(app, |a| a.notifications = true, done);
                }
                Some(why) => {
                    on.set(false);
                    problem.set(Some(why));
                }
            }
        });
    };
    let choose = move |choice: NotificationContent| {
        save_now(app, move |a| a.notification_content = choice, done);
    };
    let choices = [
        (NotificationContent::NameAndText, t(Text::SettingsNotifyNameText), "notify-name-text"),
        (NotificationContent::NameOnly, t(Text::SettingsNotifyName), "notify-name"),
        (NotificationContent::Nothing, t(Text::SettingsNotifyNothing), "notify-nothing"),
    ];
    view! {
        <section class="card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">{t(Text::CommonNotifications)}</h2>
            <div class="switch">
                <input id="settings-notifications" type="checkbox" role="switch" aria-describedby="notifications-hint"
                    prop:checked=move || on.get() on:change=toggle />
                <label for="settings-notifications">{t(Text::CommonNotifications)}</label>
            </div>
            <p class="hint" id="notifications-hint">{t(Text::SettingsNotificationsHint)}</p>
            {move || problem.get().map(|why| view! { <p class="error" role="alert" data-testid="notifications-blocked">{why}</p> })}
            <fieldset class="choices">
                <legend>{t(Text::SettingsNotificationContent)}</legend>
                {choices.into_iter().map(|(choice, label, id)| view! {
                    <label for=id>
                        <input id=id type="radio" name="notification-content"
                            prop:checked=content == choice on:change=move |_| choose(choice) />
                        {label}
                    </label>
                }).collect_view()}
            </fieldset>
            {saved_line(done)}
        </section>
    }
    .into_any()
}

/// The origin (`scheme://host[:port]`) of a URL that `hush_client::relay::relay_base` accepted.
fn origin_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split('/').next().unwrap_or_default();
    format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase())
}

/// Whether a Content-Security-Policy lets the page at `page` (an origin) connect to `origin`:
/// by `connect-src`, else `default-src`, else freely. Sources understood: `'self'`, `'none'`,
/// `*`, schemes (`https:`), and hosts with an optional scheme, `*.` wildcard and port.
pub fn csp_allows(csp: &str, page: &str, origin: &str) -> bool {
    let directives: Vec<Vec<&str>> =
        csp.split(';').map(|d| d.split_ascii_whitespace().collect::<Vec<_>>()).filter(|d| !d.is_empty()).collect();
    let find = |name: &str| directives.iter().find(|d| d.first().is_some_and(|n| n.eq_ignore_ascii_case(name)));
    let Some(directive) = find("connect-src").or_else(|| find("default-src")) else { return true };
    let origin = origin.to_ascii_lowercase();
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", origin.as_str()));
    let (host, port) = split_port(authority, scheme);
    let page_scheme = page.split_once("://").map_or("", |(s, _)| s).to_ascii_lowercase();
    directive.iter().skip(1).any(|source| {
        let source = source.to_ascii_lowercase();
        match source.as_str() {
            "'self'" => origin == page.to_ascii_lowercase(),
            "*" => scheme == "http" || scheme == "https",
            s if s.starts_with('\'') => false,
            s if s.ends_with(':') && !s.contains('/') => s.trim_end_matches(':') == scheme,
            s => {
                let (want_scheme, rest) = match s.split_once("://") {
                    Some((w, r)) => (w.to_owned(), r),
                    None => (page_scheme.clone(), s),
                };
                // An http source also allows https (a secure upgrade).
                let scheme_ok = want_scheme == scheme || (want_scheme == "http" && scheme == "https");
                let authority = rest.split('/').next().unwrap_or_default();
                let (want_host, want_port) = match authority.rsplit_once(':') {
                    Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
                    _ => (authority, None),
                };
                let host_ok = match want_host.strip_prefix("*.") {
                    Some(base) => host.ends_with(&format!(".{base}")),
                    None => want_host == host,
                };
                let port_ok = match want_port {
                    Some("*") => true,
                    Some(p) => p == port,
                    None => {
                        port == default_port(scheme) || (want_scheme == "http" && scheme == "https" && port == "443")
                    }
                };
                scheme_ok && host_ok && port_ok
            }
        }
    })
}

fn default_port(scheme: &str) -> &'static str {
    if scheme == "https" { "443" } else { "80" }
}

/// Host and port of an authority (the scheme's default port when none is written).
fn split_port<'a>(authority: &'a str, scheme: &str) -> (&'a str, String) {
    if let Some(v6) = authority.strip_prefix('[')
        && let Some((addr, after)) = v6.split_once(']')
    {
        let port = after.strip_prefix(':').map_or_else(|| default_port(scheme).to_owned(), str::to_owned);
        return (addr, port);
    }
    match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.to_owned()),
        None => (authority, default_port(scheme).to_owned()),
    }
}

/// The page's own origin and its Content-Security-Policy (`<meta>`), if any.
fn page_policy() -> (String, Option<String>) {
    let Some(window) = web_sys::window() else { return (String::new(), None) };
    let origin = window.location().origin().unwrap_or_default();
    let csp = window
        .document()
        .and_then(|d| d.query_selector(r#"meta[http-equiv="Content-Security-Policy"]"#).ok().flatten())
        .and_then(|m| m.get_attribute("content"));
    (origin, csp)
}

/// Why the page cannot use a relay.
#[derive(Clone, Debug, PartialEq, Eq)]
enum RelayProblem {
    /// The URL itself.
    Url(hush_client::relay::RelayUrlError),
    /// The page's Content-Security-Policy does not allow `origin`; it allows only `page`.
    Policy { origin: String, page: String },
}

impl std::fmt::Display for RelayProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RelayProblem::Url(e) => f.write_str(&crate::words::relay_url_text(*e)),
            RelayProblem::Policy { origin, page } => {
                let allowed = if page.is_empty() { t(Text::SettingsCspOwnSite) } else { page };
                f.write_str(&tf(Text::SettingsCsp, &[("origin", origin), ("allowed", allowed)]))
            }
        }
    }
}

/// Why the page cannot use `url` as its relay, if it cannot: the URL itself, or the page's
/// Content-Security-Policy.
fn relay_problem(url: &str) -> Result<String, RelayProblem> {
    let url = hush_client::relay::relay_base(url, crate::platform::page_is_secure()).map_err(RelayProblem::Url)?;
    if url.is_empty() {
        return Ok(url);
    }
    let (page, csp) = page_policy();
    let origin = origin_of(&url);
    if let Some(csp) = csp
        && !csp_allows(&csp, &page, &origin)
    {
        return Err(RelayProblem::Policy { origin, page });
    }
    Ok(url)
}

/// The relay (changed at once), the connection, and the onion paths, live.
#[component]
fn Network() -> impl IntoView {
    let app = use_app();
    let Some(engine) = app.unlocked() else { return ().into_any() };
    let relay = RwSignal::new(engine.net_status().map(|s| s.relay).unwrap_or_default());
    let status = move || {
        app.net.get().unwrap_or_else(|| NetStatus {
            connection: Connection::Connecting,
            failure: None,
            paths: Vec::new(),
            relay: relay.get_untracked(),
        })
    };
    let error = RwSignal::new(None::<String>);
    let done = RwSignal::new(None::<String>);
    let typed_problem = move || relay_problem(&relay.get()).err().map(|e| e.to_string());
    let apply = move |ev: SubmitEvent| {
        ev.prevent_default();
        done.set(None);
        let Some(engine) = app.unlocked() else { return };
        let url = match relay_problem(&relay.get()) {
            Ok(url) => url,
            Err(e) => return error.set(Some(e.to_string())),
        };
        error.set(None);
        spawn_local(async move {
            match engine.set_relay(&url).await {
                Ok(url) => {
                    relay.set(url.clone());
                    done.set(Some(t(Text::SettingsRelayChecking).to_owned()));
                    // A relay the network does not confirm is refused here and now (the status
                    // line above says why); any other problem (offline, say) is the status line's
                    // and passes.
                    match engine.check_relay().await {
                        Err(hush_client::Error::RelayRefused(_)) => {
                            done.set(None);
                            error.set(Some(t(Text::SettingsRelayRefused).to_owned()));
                        }
                        _ => done.set(Some(if url.is_empty() {
                            t(Text::SettingsRelayOwn).to_owned()
                        } else {
                            tf(Text::SettingsRelayNow, &[("url", &url)])
                        })),
                    }
                }
                Err(hush_client::Error::NotKept(e)) => {
                    error.set(Some(tf(Text::SettingsRelayNotKept, &[("problem", &crate::words::storage_text(&e))])));
                }
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
        });
    };
    let connection = move || {
        let s = status();
        let problem = crate::words::status_problem(&s);
        match s.connection {
            Connection::Connected => t(Text::SettingsConnected).to_owned(),
            // The engine's sentence says what the network did not confirm.
            Connection::RelayRefused => tf(
                Text::SettingsRelayRefusedStatus,
                &[
                    ("label", connection_label(Connection::RelayRefused)),
                    ("problem", &problem.unwrap_or_else(|| t(Text::SettingsRelayNotUsed).to_owned())),
                ],
            ),
            other => match problem {
                Some(p) => tf(Text::SettingsConnectionProblem, &[("label", connection_label(other)), ("problem", &p)]),
                None => connection_label(other).to_owned(),
            },
        }
    };
    let paths = move || status().paths;
    view! {
        <section class="card" aria-labelledby="network-title">
            <h2 id="network-title">{t(Text::SettingsNetwork)}</h2>
            <p class="status-line" role="status">{connection}</p>
            <form on:submit=apply>
                <label for="settings-relay">{t(Text::SettingsRelayUrl)}</label>
                <input id="settings-relay" type="url" placeholder=t(Text::SettingsRelayPlaceholder) autocomplete="off"
                    spellcheck="false" autocapitalize="none" aria-describedby="relay-hint"
                    prop:value=move || relay.get() on:input=move |ev| {
                        relay.set(event_target_value(&ev));
                        done.set(None);
                        error.set(None);
                    } />
                <p class="hint" id="relay-hint" class:bad=move || typed_problem().is_some()>
                    {move || typed_problem().unwrap_or_else(|| t(Text::SettingsRelayHint).to_owned())}
                </p>
                <div class="row">
                    <button class="secondary" type="submit" prop:disabled=move || typed_problem().is_some()>
                        {t(Text::SettingsUseRelay)}
                    </button>
                    <span class="status" role="status">{move || done.get().unwrap_or_default()}</span>
                </div>
                <Problem error=error />
            </form>
            <h3>{t(Text::SettingsPaths)}</h3>
            <p>{t(Text::SettingsPathsText)}</p>
            <Show when=move || !paths().is_empty()
                fallback=|| view! { <p class="note" data-testid="no-path">{t(Text::SettingsNoPath)}</p> }>
                {move || paths().into_iter().enumerate().map(|(i, hops)| view! {
                    <ol class="path" aria-label=tf(Text::SettingsPath, &[("number", &crate::i18n::number(i as u64 + 1))]) data-testid="path">
                        {hops.into_iter().map(|hop: Hop| view! {
                            <li data-guard=hop.guard.to_string()>
                                <span class="hop">{t(if hop.guard { Text::SettingsGuard } else { Text::SettingsHop })}</span>
                                " "
                                <span class="mono small" title=hop.ed25519.clone()>
                                    {format!("{}… {}", hop.ed25519.get(..12).unwrap_or(&hop.ed25519), hop.address)}
                                </span>
                            </li>
                        }).collect_view()}
                    </ol>
                }).collect_view()}
            </Show>
        </section>
    }
    .into_any()
}

/// A new passphrase, after the current one.
#[component]
fn ChangePassphrase() -> impl IntoView {
    let app = use_app();
    let current = NodeRef::<leptos::html::Input>::new();
    let pass = NodeRef::<leptos::html::Input>::new();
    let again = NodeRef::<leptos::html::Input>::new();
    let busy = RwSignal::new(false);
    let done = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        done.set(false);
        let (old, new, repeated) = (secret_value(current), secret_value(pass), secret_value(again));
        if let Err(problem) = check_new_passphrase(&new, &repeated) {
            return error.set(Some(problem.into()));
        }
        error.set(None);
        busy.set(true);
        spawn_local(async move {
            match session::change_passphrase(app, old, new).await {
                Ok(()) => {
                    clear(&[current, pass, again]);
                    done.set(true);
                }
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <form class="card" on:submit=submit aria-labelledby="passphrase-title">
            <h2 id="passphrase-title">{t(Text::PassphraseLabel)}</h2>
            <p>{t(Text::SettingsPassphraseText)}</p>
            <label for="current-passphrase">{t(Text::SettingsCurrentPassphrase)}</label>
            <input id="current-passphrase" type="password" autocomplete="current-password" required node_ref=current />
            <NewPassphrase pass=pass again=again label=Text::PassphraseNew again_label=Text::PassphraseNewAgain
                id="new-passphrase" />
            <div class="row">
                <button class="secondary" type="submit" prop:disabled=move || busy.get()>
                    {move || t(if busy.get() { Text::SettingsChanging } else { Text::SettingsChangePassphrase })}
                </button>
                <span class="status" role="status">{move || if done.get() { t(Text::SettingsPassphraseChanged) } else { "" }}</span>
            </div>
            <Problem error=error />
        </form>
    }
}

/// The recovery phrase, shown after the passphrase is entered again.
#[component]
fn RecoveryPhrase() -> impl IntoView {
    let app = use_app();
    let pass = NodeRef::<leptos::html::Input>::new();
    let revealed = RwSignal::new(None::<Zeroizing<String>>);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let reveal = move |ev: SubmitEvent| {
        ev.prevent_default();
        let p = secret_value(pass);
        busy.set(true);
        spawn_local(async move {
            match session::check_passphrase(app, p).await {
                Ok(()) => {
                    clear(&[pass]);
                    error.set(None);
                    let phrase = app.unlocked().and_then(|e| e.recovery_phrase());
                    revealed.set(phrase.map(|p| Zeroizing::new(p.as_str().to_owned())));
                }
                Err(e) => error.set(Some(crate::words::error_text(&e))),
            }
            busy.set(false);
        });
    };
    view! {
        <section class="card" aria-labelledby="reveal-title">
            <h2 id="reveal-title">{t(Text::CommonRecoveryPhrase)}</h2>
            <Show when=move || revealed.with(Option::is_some) fallback=move || view! {
                <form on:submit=reveal>
                    <label for="reveal-passphrase">{t(Text::SettingsRevealLabel)}</label>
                    <input id="reveal-passphrase" type="password" autocomplete="current-password" required node_ref=pass />
                    <div class="row">
                        <button class="secondary" type="submit" prop:disabled=move || busy.get()>
                            {t(Text::SettingsShowPhrase)}
                        </button>
                    </div>
                    <Problem error=error />
                </form>
            }>
                {move || revealed.with(Clone::clone).map(|text| view! { <SecretText text=text testid="recovery-phrase" /> })}
                <div class="row">
                    <button class="secondary" type="button" on:click=move |_| revealed.set(None)>{t(Text::SettingsHide)}</button>
                </div>
            </Show>
        </section>
    }
}

/// Blocked people, each with Unblock.
#[component]
fn Blocked() -> impl IntoView {
    let app = use_app();
    let error = RwSignal::new(None::<String>);
    let blocked =
        move || app.conversations.get().into_iter().filter(|c| c.standing == Standing::Blocked).collect::<Vec<_>>();
    view! {
        <section class="card" aria-labelledby="blocked-title">
            <h2 id="blocked-title">{t(Text::SettingsBlocked)}</h2>
            <Show when=move || !blocked().is_empty() fallback=|| view! { <p class="note">{t(Text::SettingsNoOneBlocked)}</p> }>
                <ul class="blocked-list">
                    <For each=blocked key=|c| c.peer children=move |c| {
                        let peer = c.peer;
                        let title = c.title();
                        view! {
                            <li>
                                <span class="title" title=title.clone()><bdi dir="auto" data-testid="name">{title.clone()}</bdi></span>
                                <button class="secondary" type="button" aria-label=tf(Text::SettingsUnblockName, &[("name", &title)])
                                    on:click=move |_| {
                                        spawn_local(async move {
                                            error.set(messaging::unblock(app, peer).await.err().map(|e| crate::words::error_text(&e)));
                                        });
                                    }>{t(Text::CommonUnblock)}</button>
                            </li>
                        }
                    } />
                </ul>
            </Show>
            <Problem error=error />
        </section>
    }
}

/// Deleting the account after typing DELETE.
#[component]
fn DeleteAccount() -> impl IntoView {
    let app = use_app();
    let confirm = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let delete = move |ev: SubmitEvent| {
        ev.prevent_default();
        if confirm.get().trim() != "DELETE" {
            return error.set(Some(t(Text::CommonTypeDeleteError).into()));
        }
        error.set(None);
        spawn_local(async move {
            session::delete_account(app).await;
            if app.screen.get_untracked() != Screen::Welcome {
                error.set(app.notice.get_untracked().or_else(|| Some(t(Text::CommonNotDeleted).into())));
            }
        });
    };
    view! {
        <form class="card danger" on:submit=delete aria-labelledby="delete-title">
            <h2 id="delete-title">{t(Text::SettingsDeleteTitle)}</h2>
            <p>{t(Text::SettingsDeleteText)}</p>
            <label for="delete-confirm">{t(Text::CommonTypeDelete)}</label>
            <input id="delete-confirm" type="text" autocomplete="off" spellcheck="false"
                prop:value=move || confirm.get() on:input=move |ev| confirm.set(event_target_value(&ev)) />
            <div class="row"><button class="danger" type="submit">{t(Text::CommonDeleteAccount)}</button></div>
            <Problem error=error />
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "http://127.0.0.1:8080";
    const POLICY: &str =
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' https://relay.example";

    #[test]
    fn the_page_policy_allows_its_own_origin_and_the_relay_it_was_built_for() {
        assert!(csp_allows(POLICY, PAGE, PAGE));
        assert!(csp_allows(POLICY, PAGE, "https://relay.example"));
        assert!(csp_allows(POLICY, PAGE, "https://relay.example:443"));
        assert!(!csp_allows(POLICY, PAGE, "https://other.example"));
        assert!(!csp_allows(POLICY, PAGE, "https://relay.example:8443"));
        assert!(!csp_allows(POLICY, PAGE, "http://localhost:8080"));
        assert!(!csp_allows("connect-src 'self'", PAGE, "http://127.0.0.1:8081"));
    }

    #[test]
    fn sources_schemes_wildcards_and_defaults() {
        assert!(csp_allows("script-src 'self'", PAGE, "https://any.example"));
        assert!(!csp_allows("default-src 'self'", PAGE, "https://any.example"));
        assert!(!csp_allows("connect-src 'none'", PAGE, PAGE));
        assert!(csp_allows("connect-src https:", PAGE, "https://any.example"));
        assert!(!csp_allows("connect-src https:", PAGE, "http://any.example"));
        assert!(csp_allows("connect-src *.example.org", "https://app.example", "https://relay.example.org"));
        assert!(!csp_allows("connect-src *.example.org", "https://app.example", "https://example.org"));
        assert!(csp_allows("connect-src http://relay.example", PAGE, "https://relay.example"));
        assert!(csp_allows("connect-src relay.example:*", PAGE, "http://relay.example:9000"));
        assert!(csp_allows("connect-src *", PAGE, "https://x.example"));
    }

    #[test]
    fn origins_of_relay_urls() {
        assert_eq!(origin_of("https://Relay.Example:8443/base"), "https://relay.example:8443");
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
