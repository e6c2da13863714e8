//! Files in the browser: what the person chose (picker, paste, drop) read into bytes, pictures
//! made ready to send as Session's desktop client sends them, and bytes shown or saved through
//! object URLs that live only as long as they are used.
//!
//! Pictures: a JPEG or WebP larger than [`MAX_SIDE`] pixels on a side is scaled to fit
//! [`MAX_SIDE`] × [`MAX_SIDE`] and re-encoded as JPEG (quality 0.85, lower until it fits the file
//! limit); a JPEG whose EXIF says it is turned is re-encoded upright (the browser decodes it
//! turned, and the engine removes the EXIF that said so). Every picture's width and height are
//! read here; its metadata is removed by the engine (`hush_client::images`).
//!
//! Object URLs: a picture's is revoked once its `<img>` has loaded it (and when the view goes),
//! a player's when it goes, a download's right after the click. Nothing of a file is kept in the
//! page besides what is on screen; its bytes are in the vault.

use crypto_core::attachment::MAX_FILE_BYTES;
use hush_client::NewFile;

use crate::i18n::{Text, t, tf, tn};

/// The longest side of a picture sent (Session desktop's).
pub const MAX_SIDE: u32 = 2_000;
/// The JPEG qualities tried, in order, until a scaled picture fits the file limit.
const QUALITIES: [f64; 4] = [0.85, 0.75, 0.6, 0.45];

/// A file the person chose and has not sent yet.
#[derive(Clone, Debug)]
pub struct Chosen {
    /// Tells it from the others in the composer.
    pub id: u64,
    /// The browser's file.
    pub file: web_sys::File,
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its MIME type (lower case; `application/octet-stream` when the browser gives none).
    pub content_type: String,
    /// A picture's preview (an object URL, revoked once shown).
    pub preview: Option<String>,
}

impl Chosen {
    /// `file` as chosen; a picture gets a preview.
    pub fn new(id: u64, file: web_sys::File) -> Chosen {
        let content_type = match file.type_().trim().to_ascii_lowercase() {
            t if t.is_empty() => "application/octet-stream".to_owned(),
            t => t,
        };
        let preview = if shows_inline(&content_type) { imp::url_of_blob(&file) } else { None };
        let (name, size) = (file.name(), file.size() as u64);
        Chosen { id, file, name, size, content_type, preview }
    }

    /// Whether it is a picture shown inline.
    pub fn is_picture(&self) -> bool {
        shows_inline(&self.content_type)
    }
}

/// Whether a picture of `content_type` is shown inline (the types whose metadata the engine
/// removes; others go as files).
pub fn shows_inline(content_type: &str) -> bool {
    hush_client::images::PICTURE_TYPES.contains(&content_type)
}

/// Why a chosen file cannot be added, as a sentence: too large (before anything is uploaded).
pub fn refusal(name: &str, size: u64) -> Option<String> {
    (size > MAX_FILE_BYTES as u64).then(|| {
        tf(
            Text::AttachTooLarge,
            &[
                ("name", name),
                ("size", &hush_client::megabytes(size)),
                ("max", &hush_client::megabytes(MAX_FILE_BYTES as u64)),
            ],
        )
    })
}

/// A size as people read it: "512 bytes", "34 KB", "1.2 MB" (10³ steps, one decimal below ten).
pub fn size_text(bytes: u64) -> String {
    if bytes < 1_000 {
        return tn(Text::FileBytes, bytes, &[]);
    }
    let (unit, text) = if bytes <= 999_000 { (1_000, Text::FileKb) } else { (1_000_000, Text::FileMb) };
    let tenths = (bytes * 10).div_ceil(unit);
    let value = if tenths < 100 { crate::i18n::decimal(tenths) } else { crate::i18n::number(bytes.div_ceil(unit)) };
    tf(text, &[("size", &value)])
}

/// `name` as the file's label, or what it is when it has none.
pub fn label(name: Option<&str>) -> String {
    name.map_or_else(|| t(Text::FileUnnamed).to_owned(), str::to_owned)
}

/// The width and height of a picture of `width` × `height` fitted into `side` × `side`, never
/// enlarged.
pub fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let longest = width.max(height);
    if longest <= side || longest == 0 {
        return (width, height);
    }
    let scale = |x: u32| ((u64::from(x) * u64::from(side) + u64::from(longest) / 2) / u64::from(longest)).max(1) as u32;
    (scale(width), scale(height))
}

