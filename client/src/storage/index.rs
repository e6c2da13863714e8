//! Each conversation's message index: pages of (timestamp, message id) in `message-pages`, page
//! `n` of a peer holding messages no later than page `n + 1`. Filing a message rewrites one page of
//! at most [`PAGE_LIMIT`] entries, never a record that grows with the history; readers take pages
//! from the newest back.
//!
//! The index is part of the vault's format (schema 3), so it lives beside the vault: the
//! migration that builds it and the conversations that use it both depend on this module, and it
//! depends on neither.

use serde::{Deserialize, Serialize};

use super::{Backend, Read, StorageError, Vault, stores};

/// Entries an index page takes before the next message in order starts a new page.
pub const PAGE_ENTRIES: usize = 32;
/// The most entries a page holds. A message that arrives late (its timestamp before the newest
/// page's) goes into the older page where it belongs, which may grow past [`PAGE_ENTRIES`]; a page
/// at this limit takes no more, and such a message is filed with the newest instead. So no page,
/// and no write, grows without bound, whatever timestamps senders choose.
pub const PAGE_LIMIT: usize = 2 * PAGE_ENTRIES;

/// One page of a conversation's index: (timestamp, message id), sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub entries: Vec<(u64, String)>,
}

/// The record id of page `n` of the conversation with `peer`.
pub fn page_id(peer: &str, n: u32) -> Vec<u8> {
    format!("{peer}/{n}").into_bytes()
}

pub async fn read_page<B: Backend>(vault: &Vault<B>, peer: &str, n: u32) -> Result<Read<Page>, StorageError> {
    vault.read(stores::MESSAGE_PAGES, &page_id(peer, n)).await
}

/// The number of index pages of `peer`, from the conversation record's count: pages past it
/// (written just before an interrupted update of the record, or after the record was lost) are
/// found by looking one further.
pub async fn page_count<B: Backend>(vault: &Vault<B>, peer: &str, recorded: u32) -> Result<u32, StorageError> {
    let mut count = recorded;
    while !matches!(read_page(vault, peer, count).await?, Read::Missing) {
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// Adds (timestamp, id) to the index of `peer`, whose conversation record counts `recorded` pages
/// (`None`: no readable record, so the pages are counted); returns the page count.
pub async fn add<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    recorded: Option<u32>,
    timestamp: u64,
    id: &str,
) -> Result<u32, StorageError> {
    let mut count = match recorded {
        Some(n) => n,
        None => page_count(vault, peer, 0).await?,
    };
    loop {
        if place(vault, peer, count, timestamp, id).await? {
            return Ok(count);
        }
        // A new newest page; unless pages past the count are already there (written by a filing
        // cut short before it updated the conversation record): then file among them.
        let real = page_count(vault, peer, count).await?;
        if real == count {
            let page = Page { entries: vec![(timestamp, id.to_owned())] };
            vault.write(stores::MESSAGE_PAGES, &page_id(peer, count), &page).await?;
            return Ok(count.saturating_add(1));
        }
        count = real;
    }
}

/// Puts (timestamp, id) into one of the `count` existing pages, if one takes it: the page it
/// belongs in (the newest whose first entry is not after it, else the first; damaged pages are
/// passed over), unless that is the full newest page and it comes last (then a new page is due),
/// or a page at [`PAGE_LIMIT`] (then the newest takes it if it has room).
async fn place<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    count: u32,
    timestamp: u64,
    id: &str,
) -> Result<bool, StorageError> {
    let key = (timestamp, id);
    let position = |page: &Page| page.entries.binary_search_by(|(t, i)| (*t, i.as_str()).cmp(&key));
    let Some(newest) = count.checked_sub(1) else { return Ok(false) };
    let mut n = newest;
    let mut page = read_page(vault, peer, n).await?;
    loop {
        let fits = match &page {
            Read::Found(p) => p.entries.first().is_none_or(|(t, i)| (*t, i.as_str()) <= key),
            Read::Missing | Read::Damaged => false,
        };
        if fits || n == 0 {
            break;
        }
        n -= 1;
        page = read_page(vault, peer, n).await?;
    }
    let Read::Found(mut p) = page else { return Ok(false) };
    match position(&p) {
        Ok(_) => Ok(true),
        Err(at) if n == newest && at == p.entries.len() && p.entries.len() >= PAGE_ENTRIES => Ok(false),
        Err(at) if p.entries.len() < PAGE_LIMIT => {
            p.entries.insert(at, (timestamp, id.to_owned()));
            vault.write(stores::MESSAGE_PAGES, &page_id(peer, n), &p).await?;
            Ok(true)
        }
        Err(_) if n != newest => match read_page(vault, peer, newest).await? {
            Read::Found(mut p) if p.entries.len() < PAGE_ENTRIES => {
                if let Err(at) = position(&p) {
                    p.entries.insert(at, (timestamp, id.to_owned()));
                    vault.write(stores::MESSAGE_PAGES, &page_id(peer, newest), &p).await?;
                }
                Ok(true)
            }
            _ => Ok(false),
        },
        Err(_) => Ok(false),
    }
}

