//! QR codes read from a frame of pixels: a camera's frame or a picture, as a canvas gives them
//! (RGBA, 8 bits a channel) or in shades of grey.
//!
//! The app does not link this crate: it runs in the scan worker (`src/main.rs`), which the app
//! starts when a scan starts, so the first download does not carry the decoder.

use std::fmt;

/// The longest side of a frame taken, in pixels (a canvas's frame is scaled down before).
pub const MAX_SIDE: usize = 4096;

/// How a frame's pixels are laid out, row by row from the top left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Red, green, blue and alpha, a byte each (what `getImageData` gives).
    Rgba,
    /// One byte of brightness a pixel, 0 black.
    Grey,
}

impl Layout {
    /// Bytes a pixel.
    fn bytes(self) -> usize {
        match self {
            Layout::Rgba => 4,
            Layout::Grey => 1,
        }
    }
}

/// Why a frame cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// It has no pixels.
    Empty,
    /// A side is longer than [`MAX_SIDE`].
    TooLarge,
    /// The pixels are not `width × height` of the layout.
    WrongLength {
        /// The bytes the size asks for.
        expected: usize,
        /// The bytes given.
        given: usize,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Empty => f.write_str("the frame has no pixels"),
            FrameError::TooLarge => write!(f, "a side of the frame is longer than {MAX_SIDE} pixels"),
            FrameError::WrongLength { expected, given } => {
                write!(f, "the frame's size asks for {expected} bytes, {given} were given")
            }
        }
    }
}

impl std::error::Error for FrameError {}

/// The text of the first QR code that reads in the frame, `None` if none does.
pub fn decode(width: usize, height: usize, layout: Layout, pixels: &[u8]) -> Result<Option<String>, FrameError> {
    if width == 0 || height == 0 {
        return Err(FrameError::Empty);
    }
    if width > MAX_SIDE || height > MAX_SIDE {
        return Err(FrameError::TooLarge);
    }
    // Both sides are at most 4096: no overflow.
    let expected = width * height * layout.bytes();
    if pixels.len() != expected {
        return Err(FrameError::WrongLength { expected, given: pixels.len() });
    }
    let grey = match layout {
        Layout::Grey => pixels.to_vec(),
        Layout::Rgba => pixels.chunks_exact(4).map(brightness).collect(),
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        grey.get(y * width + x).copied().unwrap_or(255)
    });
    Ok(image.detect_grids().iter().find_map(|grid| grid.decode().ok()).map(|(_, text)| text))
}

