//! Pictures' metadata, removed before they are sent: where and when a photo was taken, the camera
//! and its owner, editing software, comments. Only bytes are read and written; nothing is
//! decoded, so the picture itself goes out exactly as it was.
//!
//! - JPEG: the APP1–APP15 segments (EXIF with GPS, XMP, Photoshop's IPTC, makers' notes…) and
//!   comments (COM) go; APP0 (JFIF) stays, and so do two segments needed to show the picture
//!   right, which say nothing of who took it: APP2 `ICC_PROFILE` (its colours) and APP14 `Adobe`
//!   (how CMYK and YCCK pictures are to be decoded). Whatever follows the picture's end (EOI) —
//!   some cameras append a second picture or a video there — goes too.
//! - PNG: the critical chunks and those that change how it looks (PLTE, tRNS, gAMA, cHRM, sRGB,
//!   iCCP, sBIT, pHYs, and animation: acTL, fcTL, fdAT) stay; text (tEXt, zTXt, iTXt), eXIf,
//!   tIME and any other ancillary chunk go.
//! - GIF: comment extensions, and application extensions other than looping (NETSCAPE2.0,
//!   ANIMEXTS1.0), go.
//! - WebP: the EXIF and XMP chunks go and their flags in VP8X are cleared.
//!
//! [`strip_metadata`] answers `None` for bytes that do not parse as the type they claim (the
//! file is then sent as a plain file, not as a picture), and never panics.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

/// The picture types whose metadata Hush removes (and so sends as pictures).
pub const PICTURE_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/gif", "image/webp"];

/// `bytes`, a picture of type `content_type`, without its metadata; `None` when the type is not
/// one of [`PICTURE_TYPES`] or the bytes do not parse as it.
pub fn strip_metadata(content_type: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    match content_type.trim().to_ascii_lowercase().as_str() {
        "image/jpeg" | "image/jpg" => jpeg(bytes),
        "image/png" => png(bytes),
        "image/gif" => gif(bytes),
        "image/webp" => webp(bytes),
        _ => None,
    }
}

/// A JPEG's EXIF orientation (1–8; 1 is upright), when it has one.
pub fn jpeg_orientation(bytes: &[u8]) -> Option<u16> {
    let mut at = 2usize;
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    loop {
        let (marker, body, next) = jpeg_segment(bytes, at)?;
        if marker == 0xDA {
            return None;
        }
        if marker == 0xE1
            && let Some(tiff) = body.strip_prefix(b"Exif\0\0")
            && let Some(o) = exif_orientation(tiff)
        {
            return Some(o);
        }
        at = next;
    }
}

