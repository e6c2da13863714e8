//! The account as the vault keeps it, and the rules the onboarding screens apply.

use crypto_core::identity::{Identity, Seed};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The vault record id of the account.
pub const ACCOUNT_ID: &[u8] = b"account";

/// Colour theme.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    /// Follow the system.
    #[default]
    System,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// What a system notification of a new message shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum NotificationContent {
    /// The sender's name and the message's text.
    #[default]
    NameAndText,
    /// The sender's name only.
    NameOnly,
    /// Neither: "New message".
    Nothing,
}

/// What the account stores (sealed in the vault).
#[derive(Clone, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub struct Account {
    /// The 16-byte seed, hex.
    seed_hex: String,
    /// The name others see.
    pub display_name: String,
    /// Minutes of inactivity before the vault locks (0: never).
    #[zeroize(skip)]
    pub idle_lock_minutes: u32,
    /// The relay URL (empty: the app's own origin).
    pub relay_url: String,
    /// Colour theme.
    #[zeroize(skip)]
    pub theme: Theme,
    /// Send read receipts, and show those others send (off by default, as Session's clients).
    #[zeroize(skip)]
    #[serde(default)]
    pub read_receipts: bool,
    /// Send typing indicators, and show those others send (off by default).
    #[zeroize(skip)]
    #[serde(default)]
    pub typing_indicators: bool,
    /// System notifications of new messages while the page is hidden (off until the person turns
    /// them on, which is when the browser is asked).
    #[zeroize(skip)]
    #[serde(default)]
    pub notifications: bool,
    /// What those notifications show.
    #[zeroize(skip)]
    #[serde(default)]
    pub notification_content: NotificationContent,
    /// The emoji this account reacted with lately, most recent first (at most
    /// [`RECENT_REACTIONS`]), for the reaction picker.
    #[serde(default)]
    pub recent_reactions: Vec<String>,
    /// This account's profile picture (its bytes are in the vault's `files` store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avatar: Option<crate::attachments::Avatar>,
    /// When the profile (name or picture) last changed (s), as messages carry it.
    #[zeroize(skip)]
    #[serde(default)]
    pub profile_updated_s: u64,
}

/// How many recent reactions the account keeps.
pub const RECENT_REACTIONS: usize = 6;
/// The reactions a picker offers before any was used (Session's clients offer these).
pub const DEFAULT_REACTIONS: [&str; 6] = ["👍", "❤️", "😂", "😮", "😢", "😡"];

impl Account {
    /// The reactions to offer first: the recent ones, then the defaults, six in all.
    pub fn quick_reactions(&self) -> Vec<String> {
        let mut out: Vec<String> = self.recent_reactions.iter().take(RECENT_REACTIONS).cloned().collect();
        for emoji in DEFAULT_REACTIONS {
            if out.len() >= RECENT_REACTIONS {
                break;
            }
            if !out.iter().any(|e| e == emoji) {
                out.push(emoji.to_owned());
            }
        }
        out
    }

    /// Notes that `emoji` was just used.
    pub fn used_reaction(&mut self, emoji: &str) {
        self.recent_reactions.retain(|e| e != emoji);
        self.recent_reactions.insert(0, emoji.to_owned());
        self.recent_reactions.truncate(RECENT_REACTIONS);
    }
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").finish_non_exhaustive()
    }
}

impl Account {
    /// A new account record for `seed`.
    pub fn new(seed: &Seed, display_name: &str) -> Account {
        Account {
            seed_hex: hex::encode(seed.as_bytes()),
            display_name: display_name.trim().to_owned(),
            idle_lock_minutes: 15,
            relay_url: String::new(),
            theme: Theme::System,
            read_receipts: false,
            typing_indicators: false,
            notifications: false,
            notification_content: NotificationContent::NameAndText,
            recent_reactions: Vec::new(),
            avatar: None,
            profile_updated_s: 0,
        }
    }

    /// The account's keys.
    pub fn identity(&self) -> Option<Identity> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(&self.seed_hex, &mut bytes).ok()?;
        let identity = Identity::from_seed(&Seed::from_bytes(bytes));
        bytes.zeroize();
        Some(identity)
    }

    /// Serialized for the vault.
    pub fn to_bytes(&self) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Parsed from the vault.
    pub fn from_bytes(bytes: &[u8]) -> Option<Account> {
        serde_json::from_slice(bytes).ok()
    }
}

/// How strong a passphrase looks, for the hint under the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Too short to accept.
    TooShort,
    /// Acceptable but easy to guess.
    Weak,
    /// Reasonable.
    Fair,
    /// Good.
    Strong,
}