/// `name` with its extension made `.jpg` (a picture re-encoded as JPEG).
fn as_jpeg_name(name: &str) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    format!("{stem}.jpg")
}

/// The chosen file made ready to send: read, and a picture scaled or turned upright as needed.
/// `None` when the browser could not read it.
pub async fn prepare(chosen: &Chosen) -> Option<NewFile> {
    let bytes = imp::read(&chosen.file).await?;
    let mut file = NewFile {
        file_name: chosen.name.clone(),
        content_type: chosen.content_type.clone(),
        bytes,
        width: None,
        height: None,
        voice: false,
    };
    if !chosen.is_picture() {
        return Some(file);
    }
    let Some((width, height)) = imp::dimensions(&chosen.file).await else { return Some(file) };
    let turned = chosen.content_type == "image/jpeg"
        && hush_client::images::jpeg_orientation(&file.bytes).is_some_and(|o| o != 1);
    let scalable = matches!(chosen.content_type.as_str(), "image/jpeg" | "image/webp");
    if scalable && (width.max(height) > MAX_SIDE || turned) {
        let (w, h) = fit(width, height, MAX_SIDE);
        for quality in QUALITIES {
            let Some(jpeg) = imp::reencode(&chosen.file, w, h, quality).await else { break };
            if jpeg.len() <= MAX_FILE_BYTES {
                file.bytes = jpeg;
                file.content_type = "image/jpeg".to_owned();
                file.file_name = as_jpeg_name(&chosen.name);
                (file.width, file.height) = (Some(w), Some(h));
                return Some(file);
            }
        }
    }
    (file.width, file.height) = (Some(width), Some(height));
    Some(file)
}

/// The longest side of a profile picture as it is uploaded.
pub const PICTURE_SIDE: u32 = 640;

/// A profile picture from the picture `file`: drawn upright at most [`PICTURE_SIDE`] on a side
/// and encoded as a JPEG (which also leaves its metadata behind); none if it is not a picture
/// the browser can draw.
pub async fn profile_picture(file: &web_sys::File) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    let (width, height) = imp::dimensions(file).await?;
    let (w, h) = if width.max(height) > PICTURE_SIDE { fit(width, height, PICTURE_SIDE) } else { (width, height) };
    imp::reencode(file, w, h, 0.85).await
}

/// An object URL for `bytes` of type `content_type` (revoke it with [`revoke`]).
pub fn object_url(bytes: &[u8], content_type: &str) -> Option<String> {
    imp::object_url(bytes, content_type)
}

/// Revokes an object URL.
pub fn revoke(url: &str) {
    imp::revoke(url);
}

/// Saves `bytes` as a download named `name`: an object URL on a temporary `<a download>`,
/// revoked right after the click.
pub fn save(bytes: &[u8], content_type: &str, name: &str) {
    imp::save(bytes, content_type, name);
}

