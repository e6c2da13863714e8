//! Voice messages: a recording's PCM encoded to MP3, as Session Desktop sends them
//! (protocol-files §4.5: `audio/mp3`, file name `session-audio-message`, the voice flag set).
//!
//! The app never links this crate: it runs in a Web Worker (`voice-worker`, `src/main.rs`) that
//! the app starts only when a recording starts, so the encoder is not part of the page's first
//! download. The encoder is `rusty_mp3` (pure Rust, no dependencies).
//!
//! [`Recording`] takes mono `f32` samples as the browser captures them and gives the MP3 file;
//! [`layer3`] reads an MP3 file's frame headers back (the tests check what was produced with it).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic))]

use rusty_mp3::{Mp3Encoder, Mp3EncoderConfig};

/// The MIME type Session Desktop gives a voice message (sic: not `audio/mpeg`). Desktop and
/// Android both play it; Android's own `audio/mp4` is not what a browser can write everywhere.
pub const CONTENT_TYPE: &str = "audio/mp3";

/// The file name Session Desktop gives a voice message.
pub const FILE_NAME: &str = "session-audio-message";

/// The longest voice message, in seconds (Session Desktop's `MAX_VOICE_MESSAGE_DURATION`).
pub const MAX_SECONDS: u32 = 300;

/// The sample rate the app captures at (the browser resamples the microphone to it). MPEG-1
/// Layer III has 32, 44.1 and 48 kHz; 48 kHz is what most microphones deliver.
pub const SAMPLE_RATE: u32 = 48_000;

/// Constant bit rate, kbit/s. Mono speech needs less than Desktop's 128; 96 rather than 64 leaves
/// room for an encoder a little behind LAME (a voice-like signal's round trip: 24 dB SNR at 64,
/// 30 dB at 96, 33 dB at 128 — the `quality` test). A note of [`MAX_SECONDS`] is 3.6 MB, about a
/// third of the file server's limit.
pub const BITRATE_KBPS: u32 = 96;

/// The sample rates a recording may be made at (MPEG-1 Layer III's).
const RATES: [u32; 3] = [32_000, 44_100, 48_000];

/// Why a recording could not be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VoiceError {
    /// The sample rate is not one of MPEG-1 Layer III's (32, 44.1, 48 kHz).
    SampleRate(u32),
}

impl core::fmt::Display for VoiceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VoiceError::SampleRate(rate) => write!(f, "cannot encode audio sampled at {rate} Hz"),
        }
    }
}

impl std::error::Error for VoiceError {}

/// A recording being encoded: mono samples in, one MP3 file out.
pub struct Recording {
    encoder: Mp3Encoder,
    rate: u32,
    samples: u64,
    max_samples: u64,
}

impl core::fmt::Debug for Recording {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Recording").field("rate", &self.rate).field("samples", &self.samples).finish_non_exhaustive()
    }
}

impl Recording {
    /// A recording at `rate` Hz that keeps at most `max_seconds` (and never more than
    /// [`MAX_SECONDS`]) of what it is given.
    pub fn new(rate: u32, max_seconds: u32) -> Result<Recording, VoiceError> {
        if !RATES.contains(&rate) {
            return Err(VoiceError::SampleRate(rate));
        }
        let mut encoder = Mp3Encoder::new(Mp3EncoderConfig { bitrate_kbps: BITRATE_KBPS, vbr_quality: None });
        // An empty first push fixes the stream's header (rate, mono, bit rate).
        encoder.push_pcm_f32(&[], 1, rate).map_err(|_| VoiceError::SampleRate(rate))?;
        let max_samples = u64::from(max_seconds.min(MAX_SECONDS)) * u64::from(rate);
        Ok(Recording { encoder, rate, samples: 0, max_samples })
    }

    /// Adds mono samples in [-1, 1] (anything else is clamped; NaN is silence). Samples past the
    /// limit are dropped; whether the limit is reached.
    pub fn push(&mut self, pcm: &[f32]) -> bool {
        let room = usize::try_from(self.max_samples.saturating_sub(self.samples)).unwrap_or(usize::MAX);
        let (kept, _) = pcm.split_at(pcm.len().min(room));
        if !kept.is_empty() {
            // Cannot fail: the rate was checked, and only the first push can fail.
            let _ = self.encoder.push_pcm_f32(kept, 1, self.rate);
            self.samples += kept.len() as u64;
        }
        self.full()
    }