/// Reads IFD0 of a TIFF header for tag 0x0112.
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let little = match tiff.get(..2)? {
        b"II" => true,
        b"MM" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if little { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if little { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    };
    if u16_at(2)? != 42 {
        return None;
    }
    let ifd = usize::try_from(u32_at(4)?).ok()?;
    let count = usize::from(u16_at(ifd)?);
    for i in 0..count.min(512) {
        let entry = ifd.checked_add(2)?.checked_add(i.checked_mul(12)?)?;
        if u16_at(entry)? == 0x0112 {
            let value = u16_at(entry.checked_add(8)?)?;
            return (1..=8).contains(&value).then_some(value);
        }
    }
    None
}

/// The segment at `at` (its marker byte, its body without the length, where the next starts).
/// Fill bytes (0xFF) before a marker are skipped.
fn jpeg_segment(bytes: &[u8], mut at: usize) -> Option<(u8, &[u8], usize)> {
    if *bytes.get(at)? != 0xFF {
        return None;
    }
    while *bytes.get(at.checked_add(1)?)? == 0xFF {
        at = at.checked_add(1)?;
    }
    let marker = *bytes.get(at.checked_add(1)?)?;
    let len_at = at.checked_add(2)?;
    let len = usize::from(u16::from_be_bytes(bytes.get(len_at..len_at.checked_add(2)?)?.try_into().ok()?));
    if len < 2 {
        return None;
    }
    let end = len_at.checked_add(len)?;
    let body = bytes.get(len_at.checked_add(2)?..end)?;
    Some((marker, body, end))
}

/// Whether a JPEG marker stands alone (no length follows): TEM, RST0–7, SOI, EOI.
fn standalone(marker: u8) -> bool {
    marker == 0x01 || (0xD0..=0xD9).contains(&marker)
}

fn jpeg(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, 0xD8]);
    let mut at = 2usize;
    let mut frame = false;
    loop {
        // Markers, between segments: fill bytes are dropped.
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        while *bytes.get(at.checked_add(1)?)? == 0xFF {
            at = at.checked_add(1)?;
        }
        let marker = *bytes.get(at.checked_add(1)?)?;
        if marker == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return frame.then_some(out);
        }
        if standalone(marker) || marker == 0x00 {
            return None;
        }
        let (_, body, next) = jpeg_segment(bytes, at)?;
        let keep = match marker {
            0xE0 => true,
            0xE2 => body.starts_with(b"ICC_PROFILE\0"),
            0xEE => body.starts_with(b"Adobe"),
            0xE1..=0xEF | 0xFE => false,
            _ => true,
        };
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            frame = true;
        }
        if keep {
            out.extend_from_slice(bytes.get(at..next)?);
        }
        at = next;
        if marker == 0xDA {
            // The scan's entropy-coded data runs to the next marker that is not a stuffed zero
            // (FF 00) or a restart (FF D0–D7); it is kept as it is.
            let start = at;
            loop {
                let ff = at.checked_add(bytes.get(at..)?.iter().position(|&b| b == 0xFF)?)?;
                let mut m = ff.checked_add(1)?;
                while *bytes.get(m)? == 0xFF {
                    m = m.checked_add(1)?;
                }
                let next_marker = *bytes.get(m)?;
                if next_marker == 0x00 || (0xD0..=0xD7).contains(&next_marker) {
                    at = m.checked_add(1)?;
                    continue;
                }
                out.extend_from_slice(bytes.get(start..ff)?);
                at = ff;
                break;
            }
        }
    }
}

/// PNG's ancillary chunks that change how a picture looks (kept); every other ancillary chunk is
/// metadata or unknown (dropped).
const PNG_KEPT: [&[u8; 4]; 11] =
    [b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs", b"acTL", b"fcTL", b"fdAT"];

fn png(bytes: &[u8]) -> Option<Vec<u8>> {
    const SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    if bytes.get(..8)? != SIGNATURE {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&SIGNATURE);
    let mut at = 8usize;
    let mut first = true;
    loop {
        let len = usize::try_from(u32::from_be_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?)).ok()?;
        let kind: [u8; 4] = bytes.get(at.checked_add(4)?..at.checked_add(8)?)?.try_into().ok()?;
        let end = at.checked_add(12)?.checked_add(len)?;
        let chunk = bytes.get(at..end)?;
        if first && &kind != b"IHDR" {
            return None;
        }
        first = false;
        // Bit 5 of the first letter: lower case is ancillary.
        let critical = kind.first().is_some_and(|b| b & 0x20 == 0);
        if critical || PNG_KEPT.contains(&&kind) {
            out.extend_from_slice(chunk);
        }
        if &kind == b"IEND" {
            return Some(out);
        }
        at = end;
    }
}

