//! A QR code of the Session ID, drawn as SVG from the `qrcode` crate's module matrix.

use leptos::prelude::*;
use qrcode::Color;

/// A QR code ready to draw.
pub struct QrCode {
    width: usize,
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
                // One unit square per dark module, offset by the 4-module quiet zone.
                path.push_str(&format!("M{} {}h1v1h-1z", i % width + 4, i / width + 4));
            }
        }
        Some(QrCode { width, path })
    }

    /// The SVG element.
    pub fn view(self) -> impl IntoView {
        let size = self.width + 8;
        view! {
            <svg class="qr-code" viewBox=format!("0 0 {size} {size}") role="img" aria-label="QR code of your Session ID"
                 shape-rendering="crispEdges">
                <rect width=size.to_string() height=size.to_string() fill="#ffffff" />
                <path d=self.path fill="#000000" />
            </svg>
        }
    }
}
