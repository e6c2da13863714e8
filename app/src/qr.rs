//! A QR code (of the Session ID, or of a community's URL), drawn as SVG from the `qrcode` crate's
//! module matrix.

use leptos::prelude::*;
use qrcode::Color;

use crate::i18n::{Text, t};

/// The light border around the code, in modules (the four the QR standard asks for).
const QUIET_ZONE: usize = 4;

/// A QR code ready to draw.
pub struct QrCode {
    /// Modules on a side, without the quiet zone.
    width: usize,
    /// The SVG path of the dark modules, in module units, the quiet zone included.
    path: String,
}

impl QrCode {
    /// The QR code of `text`, or `None` if it does not fit.
    pub fn new(text: &str) -> Option<QrCode> {
        let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
        let width = code.width();
        let mut path = String::new();
        for (i, color) in code.to_colors().into_iter().enumerate() {
            if color == Color::Dark {
                // One unit square per dark module, offset by the quiet zone.
                path.push_str(&format!("M{} {}h1v1h-1z", i % width + QUIET_ZONE, i / width + QUIET_ZONE));
            }
        }
        Some(QrCode { width, path })
    }

    /// Modules on a side of the drawing: the code and its quiet zone.
    fn size(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    /// The SVG element: the Session ID's code.
    pub fn view(self) -> impl IntoView {
        self.view_as(t(Text::CommonQrCode), None)
    }

    /// The SVG element, named `label`, with `test_id` as its `data-testid`.
    pub fn view_as(self, label: &'static str, test_id: Option<&'static str>) -> impl IntoView {
        let size = self.size();
        view! {
            <svg class="qr-code" viewBox=format!("0 0 {size} {size}") role="img" aria-label=label
                 shape-rendering="crispEdges" data-testid=test_id>
                <rect width=size.to_string() height=size.to_string() fill="#ffffff" />
                <path d=self.path fill="#000000" />
            </svg>
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    /// Pixels per module in the test rasterization.
    const SCALE: usize = 4;

    /// Paints what [`QrCode::view`] draws (a white square of `size()` modules, then the path's
    /// unit squares in black) into a grayscale image of `SCALE` pixels per module.
    fn rasterize(qr: &QrCode) -> (usize, Vec<u8>) {
        let side = qr.size() * SCALE;
        let mut pixels = vec![255u8; side * side];
        for square in qr.path.split('M').filter(|s| !s.is_empty()) {
            let (at, rest) = square.split_once('h').expect("each square is M<x> <y>h1v1h-1z");
            assert_eq!(rest, "1v1h-1z", "each square is one module");
            let (x, y) = at.split_once(' ').expect("M<x> <y>");
            let (x, y): (usize, usize) = (x.parse().unwrap(), y.parse().unwrap());
            assert!(x < qr.size() && y < qr.size(), "({x}, {y}) lies outside the drawing");
            for row in y * SCALE..(y + 1) * SCALE {
                pixels[row * side + x * SCALE..row * side + (x + 1) * SCALE].fill(0);
            }
        }
        (side, pixels)
    }

    /// Decodes every QR code found in the image.
    fn decode(side: usize, pixels: &[u8]) -> Vec<String> {
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
        image.detect_grids().into_iter().map(|grid| grid.decode().expect("the code decodes").1).collect()
    }

    #[test]
    fn the_drawn_code_reads_back_as_the_session_id() {
        for id in [
            "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818",
            "05d871fc80ca007eed9b2f4df72853e2a2d5465a92fcb1889fb5c84aa2833b3b40",
        ] {
            let qr = QrCode::new(id).expect("a Session ID fits in a QR code");
            let (side, pixels) = rasterize(&qr);
            assert_eq!(decode(side, &pixels), vec![id.to_owned()]);
        }
    }

    #[test]
    fn the_quiet_zone_is_light_and_a_damaged_drawing_does_not_read() {
        let id = "053db493811f729da20289e31498b8fe2b28edc90358cd3ec11a6b12ac1b9fb818";
        let qr = QrCode::new(id).unwrap();
        let (side, mut pixels) = rasterize(&qr);
        let border = QUIET_ZONE * SCALE;
        for y in 0..side {
            for x in 0..side {
                if x < border || y < border || x >= side - border || y >= side - border {
                    assert_eq!(pixels[y * side + x], 255, "quiet zone at ({x}, {y})");
                }
            }
        }
        // The checks above are worth something only if a wrong drawing fails them: without the
        // top-left finder pattern no code is found.
        for y in border..border + 7 * SCALE {
            pixels[y * side + border..y * side + border + 7 * SCALE].fill(255);
        }
        assert_eq!(decode(side, &pixels), Vec::<String>::new());
    }
}