fn gif(bytes: &[u8]) -> Option<Vec<u8>> {
    let header = bytes.get(..6)?;
    if header != b"GIF87a" && header != b"GIF89a" {
        return None;
    }
    let flags = *bytes.get(10)?;
    let mut at = 13usize;
    if flags & 0x80 != 0 {
        at = at.checked_add(3usize.checked_mul(2usize.checked_shl(u32::from(flags & 0x07))?)?)?;
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(bytes.get(..at)?);
    // The end of the sub-blocks starting at `from` (after their zero terminator).
    let sub_blocks = |mut from: usize| -> Option<usize> {
        loop {
            let size = usize::from(*bytes.get(from)?);
            from = from.checked_add(1)?.checked_add(size)?;
            if size == 0 {
                return Some(from);
            }
        }
    };
    loop {
        match *bytes.get(at)? {
            0x3B => {
                out.push(0x3B);
                return Some(out);
            }
            0x2C => {
                let packed = *bytes.get(at.checked_add(9)?)?;
                let mut data = at.checked_add(10)?;
                if packed & 0x80 != 0 {
                    data = data.checked_add(3usize.checked_mul(2usize.checked_shl(u32::from(packed & 0x07))?)?)?;
                }
                // The LZW minimum code size, then the picture's sub-blocks.
                let end = sub_blocks(data.checked_add(1)?)?;
                out.extend_from_slice(bytes.get(at..end)?);
                at = end;
            }
            0x21 => {
                let label = *bytes.get(at.checked_add(1)?)?;
                let body = at.checked_add(2)?;
                let end = sub_blocks(body)?;
                let keep = match label {
                    // Graphic control (timing, transparency) and plain text are the picture.
                    0xF9 | 0x01 => true,
                    0xFF => {
                        let id = bytes.get(body..body.checked_add(12)?)?;
                        id == b"\x0bNETSCAPE2.0" || id == b"\x0bANIMEXTS1.0"
                    }
                    _ => false,
                };
                if keep {
                    out.extend_from_slice(bytes.get(at..end)?);
                }
                at = end;
            }
            _ => return None,
        }
    }
}

fn webp(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.get(..4)? != b"RIFF" || bytes.get(8..12)? != b"WEBP" {
        return None;
    }
    let riff_len = usize::try_from(u32::from_le_bytes(bytes.get(4..8)?.try_into().ok()?)).ok()?;
    let end = riff_len.checked_add(8)?;
    let body = bytes.get(12..end)?;
    let mut chunks = Vec::with_capacity(body.len());
    let mut at = 0usize;
    let mut image = false;
    while at < body.len() {
        let kind: [u8; 4] = body.get(at..at.checked_add(4)?)?.try_into().ok()?;
        let len =
            usize::try_from(u32::from_le_bytes(body.get(at.checked_add(4)?..at.checked_add(8)?)?.try_into().ok()?))
                .ok()?;
        let padded = len.checked_add(len % 2)?;
        let next = at.checked_add(8)?.checked_add(padded)?;
        // The last chunk's pad byte may be missing.
        let chunk = body.get(at..next.min(body.len()))?;
        if chunk.len() < len.checked_add(8)? {
            return None;
        }
        match &kind {
            b"EXIF" | b"XMP " => {}
            b"VP8X" => {
                let mut c = chunk.to_vec();
                if let Some(flags) = c.get_mut(8) {
                    *flags &= !(0x08 | 0x04);
                }
                chunks.extend_from_slice(&c);
            }
            _ => {
                image |= matches!(&kind, b"VP8 " | b"VP8L" | b"ANMF");
                chunks.extend_from_slice(chunk);
            }
        }
        if chunk.len() % 2 == 1 {
            chunks.push(0);
        }
        at = next;
    }
    if !image {
        return None;
    }
    let mut out = Vec::with_capacity(chunks.len().checked_add(12)?);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&u32::try_from(chunks.len().checked_add(4)?).ok()?.to_le_bytes());
    out.extend_from_slice(b"WEBP");
    out.extend_from_slice(&chunks);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A JPEG segment: marker, length, body.
    fn seg(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, marker];
        s.extend_from_slice(&u16::try_from(body.len() + 2).unwrap().to_be_bytes());
        s.extend_from_slice(body);
        s
    }

    /// An EXIF APP1 body: orientation `orientation` and a GPS IFD naming latitude 51° N.
    fn exif(orientation: u16) -> Vec<u8> {
        let mut t = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
        // IFD0: two entries (orientation, GPS IFD pointer), no next IFD.
        t.extend_from_slice(&2u16.to_be_bytes());
        t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        t.extend_from_slice(&orientation.to_be_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        // GPS IFD: GPSLatitudeRef "N" and a marker string to look for.
        t.extend_from_slice(&1u16.to_be_bytes());
        t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(b"GPS 51.5007 N -0.1246 W");
        t
    }

    /// A small baseline JPEG's structure: SOI, APP0, EXIF, XMP, a comment, DQT, SOF0, DHT, SOS
    /// with entropy data holding stuffed bytes and a restart, EOI, and a trailer.
    fn jpeg_file(orientation: u16) -> (Vec<u8>, Vec<u8>) {
        let app0 = seg(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
        let dqt = seg(0xDB, &[0u8; 65]);
        let sof = seg(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]);
        let dht = seg(0xC4, &[0u8; 29]);
        let sos = seg(0xDA, &[1, 1, 0, 0, 63, 0]);
        let data = [0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0x78];
        let icc = seg(0xE2, b"ICC_PROFILE\0\x01\x01profile");
        let mut file = vec![0xFF, 0xD8];
        for s in [
            &app0,
            &seg(0xE1, &exif(orientation)),
            &seg(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>"),
            &seg(0xFE, b"taken at home"),
            &icc,
            &seg(0xED, b"Photoshop 3.0\0IPTC"),
            &dqt,
            &sof,
            &dht,
            &sos,
        ] {
            file.extend_from_slice(s);
        }
        file.extend_from_slice(&data);
        file.extend_from_slice(&[0xFF, 0xD9]);
        file.extend_from_slice(b"trailing camera data");
        let mut clean = vec![0xFF, 0xD8];
        for s in [&app0, &icc, &dqt, &sof, &dht, &sos] {
            clean.extend_from_slice(s);
        }
        clean.extend_from_slice(&data);
        clean.extend_from_slice(&[0xFF, 0xD9]);
        (file, clean)
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_jpeg_loses_its_exif_gps_xmp_and_comments_and_keeps_its_picture() {
        let (file, clean) = jpeg_file(6);
        assert!(contains(&file, b"GPS 51.5007"));
        let out = strip_metadata("image/jpeg", &file).unwrap();
        assert_eq!(out, clean);
        for gone in [&b"GPS"[..], b"Exif", b"xmpmeta", b"taken at home", b"IPTC", b"trailing"] {
            assert!(!contains(&out, gone), "{}", String::from_utf8_lossy(gone));
        }
        assert_eq!(strip_metadata("IMAGE/JPEG ", &file).unwrap(), clean);
        // Stripping twice changes nothing more.
        assert_eq!(strip_metadata("image/jpeg", &out).unwrap(), clean);
    }

    #[test]
    fn a_jpegs_orientation_is_read_from_its_exif() {
        assert_eq!(jpeg_orientation(&jpeg_file(6).0), Some(6));
        assert_eq!(jpeg_orientation(&jpeg_file(1).0), Some(1));
        assert_eq!(jpeg_orientation(&jpeg_file(9).0), None);
        assert_eq!(jpeg_orientation(&jpeg_file(6).1), None);
        assert_eq!(jpeg_orientation(b"not a jpeg"), None);
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[1, 2, 3, 4]);
        c
    }

    #[test]
    fn a_png_keeps_what_it_is_drawn_with_and_loses_text_time_and_exif() {
        let keep = [
            chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]),
            chunk(b"gAMA", &[0, 0, 0xB1, 0x8F]),
            chunk(b"iCCP", b"icc\0\0zz"),
            chunk(b"pHYs", &[0; 9]),
            chunk(b"acTL", &[0; 8]),
            chunk(b"fcTL", &[0; 26]),
            chunk(b"IDAT", &[0x78, 0x9C, 1, 2, 3]),
            chunk(b"fdAT", &[0, 0, 0, 1, 4]),
            chunk(b"IEND", &[]),
        ];
        let drop = [
            chunk(b"tEXt", b"Author\0Ann"),
            chunk(b"zTXt", b"Comment\0\0xx"),
            chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<gps/>"),
            chunk(b"eXIf", b"MM\0\x2aGPS"),
            chunk(b"tIME", &[7, 0xE9, 1, 2, 3, 4, 5]),
            chunk(b"prVt", b"private"),
        ];
        let sig = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let mut file = sig.to_vec();
        let mut clean = sig.to_vec();
        for (i, k) in keep.iter().enumerate() {
            clean.extend_from_slice(k);
            file.extend_from_slice(k);
            if let Some(d) = drop.get(i) {
                file.extend_from_slice(d);
            }
        }
        file.extend_from_slice(b"after the end");
        assert_eq!(strip_metadata("image/png", &file).unwrap(), clean);
        // IHDR must come first; a cut file does not parse.
        assert_eq!(strip_metadata("image/png", file.get(..file.len() - 30).unwrap()), None);
        let mut no_ihdr = sig.to_vec();
        no_ihdr.extend_from_slice(&chunk(b"IEND", &[]));
        assert_eq!(strip_metadata("image/png", &no_ihdr), None);
    }

    #[test]
    fn a_gif_keeps_its_frames_and_looping_and_loses_comments_and_other_extensions() {
        let mut head = b"GIF89a\x01\0\x01\0\x80\0\0".to_vec();
        head.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
        let looping = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0".to_vec();
        let xmp = b"\x21\xff\x0bXMP DataXMP\x05<gps>\0".to_vec();
        let comment = b"\x21\xfe\x0cshot in Oslo\0".to_vec();
        let control = b"\x21\xf9\x04\x04\x0a\0\0\0".to_vec();
        let frame = b"\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0".to_vec();
        let file = [&head[..], &looping, &xmp, &comment, &control, &frame, &control, &frame, b"\x3b"].concat();
        let clean = [&head[..], &looping, &control, &frame, &control, &frame, b"\x3b"].concat();
        assert_eq!(strip_metadata("image/gif", &file).unwrap(), clean);
        assert_eq!(strip_metadata("image/gif", file.get(..file.len() - 1).unwrap()), None);
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body = chunks.concat();
        [&b"RIFF"[..], &u32::try_from(body.len() + 4).unwrap().to_le_bytes(), b"WEBP", &body].concat()
    }

    fn webp_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    #[test]
    fn a_webp_loses_its_exif_and_xmp_chunks_and_flags() {
        let vp8x = |flags: u8| webp_chunk(b"VP8X", &[flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let image = webp_chunk(b"VP8L", &[0x2F, 0, 0, 0, 0x10, 7, 0x10, 0x11, 0x11]);
        let icc = webp_chunk(b"ICCP", b"profile");
        let file = riff(&[
            vp8x(0x20 | 0x10 | 0x08 | 0x04),
            icc.clone(),
            image.clone(),
            webp_chunk(b"EXIF", b"MM\0\x2aGPS 51N"),
            webp_chunk(b"XMP ", b"<x:xmpmeta/>"),
        ]);
        let clean = riff(&[vp8x(0x20 | 0x10), icc, image]);
        assert_eq!(strip_metadata("image/webp", &file).unwrap(), clean);
        assert_eq!(strip_metadata("image/webp", &riff(&[vp8x(0)])), None);
    }

    #[test]
    fn other_types_and_bad_bytes_give_none_and_never_panic() {
        let (jpeg, _) = jpeg_file(1);
        assert_eq!(strip_metadata("image/heic", &jpeg), None);
        assert_eq!(strip_metadata("application/pdf", &jpeg), None);
        for t in PICTURE_TYPES {
            assert_eq!(strip_metadata(t, b""), None, "{t}");
            assert_eq!(strip_metadata(t, b"\xff\xd8\xff"), None, "{t}");
        }
        // Every cut and every single-byte change of each picture, under each type.
        let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff".to_vec();
        gif.extend_from_slice(b"\x21\xfe\x02hi\0\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0\x3b");
        let png = [
            &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
            &chunk(b"IHDR", &[0; 13]),
            &chunk(b"tEXt", b"a\0b"),
            &chunk(b"IEND", &[]),
        ]
        .concat();
        let webp = riff(&[webp_chunk(b"VP8 ", &[1, 2, 3]), webp_chunk(b"EXIF", b"x")]);
        for file in [jpeg, gif, png, webp] {
            for cut in 0..file.len() {
                for t in PICTURE_TYPES {
                    let _ = strip_metadata(t, file.get(..cut).unwrap());
                }
            }
            for i in 0..file.len() {
                for v in [0x00, 0x01, 0x7F, 0x80, 0xD9, 0xDA, 0xFE, 0xFF] {
                    let mut m = file.clone();
                    m[i] = v;
                    for t in PICTURE_TYPES {
                        let _ = strip_metadata(t, &m);
                    }
                    let _ = jpeg_orientation(&m);
                }
            }
        }
    }
}