/// The files of a `FileList` (picker, paste, drop).
pub fn list(files: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(files) = files else { return Vec::new() };
    (0..files.length()).filter_map(|i| files.get(i)).collect()
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use zeroize::Zeroizing;

    pub fn url_of_blob(blob: &web_sys::Blob) -> Option<String> {
        web_sys::Url::create_object_url_with_blob(blob).ok()
    }

    pub async fn read(blob: &web_sys::Blob) -> Option<Zeroizing<Vec<u8>>> {
        let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
        let array = js_sys::Uint8Array::new(&buffer);
        let bytes = Zeroizing::new(array.to_vec());
        // The browser's copy is left to its collector; ours is wiped when dropped.
        array.fill(0, 0, array.length());
        Some(bytes)
    }

    async fn bitmap(blob: &web_sys::Blob) -> Option<web_sys::ImageBitmap> {
        let window = web_sys::window()?;
        let promise = window.create_image_bitmap_with_blob(blob).ok()?;
        JsFuture::from(promise).await.ok()?.dyn_into().ok()
    }

    /// A picture's width and height as it is shown (its EXIF orientation applied).
    pub async fn dimensions(blob: &web_sys::Blob) -> Option<(u32, u32)> {
        let bitmap = bitmap(blob).await?;
        let size = (bitmap.width(), bitmap.height());
        bitmap.close();
        (size.0 > 0 && size.1 > 0).then_some(size)
    }

    /// The picture drawn upright at `width` × `height` on white, as a JPEG of `quality`.
    pub async fn reencode(blob: &web_sys::Blob, width: u32, height: u32, quality: f64) -> Option<Zeroizing<Vec<u8>>> {
        let bitmap = bitmap(blob).await?;
        let drawn = async {
            let canvas = web_sys::OffscreenCanvas::new(width, height).ok()?;
            let context: web_sys::OffscreenCanvasRenderingContext2d =
                canvas.get_context("2d").ok()??.dyn_into().ok()?;
            context.set_fill_style_str("#fff");
            context.fill_rect(0.0, 0.0, f64::from(width), f64::from(height));
            context
                .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, f64::from(width), f64::from(height))
                .ok()?;
            let options = web_sys::ImageEncodeOptions::new();
            options.set_type("image/jpeg");
            options.set_quality(quality);
            let blob: web_sys::Blob =
                JsFuture::from(canvas.convert_to_blob_with_options(&options).ok()?).await.ok()?.dyn_into().ok()?;
            read(&blob).await
        }
        .await;
        bitmap.close();
        drawn
    }

    pub fn object_url(bytes: &[u8], content_type: &str) -> Option<String> {
        let array = js_sys::Uint8Array::from(bytes);
        let parts = js_sys::Array::of1(&array);
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(content_type);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).ok()?;
        array.fill(0, 0, array.length());
        url_of_blob(&blob)
    }

    pub fn revoke(url: &str) {
        let _ = web_sys::Url::revoke_object_url(url);
    }

    pub fn save(bytes: &[u8], content_type: &str, name: &str) {
        let Some(url) = object_url(bytes, content_type) else { return };
        let link = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.create_element("a").ok())
            .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
        if let Some(link) = link {
            link.set_href(&url);
            link.set_download(name);
            link.click();
        }
        revoke(&url);
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod imp {
    use zeroize::Zeroizing;

    pub fn url_of_blob(_blob: &web_sys::Blob) -> Option<String> {
        None
    }

    pub async fn read(_blob: &web_sys::Blob) -> Option<Zeroizing<Vec<u8>>> {
        None
    }

    pub async fn dimensions(_blob: &web_sys::Blob) -> Option<(u32, u32)> {
        None
    }

    pub async fn reencode(_blob: &web_sys::Blob, _w: u32, _h: u32, _quality: f64) -> Option<Zeroizing<Vec<u8>>> {
        None
    }

    pub fn object_url(_bytes: &[u8], _content_type: &str) -> Option<String> {
        None
    }

    pub fn revoke(_url: &str) {}

    pub fn save(_bytes: &[u8], _content_type: &str, _name: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_fit_the_box_keeping_their_shape_and_are_never_enlarged() {
        assert_eq!(fit(4000, 3000, 2000), (2000, 1500));
        assert_eq!(fit(3000, 4000, 2000), (1500, 2000));
        assert_eq!(fit(2000, 2000, 2000), (2000, 2000));
        assert_eq!(fit(640, 480, 2000), (640, 480));
        assert_eq!(fit(100_000, 1, 2000), (2000, 1));
        assert_eq!(fit(0, 0, 2000), (0, 0));
    }

    #[test]
    fn sizes_read_in_bytes_kilobytes_and_megabytes() {
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(999), "999 bytes");
        assert_eq!(size_text(1_000), "1 KB");
        assert_eq!(size_text(1_234), "1.3 KB");
        assert_eq!(size_text(34_000), "34 KB");
        assert_eq!(size_text(999_000), "999 KB");
        assert_eq!(size_text(999_999), "1 MB");
        assert_eq!(size_text(1_200_000), "1.2 MB");
        assert_eq!(size_text(10_000_000), "10 MB");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_anything_is_sent() {
        assert_eq!(refusal("a.bin", 10_000_000), None);
        let said = refusal("big.mov", 10_000_001).unwrap();
        assert!(said.contains("big.mov") && said.contains("10.1 MB") && said.contains("10 MB"), "{said}");
    }

    #[test]
    fn a_reencoded_picture_is_named_as_a_jpeg() {
        assert_eq!(as_jpeg_name("IMG_1.webp"), "IMG_1.jpg");
        assert_eq!(as_jpeg_name("photo.final.JPEG"), "photo.final.jpg");
        assert_eq!(as_jpeg_name(".hidden"), ".hidden.jpg");
        assert_eq!(as_jpeg_name("noext"), "noext.jpg");
    }
}