    /// Whether the recording holds as much as it may.
    pub fn full(&self) -> bool {
        self.samples >= self.max_samples
    }

    /// The length recorded so far, in milliseconds.
    pub fn millis(&self) -> u64 {
        self.samples * 1000 / u64::from(self.rate)
    }

    /// Ends the recording: the MP3 file (an Info frame, then the audio frames).
    pub fn finish(mut self) -> Vec<u8> {
        self.encoder.finish();
        let mut out = Vec::with_capacity(usize::try_from(self.millis() * u64::from(BITRATE_KBPS) / 8).unwrap_or(0));
        while let Ok(packet) = self.encoder.next_packet() {
            out.extend_from_slice(&packet);
        }
        out
    }
}

/// What the frame headers of an MP3 file say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layer3 {
    /// MPEG version: 1 or 2 (2.5 counts as 2).
    pub version: u8,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Channels (1 or 2).
    pub channels: u8,
    /// Frames, the Info/Xing frame included.
    pub frames: usize,
    /// Samples per channel in all frames (the Info frame's silence included).
    pub samples: u64,
    /// Bit rate of the first frame, kbit/s.
    pub kbps: u32,
}

impl Layer3 {
    /// The stream's length, milliseconds.
    pub fn millis(&self) -> u64 {
        self.samples * 1000 / u64::from(self.rate.max(1))
    }
}

/// Reads `bytes` as back-to-back MPEG Layer III frames (after an ID3v2 tag, if any): `None` if
/// anything is not a Layer III frame header of the same stream, or a frame is cut short.
pub fn layer3(bytes: &[u8]) -> Option<Layer3> {
    let mut at = id3_length(bytes);
    let mut stream: Option<Layer3> = None;
    while at < bytes.len() {
        let header: [u8; 4] = bytes.get(at..at + 4)?.try_into().ok()?;
        let frame = Frame::read(header)?;
        if at + frame.length > bytes.len() {
            return None;
        }
        let s = stream.get_or_insert(Layer3 {
            version: frame.version,
            rate: frame.rate,
            channels: frame.channels,
            frames: 0,
            samples: 0,
            kbps: frame.kbps,
        });
        if (s.version, s.rate, s.channels) != (frame.version, frame.rate, frame.channels) {
            return None;
        }
        s.frames += 1;
        s.samples += frame.samples;
        at += frame.length;
    }
    stream
}

/// The length of an ID3v2 tag at the start of `bytes` (0 without one).
fn id3_length(bytes: &[u8]) -> usize {
    match bytes.get(..10) {
        Some([b'I', b'D', b'3', _, _, _, a, b, c, d]) => {
            10 + [a, b, c, d].iter().fold(0usize, |n, &x| (n << 7) | usize::from(x & 0x7f))
        }
        _ => 0,
    }
}

/// One frame header.
struct Frame {
    version: u8,
    rate: u32,
    channels: u8,
    kbps: u32,
    samples: u64,
    length: usize,
}

impl Frame {
    fn read(h: [u8; 4]) -> Option<Frame> {
        // 11 bits of frame sync (0x7FF), then version (2 bits) and layer (2 bits: 01 = III).
        if h[0] != 0xff || h[1] & 0xe0 != 0xe0 || (h[1] >> 1) & 0b11 != 0b01 {
            return None;
        }
        let (version, rates, kbps_table, samples, slot_factor): (u8, [u32; 3], [u32; 15], u64, usize) =
            match (h[1] >> 3) & 0b11 {
                0b11 => (1, [44_100, 48_000, 32_000], V1_KBPS, 1152, 144),
                0b10 => (2, [22_050, 24_000, 16_000], V2_KBPS, 576, 72),
                0b00 => (2, [11_025, 12_000, 8_000], V2_KBPS, 576, 72),
                _ => return None,
            };
        let kbps = *kbps_table.get(usize::from(h[2] >> 4))?;
        let rate = *rates.get(usize::from((h[2] >> 2) & 0b11))?;
        if kbps == 0 {
            return None;
        }
        let padding = usize::from((h[2] >> 1) & 1);
        let length = slot_factor * kbps as usize * 1000 / rate as usize + padding;
        let channels = if h[3] >> 6 == 0b11 { 1 } else { 2 };
        Some(Frame { version, rate, channels, kbps, samples, length })
    }
}