/// The most pages [`at_time`] reads back from the newest: a reference to a message older than
/// about 2,000 messages is not looked for (a peer naming old times cannot make every reaction
/// read a whole long history).
pub const FIND_PAGES: u32 = 64;

/// The ids filed at `timestamp` in the index of `peer` (`count` pages), newest pages first,
/// looking back at most [`FIND_PAGES`] pages and no further than a page wholly before it.
pub async fn at_time<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    count: u32,
    timestamp: u64,
) -> Result<Vec<String>, StorageError> {
    let pages = reaching(vault, peer, count.saturating_sub(FIND_PAGES)..count, timestamp).await?;
    Ok(pages
        .iter()
        .flat_map(|(_, page)| page.entries.iter().filter(|(t, _)| *t == timestamp).map(|(_, id)| id.clone()))
        .collect())
}

/// Takes `id`, filed at `timestamp`, out of the index of `peer` (`count` pages); returns whether
/// it was there.
pub async fn remove<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    count: u32,
    timestamp: u64,
    id: &str,
) -> Result<bool, StorageError> {
    for (n, mut page) in reaching(vault, peer, 0..count, timestamp).await? {
        let before = page.entries.len();
        page.entries.retain(|(t, i)| !(*t == timestamp && i == id));
        if page.entries.len() != before {
            vault.write(stores::MESSAGE_PAGES, &page_id(peer, n), &page).await?;
            return Ok(true);
        }
    }
    Ok(false)
}

/// The pages among `pages` of `peer`'s index that may hold entries filed at `timestamp`, newest
/// first with their numbers: read from the newest back, ending with the first page that reaches
/// before `timestamp` (entries are sorted, so no older page holds it). Missing pages are skipped.
async fn reaching<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    pages: core::ops::Range<u32>,
    timestamp: u64,
) -> Result<Vec<(u32, Page)>, StorageError> {
    let mut found = Vec::new();
    for n in pages.rev() {
        let Read::Found(page) = read_page(vault, peer, n).await? else { continue };
        let before = page.entries.last().is_some_and(|(t, _)| *t < timestamp);
        if page.entries.iter().any(|(t, _)| *t == timestamp) {
            found.push((n, page));
        }
        if before {
            break;
        }
    }
    Ok(found)
}

/// Writes `entries` (sorted) as the whole index of `peer`, [`PAGE_ENTRIES`] to a page; returns the
/// page count. Used by the migration that builds the index from the old message lists.
pub async fn write_index<B: Backend>(
    vault: &Vault<B>,
    peer: &str,
    entries: &[(u64, String)],
) -> Result<u32, StorageError> {
    let mut count = 0u32;
    for chunk in entries.chunks(PAGE_ENTRIES) {
        vault.write(stores::MESSAGE_PAGES, &page_id(peer, count), &Page { entries: chunk.to_vec() }).await?;
        count = count.saturating_add(1);
    }
    Ok(count)
}