/// The shortest passphrase accepted.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

impl Strength {
    /// A rough estimate from length and variety (and repetition).
    pub fn of(passphrase: &str) -> Strength {
        let chars: Vec<char> = passphrase.chars().collect();
        if chars.len() < MIN_PASSPHRASE_CHARS {
            return Strength::TooShort;
        }
        let classes = [
            chars.iter().any(|c| c.is_lowercase()),
            chars.iter().any(|c| c.is_uppercase()),
            chars.iter().any(|c| c.is_ascii_digit()),
            chars.iter().any(|c| !c.is_alphanumeric()),
        ]
        .iter()
        .filter(|&&b| b)
        .count();
        let mut distinct = chars.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let score = chars.len().min(24) + classes * 3 + distinct.len().min(16) / 2;
        match score {
            _ if distinct.len() < 4 => Strength::Weak,
            0..=17 => Strength::Weak,
            18..=25 => Strength::Fair,
            _ => Strength::Strong,
        }
    }

    /// The hint shown to the person.
    pub fn hint(self) -> &'static str {
        match self {
            Strength::TooShort => "Use at least 8 characters.",
            Strength::Weak => "Weak: easy to guess. A few unrelated words work well.",
            Strength::Fair => "Fair. Longer is stronger.",
            Strength::Strong => "Strong.",
        }
    }
}

/// Three distinct 1-based word positions (of 12 data words) the person must type back.
pub fn confirmation_positions(random: [u8; 3]) -> [usize; 3] {
    let mut positions: Vec<usize> = (1..=12).collect();
    let mut out = [0usize; 3];
    for (slot, r) in out.iter_mut().zip(random) {
        let i = usize::from(r) % positions.len();
        *slot = positions.remove(i);
    }
    out.sort_unstable();
    out
}

/// Whether the typed word matches the phrase's word (case and spaces ignored).
pub fn word_matches(phrase: &str, position: usize, typed: &str) -> bool {
    phrase.split(' ').nth(position.wrapping_sub(1)).is_some_and(|w| w.eq_ignore_ascii_case(typed.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_reactions_put_the_recent_first_and_fill_with_the_defaults() {
        let mut a = Account::new(&Seed::from_bytes([7; 16]), "A");
        assert_eq!(a.quick_reactions(), DEFAULT_REACTIONS.map(String::from));
        a.used_reaction("🎉");
        a.used_reaction("👍");
        assert_eq!(a.quick_reactions(), ["👍", "🎉", "❤️", "😂", "😮", "😢"]);
        for e in ["1", "2", "3", "4", "5", "6", "7"] {
            a.used_reaction(e);
        }
        assert_eq!(a.recent_reactions, ["7", "6", "5", "4", "3", "2"], "bounded, most recent first");
    }

    #[test]
    fn strength_hints() {
        assert_eq!(Strength::of("short"), Strength::TooShort);
        assert_eq!(Strength::of("aaaaaaaaaaaa"), Strength::Weak);
        assert_eq!(Strength::of("password"), Strength::Weak);
        assert!(Strength::of("Tr0ub4dor&3x") >= Strength::Fair);
        assert_eq!(Strength::of("correct horse battery staple"), Strength::Strong);
    }

    #[test]
    fn confirmation_positions_are_distinct_and_in_range() {
        for a in 0..=255u8 {
            let p = confirmation_positions([a, a.wrapping_mul(7), a.wrapping_add(3)]);
            assert!(p[0] < p[1] && p[1] < p[2] && p[0] >= 1 && p[2] <= 12, "{p:?}");
        }
    }

    #[test]
    fn words_match_loosely() {
        let phrase = "vexed enjoy pigment";
        assert!(word_matches(phrase, 2, " Enjoy "));
        assert!(!word_matches(phrase, 2, "enjoyed"));
        assert!(!word_matches(phrase, 0, "vexed"));
        assert!(!word_matches(phrase, 9, "vexed"));
    }

    #[test]
    fn account_round_trips_and_does_not_print() {
        let seed = Seed::from_bytes([9; 16]);
        let account = Account::new(&seed, "  Alice ");
        let back = Account::from_bytes(&account.to_bytes()).unwrap();
        assert_eq!(back.display_name, "Alice");
        assert_eq!(back.identity().unwrap().session_id(), Identity::from_seed(&seed).session_id());
        assert_eq!(format!("{account:?}"), "Account { .. }");
        assert!(Account::from_bytes(b"not json").is_none());
    }
}