/// Layer III bit rates by index (0 is "free format", refused here).
const V1_KBPS: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const V2_KBPS: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, seconds: f32, rate: u32) -> Vec<f32> {
        let n = (seconds * rate as f32) as usize;
        (0..n).map(|i| 0.5 * (2.0 * core::f32::consts::PI * freq * i as f32 / rate as f32).sin()).collect()
    }

    fn encode(pcm: &[f32], rate: u32, max_seconds: u32, chunk: usize) -> Vec<u8> {
        let mut recording = Recording::new(rate, max_seconds).unwrap();
        for part in pcm.chunks(chunk) {
            recording.push(part);
        }
        recording.finish()
    }

    #[test]
    fn a_three_second_sine_becomes_three_seconds_of_mpeg1_layer3_frames() {
        for rate in [44_100, 48_000] {
            let mp3 = encode(&sine(1000.0, 3.0, rate), rate, MAX_SECONDS, 4096);
            // Frame sync (11 bits set), MPEG-1, Layer III.
            assert_eq!(mp3[0], 0xff);
            assert_eq!(mp3[1] & 0xe0, 0xe0);
            assert_eq!((mp3[1] >> 3) & 0b11, 0b11, "MPEG-1");
            assert_eq!((mp3[1] >> 1) & 0b11, 0b01, "Layer III");
            let stream = layer3(&mp3).expect("back-to-back Layer III frames");
            assert_eq!((stream.version, stream.rate, stream.channels, stream.kbps), (1, rate, 1, BITRATE_KBPS));
            let ms = stream.millis() as f64;
            assert!((ms - 3000.0).abs() <= 150.0, "{ms} ms from the frames");
            // CBR: the size follows from the length.
            let expected = 3.0 * BITRATE_KBPS as f64 * 1000.0 / 8.0;
            assert!((mp3.len() as f64 - expected).abs() < expected * 0.1, "{} bytes", mp3.len());
        }
    }

    #[test]
    fn the_encoded_sine_decodes_back_to_a_sine() {
        let rate = 48_000;
        let pcm = sine(1000.0, 1.0, rate);
        let mp3 = encode(&pcm, rate, MAX_SECONDS, 128);
        let mut decoder = rusty_mp3::Mp3Decoder::new();
        decoder.push(&mp3);
        decoder.flush();
        let mut out = Vec::new();
        while let Ok(frame) = decoder.next_frame() {
            out.extend_from_slice(&frame.samples);
        }
        // The middle of the decoded signal: its energy is the sine's (amplitude 0.5: RMS 0.354),
        // and it crosses zero about 2,000 times a second.
        let middle = &out[out.len() / 4..out.len() * 3 / 4];
        let rms = (middle.iter().map(|s| s * s).sum::<f32>() / middle.len() as f32).sqrt();
        assert!((rms - 0.354).abs() < 0.04, "rms {rms}");
        let crossings = middle.windows(2).filter(|w| (w[0] < 0.0) != (w[1] < 0.0)).count();
        let per_second = crossings as f32 * rate as f32 / middle.len() as f32;
        assert!((per_second - 2000.0).abs() < 40.0, "{per_second} crossings a second");
    }

    #[test]
    fn the_limit_cuts_the_recording() {
        let rate = 48_000;
        let mut recording = Recording::new(rate, 2).unwrap();
        assert!(!recording.push(&sine(440.0, 1.5, rate)));
        assert!(recording.push(&sine(440.0, 1.5, rate)));
        assert_eq!(recording.millis(), 2000);
        assert!(recording.push(&sine(440.0, 1.0, rate)), "still full");
        let stream = layer3(&recording.finish()).unwrap();
        assert!((stream.millis() as i64 - 2000).abs() < 100, "{} ms", stream.millis());
    }

    #[test]
    fn the_limit_is_never_over_five_minutes() {
        let recording = Recording::new(48_000, 10_000).unwrap();
        assert_eq!(recording.max_samples, 300 * 48_000);
    }

    #[test]
    fn rates_outside_mpeg1_are_refused() {
        assert_eq!(Recording::new(22_050, 10).unwrap_err(), VoiceError::SampleRate(22_050));
        assert_eq!(Recording::new(96_000, 10).unwrap_err(), VoiceError::SampleRate(96_000));
    }

    #[test]
    fn hostile_samples_encode() {
        let pcm: Vec<f32> = (0..48_000).map(|i| [f32::NAN, f32::INFINITY, -1e30, 7.0][i % 4]).collect();
        assert!(layer3(&encode(&pcm, 48_000, 10, 1000)).is_some());
    }

    #[test]
    fn layer3_refuses_what_is_not_mp3() {
        assert_eq!(layer3(b""), None);
        assert_eq!(layer3(b"OggS\0\x02 not an mp3 at all"), None);
        let mp3 = encode(&sine(440.0, 0.5, 48_000), 48_000, 10, 4800);
        assert_eq!(layer3(&mp3[..mp3.len() - 1]), None, "cut short");
        let mut tagged = b"ID3\x04\0\0\0\0\0\x02xx".to_vec();
        tagged.extend_from_slice(&mp3);
        assert_eq!(layer3(&tagged), layer3(&mp3));
    }

    /// Signal-to-noise ratio after a round trip at 64, 96 and 128 kbit/s, of a voice-like signal
    /// (a 140 Hz glottal-like harmonic series with a slow vibrato and a little breath noise):
    /// `cargo test -p voice --release -- --ignored --nocapture`. A rough measure (SNR, not a
    /// perceptual one); the numbers are in ARCHITECTURE.md.
    #[test]
    #[ignore]
    fn quality() {
        let rate = 48_000u32;
        let mut noise = 0x2545_f491_u32;
        let pcm: Vec<f32> = (0..rate as usize * 5)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let f0 = 140.0 * (1.0 + 0.03 * (2.0 * core::f32::consts::PI * 5.0 * t).sin());
                let voiced: f32 =
                    (1..=25).map(|h| (2.0 * core::f32::consts::PI * f0 * h as f32 * t).sin() / h as f32).sum::<f32>();
                noise ^= noise << 13;
                noise ^= noise >> 17;
                noise ^= noise << 5;
                0.2 * voiced + 0.01 * (noise as f32 / u32::MAX as f32 - 0.5)
            })
            .collect();
        for kbps in [64, 96, 128] {
            let mut encoder = Mp3Encoder::new(Mp3EncoderConfig { bitrate_kbps: kbps, vbr_quality: None });
            encoder.push_pcm_f32(&pcm, 1, rate).unwrap();
            encoder.finish();
            let mut mp3 = Vec::new();
            while let Ok(p) = encoder.next_packet() {
                mp3.extend_from_slice(&p);
            }
            let mut decoder = rusty_mp3::Mp3Decoder::new();
            decoder.push(&mp3);
            decoder.flush();
            let mut out = Vec::new();
            while let Ok(frame) = decoder.next_frame() {
                out.extend_from_slice(&frame.samples);
            }
            // The best alignment within ±3,000 samples (the codec's delay), over the middle.
            let (from, len) = (rate as usize, rate as usize * 3);
            let snr = |lag: i64| {
                let (mut signal, mut error) = (0f64, 0f64);
                for (i, x) in pcm.iter().enumerate().skip(from).take(len) {
                    let j = i as i64 + lag;
                    let y = if j >= 0 { out.get(j as usize).copied().unwrap_or(0.0) } else { 0.0 };
                    signal += f64::from(*x).powi(2);
                    error += f64::from(x - y).powi(2);
                }
                10.0 * (signal / error.max(1e-20)).log10()
            };
            let best = (-3000..=3000).map(snr).fold(f64::MIN, f64::max);
            println!("{kbps} kbit/s: {} bytes for 5 s, SNR {best:.1} dB", mp3.len());
        }
    }

    /// The encoder's speed natively, in seconds of audio per second (`cargo test -p voice
    /// --release -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn speed() {
        let pcm = sine(440.0, 60.0, 48_000);
        let started = std::time::Instant::now();
        let mp3 = encode(&pcm, 48_000, MAX_SECONDS, 4096);
        let took = started.elapsed().as_secs_f64();
        println!("60 s in {took:.2} s: {:.0}× real time, {} bytes", 60.0 / took, mp3.len());
    }
}