/// One RGBA pixel's brightness, seen on white (a transparent pixel of a picture is white paper).
fn brightness(pixel: &[u8]) -> u8 {
    let [r, g, b, a] = [0, 1, 2, 3].map(|i| u32::from(pixel.get(i).copied().unwrap_or(255)));
    // Rec. 601 luma in 8-bit fixed point (the weights sum to 256).
    let luma = (77 * r + 150 * g + 29 * b) >> 8;
    let seen = (luma * a + 255 * (255 - a)) / 255;
    u8::try_from(seen).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A room's URL, as the app's Share dialog draws it.
    const ROOM: &str =
        "http://127.0.0.1:22025/lobby?public_key=8e3d2ad9b9f2c3b6bda5a7c1e0d0b8b6b74f5d0c7b1a98dd3f6c2ee1a4b05c11";

    /// A small deterministic generator (xorshift), for noise.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u8 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 32) as u8
        }

        /// A byte in `low..=high`.
        fn between(&mut self, low: u8, high: u8) -> u8 {
            low + (u32::from(self.next()) * (u32::from(high - low) + 1) / 256) as u8
        }
    }

    /// Where the code sits in the frame.
    struct Placement {
        /// Pixels a module.
        scale: f64,
        /// Turned this many degrees about its centre.
        degrees: f64,
        /// Its centre.
        centre: (f64, f64),
    }

    /// A grey frame of `width × height` light noise with `text`'s code (drawn by the `qrcode`
    /// crate, with its 4-module quiet zone) placed in it, dark modules dark noise.
    fn frame(text: &str, width: usize, height: usize, at: &Placement, seed: u64) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let modules = code.width();
        let colors = code.to_colors();
        let side = (modules + 8) as f64;
        let mut noise = Noise(seed);
        let (sin, cos) = at.degrees.to_radians().sin_cos();
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            for x in 0..width {
                // The pixel's place in the code's own (unturned) modules.
                let (dx, dy) = (x as f64 + 0.5 - at.centre.0, y as f64 + 0.5 - at.centre.1);
                let u = (dx * cos + dy * sin) / at.scale + side / 2.0;
                let v = (-dx * sin + dy * cos) / at.scale + side / 2.0;
                let inside = (0.0..side).contains(&u) && (0.0..side).contains(&v);
                let dark = inside && {
                    let (mx, my) = (u as usize, v as usize);
                    (4..modules + 4).contains(&mx)
                        && (4..modules + 4).contains(&my)
                        && colors[(my - 4) * modules + (mx - 4)] == qrcode::Color::Dark
                };
                pixels.push(match (inside, dark) {
                    (_, true) => noise.between(0, 60),
                    (true, false) => noise.between(200, 255),
                    (false, _) => noise.between(90, 255),
                });
            }
        }
        pixels
    }

    /// `grey` as RGBA, tinted a little (a camera's frame is not grey).
    fn rgba(grey: &[u8]) -> Vec<u8> {
        grey.iter().flat_map(|&g| [g, g.saturating_sub(12), g.saturating_add(8), 255]).collect()
    }

    #[test]
    fn a_turned_code_in_a_noisy_camera_frame_reads() {
        for (degrees, seed) in [(0.0, 1), (12.0, 2), (33.0, 3), (90.0, 4), (205.0, 5)] {
            // Five pixels a module: at three or four, some angles' jagged edges defeat the decoder.
            let at = Placement { scale: 5.0, degrees, centre: (300.0, 250.0) };
            let pixels = rgba(&frame(ROOM, 640, 480, &at, seed));
            assert_eq!(decode(640, 480, Layout::Rgba, &pixels), Ok(Some(ROOM.to_owned())), "turned {degrees}°");
        }
    }

    #[test]
    fn a_grey_frame_reads_at_other_scales_and_places() {
        for (scale, centre) in [(3.0, (160.0, 150.0)), (5.5, (420.0, 260.0)), (9.0, (400.0, 300.0))] {
            let at = Placement { scale, degrees: 7.0, centre };
            let pixels = frame("a note, not a room", 800, 600, &at, 9);
            assert_eq!(decode(800, 600, Layout::Grey, &pixels), Ok(Some("a note, not a room".to_owned())));
        }
    }

    #[test]
    fn a_code_on_a_transparent_picture_reads_as_on_white() {
        let at = Placement { scale: 4.0, degrees: 0.0, centre: (200.0, 200.0) };
        let grey = frame(ROOM, 400, 400, &at, 11);
        // Dark modules stay black and opaque; everything else becomes transparent black.
        let pixels: Vec<u8> = grey.iter().flat_map(|&g| if g < 128 { [0, 0, 0, 255] } else { [0, 0, 0, 0] }).collect();
        assert_eq!(decode(400, 400, Layout::Rgba, &pixels), Ok(Some(ROOM.to_owned())));
    }

    #[test]
    fn a_frame_without_a_code_reads_none() {
        let mut noise = Noise(7);
        let pixels: Vec<u8> = (0..640 * 480).map(|_| noise.next()).collect();
        assert_eq!(decode(640, 480, Layout::Grey, &pixels), Ok(None));
        assert_eq!(decode(320, 240, Layout::Rgba, &vec![255; 320 * 240 * 4]), Ok(None));
        assert_eq!(decode(320, 240, Layout::Grey, &vec![0; 320 * 240]), Ok(None));
    }

    #[test]
    fn odd_sizes_and_wrong_lengths_are_errors_not_panics() {
        assert_eq!(decode(0, 10, Layout::Grey, &[]), Err(FrameError::Empty));
        assert_eq!(decode(10, 0, Layout::Rgba, &[]), Err(FrameError::Empty));
        assert_eq!(decode(MAX_SIDE + 1, 1, Layout::Grey, &[0; MAX_SIDE + 1]), Err(FrameError::TooLarge));
        assert_eq!(decode(usize::MAX, usize::MAX, Layout::Rgba, &[]), Err(FrameError::TooLarge));
        assert_eq!(decode(4, 4, Layout::Rgba, &[0; 63]), Err(FrameError::WrongLength { expected: 64, given: 63 }));
        assert_eq!(decode(4, 4, Layout::Grey, &[0; 64]), Err(FrameError::WrongLength { expected: 16, given: 64 }));
        for (w, h) in [(1, 1), (1, 7), (3, 5), (2, 2), (MAX_SIDE, 1), (1, MAX_SIDE), (17, 13)] {
            for layout in [Layout::Grey, Layout::Rgba] {
                let pixels = vec![128; w * h * layout.bytes()];
                assert_eq!(decode(w, h, layout, &pixels), Ok(None), "{w}×{h}");
            }
        }
        assert!(!FrameError::TooLarge.to_string().is_empty());
    }
}
